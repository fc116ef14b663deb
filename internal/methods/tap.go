package methods

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods/tap"
	"github.com/rpserver/rpserver/internal/secrethash"
)

// IssueTAP creates a user's Temporary Access Pass. The response carries the
// pass in clear; it is the only time it exists outside the caller's hands.
func (s *Service) IssueTAP(ctx context.Context, c Caller, userID string, req tap.CreateRequest) (tap.TemporaryAccessPassAuthenticationMethod, error) {
	var none tap.TemporaryAccessPassAuthenticationMethod
	if _, err := s.directory.Store.GetUser(ctx, userID); err != nil {
		return none, err
	}
	if err := s.mayManage(ctx, c, userID); err != nil {
		return none, err
	}
	cfg, err := s.TAPConfig(ctx)
	if err != nil {
		return none, err
	}
	groups, err := s.groups(ctx, userID)
	if err != nil {
		return none, err
	}
	rec, out, err := tap.Issue(cfg, tap.Subject{UserID: userID, GroupIDs: groups}, req, s.Now())
	if err != nil {
		return none, classify(err)
	}
	if err := s.taps.CreateTAP(ctx, rec); err != nil {
		return none, err
	}
	return out, nil
}

// ListTAPs returns the user's passes (zero or one) as Graph shows them.
func (s *Service) ListTAPs(ctx context.Context, userID string) ([]tap.TemporaryAccessPassAuthenticationMethod, error) {
	out := []tap.TemporaryAccessPassAuthenticationMethod{}
	if _, err := s.directory.Store.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	rec, err := s.taps.TAPOfUser(ctx, userID)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	g, err := s.view(ctx, rec)
	if err != nil {
		return nil, err
	}
	return append(out, g), nil
}

// GetTAP returns one pass by id.
func (s *Service) GetTAP(ctx context.Context, userID, id string) (tap.TemporaryAccessPassAuthenticationMethod, error) {
	if err := directory.ValidateID(id); err != nil {
		return tap.TemporaryAccessPassAuthenticationMethod{}, err
	}
	rec, err := s.taps.TAPOfUser(ctx, userID)
	if err == nil && rec.ID != id {
		err = apperr.NotFound(apperr.CodeNotFound, "no such temporaryAccessPassMethod")
	}
	if err != nil {
		return tap.TemporaryAccessPassAuthenticationMethod{}, err
	}
	return s.view(ctx, rec)
}

func (s *Service) view(ctx context.Context, rec tap.Record) (tap.TemporaryAccessPassAuthenticationMethod, error) {
	cfg, err := s.TAPConfig(ctx)
	if err != nil {
		return tap.TemporaryAccessPassAuthenticationMethod{}, err
	}
	groups, err := s.groups(ctx, rec.UserID)
	if err != nil {
		return tap.TemporaryAccessPassAuthenticationMethod{}, err
	}
	return rec.ToGraph(cfg, tap.Subject{UserID: rec.UserID, GroupIDs: groups}, s.Now()), nil
}

// DeleteTAP removes a user's pass.
func (s *Service) DeleteTAP(ctx context.Context, c Caller, userID, id string) error {
	if err := directory.ValidateID(id); err != nil {
		return err
	}
	if err := s.mayManage(ctx, c, userID); err != nil {
		return err
	}
	return s.taps.DeleteTAP(ctx, userID, id)
}

// Redeemed is a successful TAP sign-in.
type Redeemed struct {
	User directory.User
	Pass tap.Record

	subject tap.Subject // for re-checking usability when consuming
}

func errInvalidTAP() *apperr.Error {
	return apperr.Unauthenticated(CodeInvalidTAP, "the user name or Temporary Access Pass is not correct")
}

// VerifyTAP checks a Temporary Access Pass without using it up, so the
// sign-in flow can decide first whether the sign-in will complete: a
// one-time pass is never spent on a sign-in Conditional Access stops. Wrong
// pass, unknown user and a user without a pass all fail the same way,
// after the same argon2id work; reasons such as expiry are told only once
// the pass matched.
func (s *Service) VerifyTAP(ctx context.Context, upn, pass string) (Redeemed, error) {
	u, err := s.directory.Store.GetUserByUPN(ctx, upn)
	if err != nil {
		if e, ok := apperr.As(err); ok && (e.Kind == apperr.KindNotFound || e.Kind == apperr.KindInvalid) {
			if _, err := s.verify(ctx, "", pass); err != nil {
				return Redeemed{}, err
			}
			return Redeemed{}, errInvalidTAP()
		}
		return Redeemed{}, err
	}
	now := s.Now()
	n, windowStart, err := s.taps.ReserveTAPAttempt(ctx, u.ID, now, s.FailureWindow)
	if err != nil {
		return Redeemed{}, err
	}
	if s.MaxFailedAttempts > 0 && n > s.MaxFailedAttempts {
		return Redeemed{}, apperr.RateLimited(CodeTooManyAttempts, "too many failed Temporary Access Pass attempts for this user; try again after %s",
			windowStart.Add(s.FailureWindow).UTC().Format(time.RFC3339))
	}
	rec, err := s.taps.TAPOfUser(ctx, u.ID)
	hash := ""
	if err == nil {
		hash = rec.SecretHash
	} else if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound {
		return Redeemed{}, err
	}
	ok, err := s.verify(ctx, hash, pass)
	if err != nil {
		// Not a guess: the pass was never checked (server busy), so the
		// reserved attempt is handed back rather than counted against the user.
		if rerr := s.taps.ReleaseTAPAttempt(ctx, u.ID); rerr != nil {
			return Redeemed{}, rerr
		}
		return Redeemed{}, err
	}
	if !ok {
		return Redeemed{}, errInvalidTAP() // the reserved attempt stays counted
	}
	if err := s.taps.ReleaseTAPAttempt(ctx, u.ID); err != nil {
		return Redeemed{}, err
	}
	if !u.AccountEnabled {
		return Redeemed{}, apperr.Unauthenticated(CodeUserDisabled, "the account is disabled")
	}
	cfg, err := s.TAPConfig(ctx)
	if err != nil {
		return Redeemed{}, err
	}
	groups, err := s.groups(ctx, u.ID)
	if err != nil {
		return Redeemed{}, err
	}
	subject := tap.Subject{UserID: u.ID, GroupIDs: groups}
	now = s.Now()
	if ok, reason := rec.Usability(cfg, subject, now); !ok {
		return Redeemed{}, unusable(reason)
	}
	return Redeemed{User: u, Pass: rec, subject: subject}, nil
}

// ConsumeTAP uses a verified pass: a one-time pass is marked used by one
// conditional UPDATE, so of concurrent sign-ins with it exactly one
// succeeds.
func (s *Service) ConsumeTAP(ctx context.Context, v Redeemed) (Redeemed, error) {
	u, rec, subject := v.User, v.Pass, v.subject
	cfg, err := s.TAPConfig(ctx)
	if err != nil {
		return Redeemed{}, err
	}
	now := s.Now()
	used, ok, err := s.taps.RedeemTAP(ctx, rec.ID, now)
	if err != nil {
		return Redeemed{}, err
	}
	if !ok {
		// Someone else redeemed it first, it was deleted, or time moved on.
		cur, err := s.taps.TAPOfUser(ctx, u.ID)
		if err != nil || cur.ID != rec.ID {
			return Redeemed{}, errInvalidTAP()
		}
		if _, reason := cur.Usability(cfg, subject, s.Now()); reason != tap.ReasonEnabledByPolicy {
			return Redeemed{}, unusable(reason)
		}
		return Redeemed{}, unusable(tap.ReasonOneTimeUsed)
	}
	return Redeemed{User: u, Pass: used}, nil
}

// ReleaseTAP gives back a pass ConsumeTAP used when the sign-in it was used
// for did not complete after all (any error after the pass was used): a
// one-time pass is unused again, a multi-use pass gets its previous last
// use back. It runs on its own deadline, detached from the
// request, because the usual cause is the request's own deadline.
func (s *Service) ReleaseTAP(ctx context.Context, consumed, before Redeemed) error {
	if consumed.Pass.LastUsedDateTime == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return s.taps.UnredeemTAP(ctx, consumed.Pass.ID, *consumed.Pass.LastUsedDateTime, before.Pass.LastUsedDateTime)
}

func unusable(r tap.MethodUsabilityReason) error {
	switch r {
	case tap.ReasonExpired:
		return apperr.Unauthenticated(CodeTAPExpired, "the Temporary Access Pass has expired")
	case tap.ReasonNotYetValid:
		return apperr.Unauthenticated(CodeTAPNotYetValid, "the Temporary Access Pass is not valid yet")
	case tap.ReasonOneTimeUsed:
		return apperr.Unauthenticated(CodeTAPUsed, "the Temporary Access Pass can be used once and was already used")
	default:
		return apperr.Unauthenticated(CodeTAPDisabledByPolicy, "the Temporary Access Pass method is not enabled for this user")
	}
}

// verify runs argon2id in one of the process-wide hashing slots; an empty hash burns the same
// time against a dummy and fails. An error means the pass was not checked
// (no slot in time, or the request ended).
func (s *Service) verify(ctx context.Context, hash, pass string) (bool, error) {
	release, err := secrethash.Acquire(ctx)
	defer release()
	if err != nil {
		return false, err
	}
	if hash == "" {
		return tap.VerifyDummy(pass), nil
	}
	return tap.Verify(hash, pass), nil
}
