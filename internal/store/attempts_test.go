package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/testpg"
)

// TestReserveIsAtomic: 60 simultaneous reservations for one key with a
// limit of 20 grant exactly 20, and settling them as failures keeps the key
// refused until the window ends.
func TestReserveIsAtomic(t *testing.T) {
	s := testpg.Open(t).Attempts()
	ctx := context.Background()
	now := time.Now()
	var granted atomic.Int32
	var wg sync.WaitGroup
	starts := make(chan time.Time, 60)
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, start, _, err := s.Reserve(ctx, "203.0.113.7", now, time.Minute, 20)
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
				starts <- start
			}
		}()
	}
	wg.Wait()
	close(starts)
	if granted.Load() != 20 {
		t.Fatalf("granted %d of 60, want 20", granted.Load())
	}
	for start := range starts {
		if err := s.Settle(ctx, "203.0.113.7", start, true); err != nil {
			t.Fatal(err)
		}
	}
	ok, _, failures, err := s.Reserve(ctx, "203.0.113.7", now.Add(time.Second), time.Minute, 20)
	if err != nil || ok || failures != 20 {
		t.Fatalf("after 20 failures: granted %v, failures %d, %v", ok, failures, err)
	}
	if ok, _, _, _ := s.Reserve(ctx, "203.0.113.7", now.Add(time.Minute), time.Minute, 20); !ok {
		t.Fatal("refused after the window")
	}
	if n, err := s.PurgeExpiredAttempts(ctx, now.Add(3*time.Minute), time.Minute); err != nil || n != 0 {
		t.Fatalf("purged %d with one in flight (%v)", n, err)
	}
}

// SettleMany applies the limiter's merged settlements in one statement.
func TestSettleManyInOneStatement(t *testing.T) {
	s := testpg.Open(t).Attempts()
	ctx := context.Background()
	now := time.Now()
	var start time.Time
	for i := 0; i < 5; i++ {
		ok, st, _, err := s.Reserve(ctx, "203.0.113.8", now, time.Minute, 20)
		if err != nil || !ok {
			t.Fatalf("reserve %d: %v %v", i, ok, err)
		}
		start = st
	}
	if _, _, _, err := s.Reserve(ctx, "203.0.113.9", now, time.Minute, 20); err != nil {
		t.Fatal(err)
	}
	err := s.SettleMany(ctx, []ratelimit.Settlement{
		{Key: "203.0.113.8", WindowStart: start, Attempts: 5, Failures: 2},
		{Key: "203.0.113.9", WindowStart: now.Add(-time.Hour), Attempts: 1, Failures: 1}, // a window since restarted: dropped
	})
	if err != nil {
		t.Fatal(err)
	}
	// 2 failures, nothing in flight: a limit of 3 grants exactly one more.
	if ok, _, _, _ := s.Reserve(ctx, "203.0.113.8", now, time.Minute, 3); !ok {
		t.Fatal("refused with 2 failures of 3")
	}
	if ok, _, failures, _ := s.Reserve(ctx, "203.0.113.8", now, time.Minute, 3); ok || failures != 2 {
		t.Fatalf("granted %v with failures %d", ok, failures)
	}
}
