package methods

import (
	"context"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
)

// CodeMFARequiredToChangeMethods refuses a change to one's own methods from
// a session that did not prove multifactor authentication. The code's name
// predates the rule covering changes and removals as well as additions.
const CodeMFARequiredToChangeMethods = "mfaRequiredToRegisterMethod"

// SecondFactors reports whether a user holds a method that can serve as a
// second factor (a passkey, a verification-code app, a push app).
type SecondFactors func(ctx context.Context, userID string) (bool, error)

// AuthorizeOwnChange is the one rule for a user changing their own sign-in
// methods from a session: adding, renaming or removing any of them. A user
// who already holds a second factor must have signed in with multifactor
// authentication (a Temporary Access Pass counts, as in Entra), as Entra asks
// for MFA before security info changes. Otherwise a stolen password would be
// enough to remove the only second factor and then, the user having none
// left, enrol the thief's own authenticator. A user with no second factor may
// enrol their first with whatever got them in (a TAP being the intended way).
// amr is the session's list of methods used.
func (s *Service) AuthorizeOwnChange(ctx context.Context, userID string, amr []string) error {
	var used policy.ModeSet
	for _, m := range amr {
		if mode, ok := policy.ParseMode(m); ok {
			used = used.With(mode)
		}
	}
	if policy.IsMultifactor(used) {
		return nil
	}
	has, err := s.secondFactors(ctx, userID)
	if err != nil {
		return err
	}
	if !has {
		return nil
	}
	return apperr.Forbidden(CodeMFARequiredToChangeMethods, "you already have a second factor: sign in with multifactor authentication (or a Temporary Access Pass) before adding, changing or removing a method")
}
