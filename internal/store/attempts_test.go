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
			g, err := s.Reserve(ctx, claim("203.0.113.7", now, 20))
			if err != nil {
				t.Error(err)
			}
			if g.Granted {
				granted.Add(1)
				starts <- g.WindowStart
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
	g, err := s.Reserve(ctx, claim("203.0.113.7", now.Add(time.Second), 20))
	if err != nil || g.Granted || g.Failures != 20 {
		t.Fatalf("after 20 failures: %+v, %v", g, err)
	}
	if g, _ := s.Reserve(ctx, claim("203.0.113.7", now.Add(time.Minute), 20)); !g.Granted {
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
		g, err := s.Reserve(ctx, claim("203.0.113.8", now, 20))
		if err != nil || !g.Granted {
			t.Fatalf("reserve %d: %+v %v", i, g, err)
		}
		start = g.WindowStart
	}
	if _, err := s.Reserve(ctx, claim("203.0.113.9", now, 20)); err != nil {
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
	if g, _ := s.Reserve(ctx, claim("203.0.113.8", now, 3)); !g.Granted {
		t.Fatal("refused with 2 failures of 3")
	}
	if g, _ := s.Reserve(ctx, claim("203.0.113.8", now, 3)); g.Granted || g.Failures != 2 {
		t.Fatalf("granted with failures: %+v", g)
	}
}

func claim(key string, now time.Time, max int) ratelimit.Claim {
	return ratelimit.Claim{Key: key, Now: now, Window: time.Minute, Max: max}
}

// A reservation carries the client's unstored settlements: applied with
// the grant and part of its decision, dropped when their window restarted.
func TestReserveCarriesSettlements(t *testing.T) {
	s := testpg.Open(t).Attempts()
	ctx := context.Background()
	now := time.Now()
	key := "203.0.113.10"
	var start time.Time
	for i := 0; i < 3; i++ {
		g, err := s.Reserve(ctx, claim(key, now, 3))
		if err != nil || !g.Granted {
			t.Fatalf("reserve %d: %+v %v", i, g, err)
		}
		start = g.WindowStart
	}
	// Three in flight of three: refused, unless the claim settles them.
	if g, _ := s.Reserve(ctx, claim(key, now, 3)); g.Granted {
		t.Fatal("a fourth attempt with three in flight was granted")
	}
	c := claim(key, now, 3)
	c.Settle = ratelimit.Settlement{Key: key, WindowStart: start, Attempts: 3, Failures: 2}
	if g, err := s.Reserve(ctx, c); err != nil || !g.Granted {
		t.Fatalf("carrying three settled attempts (two failed): %+v %v", g, err)
	}
	// Now 2 failures + 1 in flight: full.
	if g, _ := s.Reserve(ctx, claim(key, now, 3)); g.Granted || g.Failures != 2 {
		t.Fatalf("after the carried settlements: %+v", g)
	}
	// A settlement of another window matches nothing.
	c.Settle.WindowStart = start.Add(-time.Hour)
	if g, _ := s.Reserve(ctx, c); g.Granted {
		t.Fatal("a settlement of a restarted window was applied")
	}
}
