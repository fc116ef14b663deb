package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

// memStore is the Store contract in memory, for the limiter's own logic;
// the database store is tested against PostgreSQL in internal/store.
type memStore struct {
	mu      sync.Mutex
	entries map[string]*memEntry
}

type memEntry struct {
	start              time.Time
	failures, inFlight int
}

func (m *memStore) Reserve(_ context.Context, key string, now time.Time, window time.Duration, max int) (bool, time.Time, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !now.Before(e.start.Add(window)) {
		m.entries[key] = &memEntry{start: now, inFlight: 1}
		return true, now, 0, nil
	}
	if e.failures+e.inFlight >= max {
		return false, e.start, e.failures, nil
	}
	e.inFlight++
	return true, e.start, 0, nil
}

func (m *memStore) Settle(_ context.Context, key string, start time.Time, failed bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && e.start.Equal(start) {
		e.inFlight--
		if failed {
			e.failures++
		}
	}
	return nil
}

func TestRefusesAfterMaxFailuresUntilWindowEnds(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(&memStore{entries: map[string]*memEntry{}}, 3, time.Minute)
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		r, err := l.Reserve(ctx, "ip")
		if err != nil {
			t.Fatalf("refused after %d failures: %v", i, err)
		}
		_ = r.Done(ctx, true)
	}
	if _, err := l.Reserve(ctx, "ip"); !isRateLimited(err) {
		t.Fatalf("not refused after 3 failures: %v", err)
	}
	if _, err := l.Reserve(ctx, "other"); err != nil {
		t.Fatal("keys must be independent")
	}
	now = now.Add(time.Minute)
	if _, err := l.Reserve(ctx, "ip"); err != nil {
		t.Fatalf("still refused after the window: %v", err)
	}
	if r, err := New(nil, 0, time.Minute).Reserve(ctx, "x"); r != nil || err != nil {
		t.Fatal("disabled limiter reserved")
	}
}

func TestSuccessesDoNotCount(t *testing.T) {
	l := New(&memStore{entries: map[string]*memEntry{}}, 2, time.Minute)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		r, err := l.Reserve(ctx, "ip")
		if err != nil {
			t.Fatalf("success %d refused: %v", i, err)
		}
		_ = r.Done(ctx, false)
	}
}

// TestInFlightWaitsRatherThanRefuses: a burst of honest attempts beyond
// Max waits for the first ones to settle.
func TestInFlightWaitsRatherThanRefuses(t *testing.T) {
	l := New(&memStore{entries: map[string]*memEntry{}}, 2, time.Minute)
	ctx := context.Background()
	a, _ := l.Reserve(ctx, "ip")
	b, _ := l.Reserve(ctx, "ip")
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = a.Done(ctx, false)
	}()
	c, err := l.Reserve(ctx, "ip")
	if err != nil {
		t.Fatalf("third attempt refused while the first was about to succeed: %v", err)
	}
	_ = b.Done(ctx, false)
	_ = c.Done(ctx, false)
}

func isRateLimited(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Kind == apperr.KindRateLimited && e.Code == CodeTooManyFailures
}
