// Package ratelimit limits failed attempts per client: a key (a client
// address) whose failures reach Max within Window is refused until the
// window has passed. Counting failures rather than requests keeps load
// tests and busy honest clients unaffected while guessing is cut off.
//
// An attempt is reserved before the expensive check it guards and settled
// after it, and a reservation is granted only while failures plus attempts
// in flight stay under Max: so 60 simultaneous wrong attempts from one
// address get at most Max checks, not 60. The count lives in the database
// (Store), so the limit holds across every server behind a load balancer.
// A client refused only because of attempts still in flight (a burst of
// honest concurrent requests, a load test from one address) waits briefly
// for them to settle instead of being refused outright.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeTooManyFailures is returned while a client is cooling down.
const CodeTooManyFailures = "tooManyFailedAttempts"

// Store counts attempts per key; implementations make Reserve atomic
// across processes.
type Store interface {
	// Reserve grants an attempt unless failures + attempts in flight reach
	// max in the window; refused, it reports the window and its failures.
	Reserve(ctx context.Context, key string, now time.Time, window time.Duration, max int) (granted bool, windowStart time.Time, failures int, err error)
	// Settle ends a granted attempt, counting it as a failure when failed.
	Settle(ctx context.Context, key string, windowStart time.Time, failed bool) error
}

// FailureLimiter limits failures per key in a fixed window.
type FailureLimiter struct {
	Store  Store
	Max    int
	Window time.Duration
	// MaxWait bounds how long a request waits for in-flight attempts of
	// its key to settle before it is refused.
	MaxWait time.Duration
	Now     func() time.Time

	settleOnce sync.Once
	settle     *settler // when Store is a BatchSettler
}

// New returns a limiter over store; max <= 0 disables it.
func New(store Store, max int, window time.Duration) *FailureLimiter {
	return &FailureLimiter{Store: store, Max: max, Window: window, MaxWait: 2 * time.Second, Now: time.Now}
}

// Reservation is a granted attempt; Done must be called once the attempt's
// outcome is known. A nil Reservation (limiter disabled) is valid.
type Reservation struct {
	l           *FailureLimiter
	key         string
	windowStart time.Time
}

// Reserve grants one attempt to key, or refuses with 429
// tooManyFailedAttempts once the key has failed Max times in the window.
func (l *FailureLimiter) Reserve(ctx context.Context, key string) (*Reservation, error) {
	if l == nil || l.Max <= 0 {
		return nil, nil
	}
	deadline := l.Now().Add(l.MaxWait)
	pause := 5 * time.Millisecond
	for {
		granted, start, failures, err := l.Store.Reserve(ctx, key, l.Now(), l.Window, l.Max)
		if err != nil {
			return nil, err
		}
		if granted {
			return &Reservation{l: l, key: key, windowStart: start}, nil
		}
		if failures >= l.Max || l.Now().Add(pause).After(deadline) {
			return nil, apperr.RateLimited(CodeTooManyFailures, "too many failed attempts from this client; try again after %s", start.Add(l.Window).UTC().Format(time.RFC3339))
		}
		// Refused only for attempts in flight: wait for them to settle.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		if pause < 100*time.Millisecond {
			pause *= 2
		}
	}
}

// Done settles the attempt; failed counts it against the key. It runs even
// when the request's context has ended, so an attempt never stays in flight.
func (r *Reservation) Done(ctx context.Context, failed bool) error {
	if r == nil {
		return nil
	}
	if st := r.l.settler(); st != nil {
		s := Settlement{Key: r.key, WindowStart: r.windowStart, Attempts: 1}
		if failed {
			s.Failures = 1
		}
		if st.enqueue(s) {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.l.Store.Settle(ctx, r.key, r.windowStart, failed)
}

func (l *FailureLimiter) settler() *settler {
	l.settleOnce.Do(func() {
		if bs, ok := l.Store.(BatchSettler); ok {
			l.settle = newSettler(bs)
		}
	})
	return l.settle
}

// Close applies the settlements still queued (server shutdown), so no
// attempt of this process stays in flight.
func (l *FailureLimiter) Close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if st := l.settler(); st != nil {
		return st.close(ctx)
	}
	return nil
}
