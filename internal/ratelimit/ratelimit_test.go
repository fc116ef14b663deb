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

// batchStore settles in batches, as the database store does.
type batchStore struct {
	memStore
	batches int
}

func (b *batchStore) SettleMany(ctx context.Context, batch []Settlement) error {
	b.mu.Lock()
	b.batches++
	b.mu.Unlock()
	for _, s := range batch {
		for i := 0; i < s.Attempts; i++ {
			if err := b.Settle(ctx, s.Key, s.WindowStart, i < s.Failures); err != nil {
				return err
			}
		}
	}
	return nil
}

// With a batch-settling store Done does not wait for it; the bound still
// holds because an attempt counts as in flight until it is settled, and
// Close applies every queued settlement.
func TestBatchedSettlementsKeepTheBound(t *testing.T) {
	st := &batchStore{memStore: memStore{entries: map[string]*memEntry{}}}
	l := New(st, 3, time.Minute)
	l.MaxWait = 0
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		r, err := l.Reserve(ctx, "ip")
		if err != nil {
			t.Fatalf("reserve %d: %v", i, err)
		}
		if err := r.Done(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if e := st.entries["ip"]; e.failures != 3 || e.inFlight != 0 {
		t.Fatalf("after close: %+v", *e)
	}
	if _, err := l.Reserve(ctx, "ip"); err == nil {
		t.Fatal("a fourth attempt after three failures was granted")
	} else if e, ok := apperr.As(err); !ok || e.Code != CodeTooManyFailures {
		t.Fatalf("refusal: %v", err)
	}
	if st.batches == 0 || st.batches > 3 {
		t.Fatalf("batches: %d", st.batches)
	}
}
