package signin

import (
	"context"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/policy"
)

// TOTP checks a verification code from an authenticator app.
func (s *Service) TOTP(ctx context.Context, flowToken, code string) (Outcome, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return Outcome{}, err
	}
	if err := requirePrimary(f); err != nil {
		return Outcome{}, err
	}
	methods, err := s.d.Factors.ListTOTP(ctx, f.UserID)
	if err != nil {
		return Outcome{}, err
	}
	if len(methods) == 0 {
		return Outcome{}, apperr.Invalid(CodeNoSuchMethod, "the user has no verification-code (softwareOath) method")
	}
	now := s.d.Now()
	reused := false
	ok, locked, err := s.checkGuess(ctx, f, policy.ModeSoftwareOath, func() (bool, error) {
		for _, m := range methods {
			secret, err := s.d.Sealer.Open(m.SealedSecret, "totp:"+m.ID)
			if err != nil {
				return false, err
			}
			step, ok := totp.Verify(secret, code, now)
			if !ok {
				continue
			}
			fresh, err := s.d.Factors.UseTOTPStep(ctx, m.ID, step)
			reused = err == nil && !fresh
			return fresh, err
		}
		return false, nil
	})
	switch {
	case err != nil:
		return locked, err
	case reused:
		return s.fail(ctx, f, policy.ModeSoftwareOath, apperr.Unauthenticated(CodeCodeReused, "this code was already used; wait for the next one"), errMFAFailed)
	case !ok:
		return s.fail(ctx, f, policy.ModeSoftwareOath, apperr.Unauthenticated(CodeInvalidCode, "the verification code is incorrect or expired"), errMFAFailed)
	}
	f.Steps = append(f.Steps, Step{Mode: policy.ModeSoftwareOath, At: now})
	return s.advance(ctx, f)
}
