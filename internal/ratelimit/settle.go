package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// BatchSettler is a Store that settles many attempts in one statement.
// With it, Done does not wait for the database: a settlement waits in the
// process, merged with the others of its key, until the key's next
// reservation carries it (Claim.Settle: no statement of its own, which is
// what a busy client's attempts cost) or a new attempt of the key takes
// over a settled success's place (settler.reuse), or else until the key
// has been quiet for SettleLinger (no settlement came, none was reused),
// or at the latest SettleMaxHold after its oldest unstored settlement;
// then one goroutine stores whatever is due in one statement. The bound
// is unaffected: until its settlement is stored an attempt still counts
// as in flight, which only makes the limiter stricter meanwhile.
//
// Why quiet, not age: a busy key's unstored successes are what its next
// attempts reuse. Stored on age alone (10 ms after the first), a key busy
// at half the bench's load lost its pool about 30 times a second, and the
// attempts that came next each took a reservation of the store instead:
// 8-9% of that load's passkey sign-ins ran the take's statement rather
// than none, in the bursts that already made the tail (docs/performance.md).
// SettleMaxHold bounds what another server sharing the store sees of this
// one's pool: attempts in flight a little longer, which its reservations
// wait for (MaxWait) rather than being refused.
type BatchSettler interface {
	SettleMany(ctx context.Context, s []Settlement) error
}

// Settlement ends Attempts attempts of one key and window, Failures of
// which failed.
type Settlement struct {
	Key         string
	WindowStart time.Time
	Attempts    int
	Failures    int
}

// maxSettleBatch bounds one SettleMany.
const maxSettleBatch = 1024

type queuedSettlement struct {
	s       Settlement
	since   time.Time // when the key's first unstored settlement came
	touched time.Time // the key's last settlement or reuse
}

// settler holds the unstored settlements, one merged entry per key, and
// the goroutine that stores those no reservation carried in time.
type settler struct {
	store   BatchSettler
	linger  time.Duration // quiet time before a key's settlements are stored
	maxHold time.Duration // the longest any settlement stays unstored

	mu      sync.Mutex
	pending map[string]*queuedSettlement
	closed  bool

	wake    chan struct{} // a key got its first pending settlement
	closing chan struct{}
	done    chan struct{}
}

func newSettler(store BatchSettler, linger, maxHold time.Duration) *settler {
	st := &settler{store: store, linger: linger, maxHold: maxHold, pending: map[string]*queuedSettlement{},
		wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go st.loop()
	return st
}

// add merges s into its key's pending settlement; false once closed (the
// caller then settles synchronously). Settlements of an older window than
// the one pending are dropped, and a newer window replaces an older one:
// the database restarts a window only forward, and a settlement of a
// window it no longer holds matches nothing there.
func (st *settler) add(s Settlement) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return false
	}
	q, ok := st.pending[s.Key]
	now := time.Now()
	switch {
	case !ok:
		st.pending[s.Key] = &queuedSettlement{s: s, since: now, touched: now}
		select {
		case st.wake <- struct{}{}:
		default:
		}
	case s.WindowStart.Equal(q.s.WindowStart):
		q.s.Attempts += s.Attempts
		q.s.Failures += s.Failures
		q.touched = now
	case s.WindowStart.After(q.s.WindowStart):
		q.s, q.since, q.touched = s, now, now
	}
	return true
}

// take removes and returns key's pending settlement (Attempts 0: none),
// for a reservation to carry.
func (st *settler) take(key string) Settlement {
	st.mu.Lock()
	defer st.mu.Unlock()
	q, ok := st.pending[key]
	if !ok {
		return Settlement{}
	}
	delete(st.pending, key)
	return q.s
}

// reuse hands one of key's settled, successful attempts that is not stored
// yet to a new attempt of the same window, which then needs no reservation
// of its own: in the store that attempt never ended, so failures plus
// attempts in flight there are what they were, and the bound (at most Max
// failed checks per window, across every server) is untouched. Only a
// success's slot is reused: a failure must reach the store as one, and a
// key whose settled attempts all failed is decided by the store again.
// Nothing is reused in the window's last tenth: the store starts the next
// window by whichever server's clock runs ahead, and a failure settled
// into a window it no longer holds would not count.
func (st *settler) reuse(key string, now time.Time, window time.Duration) (windowStart time.Time, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	q, found := st.pending[key]
	if !found || q.s.Attempts <= q.s.Failures || !now.Before(q.s.WindowStart.Add(window-window/10)) {
		return time.Time{}, false
	}
	q.s.Attempts--
	if q.s.Attempts == 0 {
		delete(st.pending, key)
	} else {
		q.touched = time.Now()
	}
	return q.s.WindowStart, true
}

func (st *settler) loop() {
	defer close(st.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		due, next, finished := st.due()
		if finished {
			return
		}
		for len(due) > 0 {
			n := min(len(due), maxSettleBatch)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := st.store.SettleMany(ctx, due[:n]); err != nil {
				slog.Warn("failure limiter: settling attempts failed; they stay in flight until their window ends", "keys", n, "err", err)
			}
			cancel()
			due = due[n:]
		}
		if next < 0 {
			select {
			case <-st.wake:
			case <-st.closing:
			}
			continue
		}
		if next > 0 {
			timer.Reset(next)
			select {
			case <-timer.C:
			case <-st.closing:
				timer.Stop()
			}
		}
	}
}

// due takes the settlements of keys quiet for SettleLinger or held for
// SettleMaxHold (all of them once closing) and says how long until the
// next is due (-1: none pending); finished once closed and empty.
func (st *settler) due() (due []Settlement, next time.Duration, finished bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed && len(st.pending) == 0 {
		return nil, 0, true
	}
	next = -1
	now := time.Now()
	for k, q := range st.pending {
		wait := min(st.linger-now.Sub(q.touched), st.maxHold-now.Sub(q.since))
		if st.closed || wait <= 0 {
			due = append(due, q.s)
			delete(st.pending, k)
		} else if next < 0 || wait < next {
			next = wait
		}
	}
	if len(due) > 0 && next < 0 {
		next = 0 // look again before sleeping: more may have come meanwhile
	}
	return due, next, false
}

// close stops accepting settlements and waits until the pending ones are
// stored, or ctx ends.
func (st *settler) close(ctx context.Context) error {
	st.mu.Lock()
	if !st.closed {
		st.closed = true
		close(st.closing)
	}
	st.mu.Unlock()
	select {
	case <-st.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
