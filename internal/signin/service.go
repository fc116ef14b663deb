package signin

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/tokens"
)

// PolicySource gives the current compiled Conditional Access policies.
type PolicySource interface {
	Compiled(ctx context.Context) (*policy.CompiledPolicies, error)
}

// Directory finds users by name.
type Directory interface {
	UserIDByName(ctx context.Context, upn string) (string, error)
}

// DirectoryUsers adapts a directory lookup by UPN.
type DirectoryUsers struct {
	ByUPN func(ctx context.Context, upn string) (id string, err error)
}

func (d DirectoryUsers) UserIDByName(ctx context.Context, upn string) (string, error) {
	return d.ByUPN(ctx, upn)
}

// Deps are the collaborators of the service, all required except the
// defaulted settings (SessionTTL, FlowTTL, Now). The user's risk
// comes with the sign-in facts.
type Deps struct {
	Issuer  *tokens.Issuer
	Sealer  *tokens.Sealer
	Users   Directory
	Factors interface {
		FactorStore
		FactsStore
		GuessStore
	}
	Ceremony *ceremony.Service
	TAP      TAPRedeemer
	Policies PolicySource
	Log      signinlog.Writer
	// Campaign is the registration campaign; nil: no interrupt.
	Campaign CampaignSource
	// Preferences is systemCredentialPreferences; nil: every step-up
	// prompts the system-preferred method.
	Preferences PreferenceSource
	SessionTTL  time.Duration
	FlowTTL     time.Duration
	// Lockout is the smart lockout policy for password and verification
	// code guesses; zero: DefaultLockout.
	Lockout LockoutPolicy
	Now     func() time.Time
}

// Service runs sign-ins.
type Service struct {
	d Deps
	// fromCopies and claimsRefused count passkey sign-ins decided on this
	// server's copies (passkeyFromCopies) and those whose claim the commit
	// refused, which were then decided the long way.
	fromCopies, claimsRefused atomic.Int64
}

// PasskeyStats reports how many passkey sign-ins were decided on this
// server's copies without the take's round trip, whatever the decision (a
// block, a counter the commit found behind), and how many more the commit
// sent the long way (the facts, the policies or the challenge had moved
// on), which are not in the first count.
func (s *Service) PasskeyStats() (fromCopies, claimsRefused int64) {
	return s.fromCopies.Load(), s.claimsRefused.Load()
}

// New fills defaults.
func New(d Deps) *Service {
	if d.SessionTTL == 0 {
		d.SessionTTL = 8 * time.Hour
	}
	if d.Lockout.Threshold == 0 {
		d.Lockout = DefaultLockout
	}
	if d.FlowTTL == 0 {
		d.FlowTTL = 10 * time.Minute
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}
}
