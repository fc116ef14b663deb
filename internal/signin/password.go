package signin

import (
	"context"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/secrethash"
)

// Password checks the user's password as the first factor.
func (s *Service) Password(ctx context.Context, flowToken, password string) (Outcome, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return Outcome{}, err
	}
	hash, err := s.d.Factors.PasswordHash(ctx, f.UserID)
	if e, ok := apperr.As(err); err != nil && (!ok || e.Kind != apperr.KindNotFound) {
		return Outcome{}, err
	}
	ok, locked, err := s.checkGuess(ctx, f, policy.ModePassword, func() (bool, error) { return checkPassword(ctx, hash, password) })
	if err != nil {
		return locked, err
	}
	if !ok {
		return s.fail(ctx, f, policy.ModePassword, apperr.Unauthenticated(CodeInvalidPassword, "the password is incorrect"), errInvalidCredentials)
	}
	f.Steps = append(f.Steps, Step{Mode: policy.ModePassword, At: s.d.Now()})
	return s.advance(ctx, f)
}

// checkPassword runs argon2id (19 MiB) in one of the process-wide hashing
// slots; with no hash it spends the same time and fails, so timing does not
// tell which users have a password.
func checkPassword(ctx context.Context, hash, password string) (bool, error) {
	release, err := secrethash.Acquire(ctx)
	defer release()
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return false, err // serverBusy
		}
		return false, apperr.Unavailable("requestCancelled", "the request ended while waiting to check the password")
	}
	_, span := tracer.Start(ctx, "secrethash.Verify")
	defer span.End()
	if hash == "" {
		return secrethash.VerifyDummy(password), nil
	}
	return secrethash.Verify(hash, password), nil
}
