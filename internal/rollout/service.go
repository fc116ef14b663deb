package rollout

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// Store reads a group's members with their passkeys, and their sign-ins'
// results under the given policies in [start, end) (internal/store).
type Store interface {
	RolloutFacts(ctx context.Context, groupID string, policyIDs []string, start, end time.Time) (Facts, error)
}

// Groups finds a group (directory.Store).
type Groups interface {
	GetGroup(ctx context.Context, id string) (directory.Group, error)
}

// Fido2Config reads the passkey method's configuration (methods.Service).
type Fido2Config interface {
	Fido2Config(ctx context.Context) (profiles.Fido2AuthenticationMethodConfiguration, bool, error)
}

// Policies lists Conditional Access policies (conditionalaccess.Service).
type Policies interface {
	ListPolicies(ctx context.Context, page directory.Page) ([]policy.ConditionalAccessPolicy, error)
}

// Service builds rollout reports.
type Service struct {
	Store    Store
	Groups   Groups
	Fido2    Fido2Config
	Policies Policies
}

// Report is the rollout view of group groupID over [start, end); zero
// times mean the last 7 days, as the impact report's window.
func (s *Service) Report(ctx context.Context, groupID string, start, end time.Time) (Report, error) {
	if err := directory.ValidateID(groupID); err != nil {
		return Report{}, err
	}
	start, end, err := signinlog.ImpactWindow(start, end, time.Now())
	if err != nil {
		return Report{}, err
	}
	g, err := s.Groups.GetGroup(ctx, groupID)
	if err != nil {
		return Report{}, err
	}
	cfg, configured, err := s.Fido2.Fido2Config(ctx)
	if err != nil {
		return Report{}, err
	}
	all, err := s.allPolicies(ctx)
	if err != nil {
		return Report{}, err
	}
	wave := WavePolicies(all, g.ID)
	ids := make([]string, len(wave))
	for i, p := range wave {
		ids[i] = p.ID
	}
	f, err := s.Store.RolloutFacts(ctx, g.ID, ids, start, end)
	if err != nil {
		return Report{}, err
	}
	return Build(Report{GroupID: g.ID, DisplayName: g.DisplayName, StartDateTime: start, EndDateTime: end}, cfg, configured, wave, f), nil
}

// allPolicies reads every page (Entra caps a tenant at 195 policies).
func (s *Service) allPolicies(ctx context.Context) ([]policy.ConditionalAccessPolicy, error) {
	var out []policy.ConditionalAccessPolicy
	p := directory.Page{Top: 999}
	for {
		page, err := s.Policies.ListPolicies(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < p.Top {
			return out, nil
		}
		p.After = page[len(page)-1].ID
	}
}
