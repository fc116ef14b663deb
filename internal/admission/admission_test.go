package admission

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

func TestLimiterAdmitsUpToCapacityThenRefuses(t *testing.T) {
	l := New(2, 0, 0, "test")
	r1, err1 := l.Acquire(context.Background())
	r2, err2 := l.Acquire(context.Background())
	if err1 != nil || err2 != nil {
		t.Fatalf("first two must be admitted: %v %v", err1, err2)
	}
	_, err := l.Acquire(context.Background())
	e, ok := apperr.As(err)
	if !ok || e.Code != CodeServerBusy || e.Kind != apperr.KindUnavailable {
		t.Fatalf("third: want serverBusy, got %v", err)
	}
	r1()
	r3, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatalf("after a release a slot is free: %v", err)
	}
	r2()
	r3()
	if a, r := l.Counts(); a != 3 || r != 1 {
		t.Fatalf("counts admitted=%d refused=%d, want 3 and 1", a, r)
	}
}

func TestLimiterWaitsBoundedForASlot(t *testing.T) {
	l := New(1, 0, 200*time.Millisecond, "test")
	rel, _ := l.Acquire(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); rel() }()
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatalf("a slot freed within the wait must be taken: %v", err)
	}
	start := time.Now()
	_, err := l.Acquire(context.Background())
	if err == nil {
		t.Fatal("no slot freed: must be refused")
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("refused after %v, before the wait", waited)
	}
}

func TestLimiterNeverExceedsCapacity(t *testing.T) {
	l := New(3, 0, 5*time.Millisecond, "test")
	var mu sync.Mutex
	inUse, most := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := l.Acquire(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			inUse++
			if inUse > most {
				most = inUse
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inUse--
			mu.Unlock()
			rel()
		}()
	}
	wg.Wait()
	if most > 3 {
		t.Fatalf("%d holders at once, capacity 3", most)
	}
}

func TestLimiterRefusesAtOnceWhenTheQueueIsFull(t *testing.T) {
	l := New(1, 1, time.Second, "test")
	rel, _ := l.Acquire(context.Background())
	defer rel()
	queued := make(chan error, 1)
	go func() { _, err := l.Acquire(context.Background()); queued <- err }()
	for l.waiting.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if _, err := l.Acquire(context.Background()); err == nil {
		t.Fatal("queue of one is full: must be refused")
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("a full queue must refuse at once, took %v", d)
	}
	rel()
	if err := <-queued; err != nil {
		t.Fatalf("the queued caller must get the released slot: %v", err)
	}
}
