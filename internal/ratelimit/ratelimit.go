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
//
// Round trips: a reservation carries this process's settlements of the
// same key that are not stored yet (Claim.Settle), so a busy client's
// attempts are settled by its next reservation at no cost of their own;
// better still, an attempt of a key with a settled success not stored yet
// takes over that success's place in flight with no statement at all
// (settler.reuse: the store's counts stay as they were, so the bound is
// the same); so a busy honest client, a load test, costs the store about
// nothing while a key that only fails is decided by the store each time;
// and a hot path can make the reservation inside the statement that reads
// what its check needs (Attempt, Claim, Answer): the passkey sign-in
// reserves in the statement that takes its challenge.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeTooManyFailures is returned while a client is cooling down.
const CodeTooManyFailures = "tooManyFailedAttempts"

// Claim is one reservation as a store makes it: grant one attempt to Key
// unless its failures plus attempts in flight reach Max within the window
// (a window that is over starts afresh), applying Settle in the same
// atomic step when granted.
type Claim struct {
	Key    string
	Now    time.Time
	Window time.Duration
	Max    int
	// Settle is what this process settled of Key and has not stored yet
	// (Attempts 0: nothing). It is applied only with a grant; a refused
	// claim gives it back.
	Settle Settlement
}

// Grant is a store's answer to a Claim.
type Grant struct {
	Granted     bool
	WindowStart time.Time // of the granted attempt
	// Failures is the key's failure count when refused (it tells a client
	// that failed too often from one with too many attempts in flight).
	Failures int
}

// Store counts attempts per key; implementations make Reserve atomic
// across processes.
type Store interface {
	// Reserve decides c atomically (see Claim).
	Reserve(ctx context.Context, c Claim) (Grant, error)
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
	// SettleLinger is how long a key must be quiet (no settlement, no
	// settled success reused) before its settlements are stored on their
	// own (with a BatchSettler store; default 10ms); SettleMaxHold is the
	// longest any settlement stays unstored however busy its key (default
	// 1s, under MaxWait so that a reservation elsewhere waiting for these
	// attempts sees them settle). Until stored an attempt counts as in flight.
	SettleLinger  time.Duration
	SettleMaxHold time.Duration
	Now           func() time.Time

	settleOnce sync.Once
	settle     *settler // when Store is a BatchSettler
}

// The settler's defaults (FailureLimiter.SettleLinger, SettleMaxHold).
const (
	defaultSettleLinger  = 10 * time.Millisecond
	defaultSettleMaxHold = time.Second
)

// New returns a limiter over store; max <= 0 disables it.
func New(store Store, max int, window time.Duration) *FailureLimiter {
	return &FailureLimiter{Store: store, Max: max, Window: window, MaxWait: 2 * time.Second,
		SettleLinger: defaultSettleLinger, SettleMaxHold: defaultSettleMaxHold, Now: time.Now}
}

func (l *FailureLimiter) enabled() bool { return l != nil && l.Max > 0 }

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
	if !l.enabled() {
		return nil, nil
	}
	if r := l.recycle(key); r != nil {
		return r, nil
	}
	deadline := l.Now().Add(l.MaxWait)
	pause := 5 * time.Millisecond
	for {
		c := l.claim(key)
		g, err := l.Store.Reserve(ctx, c)
		if err != nil {
			l.giveBack(c)
			return nil, err
		}
		r, inFlight, err := l.answer(ctx, c, g)
		if r != nil || err != nil {
			return r, err
		}
		if !inFlight || l.Now().Add(pause).After(deadline) {
			return nil, refused(g.WindowStart, l.Window)
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

func refused(windowStart time.Time, window time.Duration) error {
	return apperr.RateLimited(CodeTooManyFailures, "too many failed attempts from this client; try again after %s", windowStart.Add(window).UTC().Format(time.RFC3339))
}

// recycle is a reservation of key from one of its settled successes this
// process has not stored yet (settler.reuse), or nil.
func (l *FailureLimiter) recycle(key string) *Reservation {
	st := l.settler()
	if st == nil {
		return nil
	}
	ws, ok := st.reuse(key, l.Now(), l.Window)
	if !ok {
		return nil
	}
	return &Reservation{l: l, key: key, windowStart: ws}
}

// claim builds a reservation of key carrying its unstored settlements.
func (l *FailureLimiter) claim(key string) Claim {
	c := Claim{Key: key, Now: l.Now(), Window: l.Window, Max: l.Max}
	if st := l.settler(); st != nil {
		c.Settle = st.take(key)
	}
	return c
}

// giveBack requeues the settlements of a claim that was not granted.
func (l *FailureLimiter) giveBack(c Claim) {
	if c.Settle.Attempts == 0 {
		return
	}
	if st := l.settler(); st == nil || !st.add(c.Settle) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.settleNow(ctx, c.Settle)
	}
}

// answer turns a store's grant into a reservation; refused, it gives the
// claim's settlements back, stores the key's settlements at once (so an
// attempt waiting for them does not wait for the linger) and reports
// whether only attempts in flight stood in the way.
func (l *FailureLimiter) answer(ctx context.Context, c Claim, g Grant) (r *Reservation, inFlight bool, err error) {
	if g.Granted {
		return &Reservation{l: l, key: c.Key, windowStart: g.WindowStart}, false, nil
	}
	l.giveBack(c)
	if st := l.settler(); st != nil {
		if s := st.take(c.Key); s.Attempts > 0 {
			if err := l.settleNow(ctx, s); err != nil {
				st.add(s)
				return nil, false, err
			}
		}
	}
	return nil, g.Failures < l.Max, nil
}

// settleNow stores one merged settlement.
func (l *FailureLimiter) settleNow(ctx context.Context, s Settlement) error {
	if bs, ok := l.Store.(BatchSettler); ok {
		return bs.SettleMany(ctx, []Settlement{s})
	}
	for i := 0; i < s.Attempts; i++ {
		if err := l.Store.Settle(ctx, s.Key, s.WindowStart, i < s.Failures); err != nil {
			return err
		}
	}
	return nil
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
		if st.add(s) {
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
			linger, hold := l.SettleLinger, l.SettleMaxHold
			if linger <= 0 {
				linger = defaultSettleLinger
			}
			if hold <= 0 {
				hold = defaultSettleMaxHold
			}
			l.settle = newSettler(bs, linger, hold)
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
