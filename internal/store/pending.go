package store

import (
	"sync"
	"time"
)

// pendingEstimate spares most sign-in begins the count of every pending
// anonymous challenge, which the total pending bound needs and which costs
// in proportion to their number (measured: +130 µs of PostgreSQL CPU per
// begin with 2,000 pending). The count is still exact whenever it can
// matter: a begin counts (in its own statement, no extra round trip) when
// the last count is older than pendingRecount, or when the estimate (the
// last count plus this process's begins since) has reached half the bound.
// Below half, the total could only be reached if other servers began more
// than half the bound's ceremonies within pendingRecount; takes and
// expiries only lower the true count, so the estimate errs high.
type pendingEstimate struct {
	mu      sync.Mutex
	counted int // the last count
	at      time.Time
	since   int // this process's anonymous begins since
}

// pendingRecount bounds the age of the count a begin may rely on.
const pendingRecount = 100 * time.Millisecond

// mustCount reports whether a begin under total has to count, and
// otherwise records it in the estimate.
func (p *pendingEstimate) mustCount(now time.Time, total int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.at) >= pendingRecount || 2*(p.counted+p.since) >= total {
		return true
	}
	p.since++
	return false
}

// saved records an anonymous challenge saved without consulting the
// estimate (SaveChallenge counts exactly itself).
func (p *pendingEstimate) saved() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.since++
}

// record records a count made at now (that begin included when saved).
func (p *pendingEstimate) record(now time.Time, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.After(p.at) {
		p.counted, p.at, p.since = n, now, 0
	}
}
