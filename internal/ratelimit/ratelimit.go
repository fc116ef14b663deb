// Package ratelimit limits failed attempts: a key (a client address, a user)
// that fails Max times within Window is refused until the window has passed.
// Counting failures rather than requests keeps load tests and busy honest
// clients unaffected while guessing is cut off. State is per process; the
// TAP attempt limit, which must hold across servers, lives in the database.
package ratelimit

import (
	"sync"
	"time"
)

// FailureLimiter counts failures per key in a fixed window.
type FailureLimiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	swept   time.Time
}

type entry struct {
	count int
	start time.Time
}

// New returns a limiter; max <= 0 disables it.
func New(max int, window time.Duration) *FailureLimiter {
	return &FailureLimiter{Max: max, Window: window, Now: time.Now, entries: map[string]*entry{}}
}

// Blocked reports whether key has used up its failures, and until when.
func (l *FailureLimiter) Blocked(key string) (bool, time.Time) {
	if l == nil || l.Max <= 0 {
		return false, time.Time{}
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok || now.Sub(e.start) >= l.Window {
		return false, time.Time{}
	}
	return e.count >= l.Max, e.start.Add(l.Window)
}

// Fail records a failure for key.
func (l *FailureLimiter) Fail(key string) {
	if l == nil || l.Max <= 0 {
		return
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.Window {
		for k, e := range l.entries {
			if now.Sub(e.start) >= l.Window {
				delete(l.entries, k)
			}
		}
		l.swept = now
	}
	e, ok := l.entries[key]
	if !ok || now.Sub(e.start) >= l.Window {
		l.entries[key] = &entry{count: 1, start: now}
		return
	}
	e.count++
}
