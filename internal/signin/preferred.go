package signin

import (
	"context"
	"log/slog"

	"github.com/rpserver/rpserver/internal/methods/targeting"
	"github.com/rpserver/rpserver/internal/policy"
)

// PreferenceSource says whether a user gets the system-preferred
// multifactor prompt (Graph's systemCredentialPreferences; methods.Service,
// from its cached copy of the policy: no round trip).
type PreferenceSource interface {
	SystemPreferred(ctx context.Context, subject targeting.Subject) (bool, error)
}

// stepUpPrompt is the prompt of a step-up: Conditional Access's
// system-preferred choice, or, for a user systemCredentialPreferences
// leaves out, no choice at all: every useful method is offered and the
// user picks (the lab keeps no per-user default method to fall back on).
// A setting that cannot be read keeps the system-preferred prompt.
func (s *Service) stepUpPrompt(ctx context.Context, facts *Facts, p *policy.MethodChoice) *policy.MethodChoice {
	if p == nil || p.Method == "" || s.d.Preferences == nil {
		return p
	}
	ok, err := s.d.Preferences.SystemPreferred(ctx, targeting.Subject{UserID: facts.UserID, GroupIDs: facts.GroupIDs})
	if err != nil {
		slog.WarnContext(ctx, "system credential preferences unreadable; prompting the system-preferred method", "err", err)
		return p
	}
	if ok {
		return p
	}
	return userChooses(p)
}

// userChooses turns a system-preferred choice into the list the user
// chooses from, in system-preferred order.
func userChooses(p *policy.MethodChoice) *policy.MethodChoice {
	alts := make([]string, 0, len(p.Alternatives)+1)
	alts = append(alts, p.Method)
	for _, a := range p.Alternatives {
		if a != p.Method {
			alts = append(alts, a)
		}
	}
	return &policy.MethodChoice{Alternatives: alts, RegistrationRequired: p.RegistrationRequired}
}
