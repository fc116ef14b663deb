package ratelimit

import (
	"context"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Attempt is one request's attempt whose reservation rides in the store
// statement that starts its check, instead of a round trip of its own:
// the caller puts Claim into that statement and hands the store's grant
// to Answer before checking anything. The bound is the same as Reserve's:
// the claim is decided atomically in the database, before the check.
// A nil *Attempt (no limiter) is valid and reserves nothing.
type Attempt struct {
	l   *FailureLimiter
	key string
	res *Reservation
	// tried: a reservation was asked for (granted, refused or failed).
	tried bool
}

// Attempt starts an attempt of key; nil when the limiter is off.
func (l *FailureLimiter) Attempt(key string) *Attempt {
	if !l.enabled() {
		return nil
	}
	return &Attempt{l: l, key: key}
}

// Claim is the reservation for the caller's statement; ok is false when
// there is nothing to reserve (no limiter, already reserved, or reserved
// here from a settled success: FailureLimiter.recycle).
func (a *Attempt) Claim() (c Claim, ok bool) {
	if a == nil || a.tried {
		return Claim{}, false
	}
	a.tried = true
	if a.res = a.l.recycle(a.key); a.res != nil {
		return Claim{}, false // reserved already, from a settled success
	}
	return a.l.claim(a.key), true
}

// Recycle reserves the attempt in the process alone, from a settled
// success of its key not stored yet (FailureLimiter.recycle), and reports
// whether the attempt now needs no statement of its own: true with no
// limiter or when already reserved; false, leaving the attempt as it was,
// when only the store can decide it.
func (a *Attempt) Recycle() bool {
	if a == nil || a.res != nil {
		return true
	}
	if a.tried {
		return false
	}
	if a.res = a.l.recycle(a.key); a.res == nil {
		return false
	}
	a.tried = true
	return true
}

// Answer takes the store's grant for c: nil when granted. g is nil when
// the statement did not run (its error is the caller's to return): the
// claim's settlements go back and nothing is reserved. Refused because of
// attempts in flight, it waits for them as Reserve does (with statements
// of its own); refused for failures, it is 429 tooManyFailedAttempts.
func (a *Attempt) Answer(ctx context.Context, c Claim, g *Grant) error {
	if a == nil {
		return nil
	}
	if g == nil {
		a.l.giveBack(c)
		return nil
	}
	r, inFlight, err := a.l.answer(ctx, c, *g)
	switch {
	case err != nil:
		return err
	case r != nil:
		a.res = r
		return nil
	case !inFlight:
		return refused(g.WindowStart, a.l.Window)
	}
	a.res, err = a.l.Reserve(ctx, a.key)
	return err
}

// Reserve reserves with a statement of its own, for a request that fails
// before its statement (a malformed body): refused, it is the 429 the
// client would have had from the statement.
func (a *Attempt) Reserve(ctx context.Context) error {
	if a == nil || a.tried {
		return nil
	}
	a.tried = true
	var err error
	a.res, err = a.l.Reserve(ctx, a.key)
	return err
}

// Done settles the attempt; failed counts it against the key. A failure
// that came before any reservation (e.g. a bad flow token) still counts:
// it is reserved and settled as failed here.
func (a *Attempt) Done(ctx context.Context, failed bool) error {
	if a == nil {
		return nil
	}
	if a.res == nil && !a.tried && failed {
		if err := a.Reserve(context.WithoutCancel(ctx)); err != nil {
			if e, ok := apperr.As(err); ok && e.Code == CodeTooManyFailures {
				return nil // the key is over its limit already
			}
			return err
		}
	}
	return a.res.Done(ctx, failed)
}
