// Package admission sheds load before it queues. Past capacity a server that
// accepts every request makes every request slow (each waits behind all the
// others for the CPU, the pool and argon2), until clients time out and retry
// and nobody is served. A Limiter admits a bounded number of requests at a
// time; a request that cannot get a slot within a short wait is refused at
// once with 503 serverBusy and Retry-After, so admitted requests keep their
// latency and the refused ones can go to another server.
package admission

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeServerBusy is the stable code of a request refused for capacity.
const CodeServerBusy = "serverBusy"

// Limiter is a counting semaphore with a bounded wait.
type Limiter struct {
	slots    chan struct{}
	wait     time.Duration
	maxQueue int64
	what     string

	waiting, admitted, refused atomic.Int64
}

// New admits at most max holders at once. A caller that finds them all
// taken queues for at most wait (0: not at all), and only while fewer than
// maxQueue others are queued (0: any number): both bounds are needed, the
// wait so nobody queues longer than it is worth, the queue so a burst cannot
// pile up goroutines and memory behind the slots. what names the resource in
// the refusal message.
func New(max, maxQueue int, wait time.Duration, what string) *Limiter {
	if max < 1 {
		max = 1
	}
	return &Limiter{slots: make(chan struct{}, max), wait: wait, maxQueue: int64(maxQueue), what: what}
}

// Acquire takes a slot or refuses with serverBusy (KindUnavailable, so the
// HTTP layer answers 503 with Retry-After). Call release exactly once.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	return l.AcquireWithin(ctx, l.wait)
}

// AcquireWithin is Acquire with another bound on the wait, for callers
// whose requests deserve more patience (those completing work already begun).
func (l *Limiter) AcquireWithin(ctx context.Context, wait time.Duration) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		l.admitted.Add(1)
		return l.release, nil
	default:
	}
	if wait > 0 && l.joinQueue() {
		defer l.waiting.Add(-1)
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case l.slots <- struct{}{}:
			l.admitted.Add(1)
			return l.release, nil
		case <-ctx.Done():
			return func() {}, ctx.Err()
		case <-t.C:
		}
	}
	l.refused.Add(1)
	return func() {}, apperr.Unavailable(CodeServerBusy, "the server is at capacity (%s); retry shortly", l.what)
}

// joinQueue counts the caller as waiting unless the queue is full.
func (l *Limiter) joinQueue() bool {
	if n := l.waiting.Add(1); l.maxQueue > 0 && n > l.maxQueue {
		l.waiting.Add(-1)
		return false
	}
	return true
}

func (l *Limiter) release() { <-l.slots }

// InUse is how many slots are held now.
func (l *Limiter) InUse() int { return len(l.slots) }

// Capacity is the most slots that can be held at once.
func (l *Limiter) Capacity() int { return cap(l.slots) }

// Counts reports how many acquisitions were admitted and refused so far.
func (l *Limiter) Counts() (admitted, refused int64) { return l.admitted.Load(), l.refused.Load() }
