package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// BatchSettler is a Store that settles many attempts in one statement.
// With it, Done does not wait for the database: settlements queue and one
// goroutine applies whatever queued while the previous statement ran, so a
// busy client's attempts cost one reservation each and a shared fraction
// of one settle, and the answer is not held back by the settle's round
// trip. The bound is unaffected: until its settlement lands an attempt
// still counts as in flight, which only makes the limiter stricter for
// those milliseconds.
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

type settleKey struct {
	key   string
	start time.Time
}

// settler is the queue and the goroutine behind an asynchronous Done.
type settler struct {
	store BatchSettler
	queue chan Settlement
	done  chan struct{}

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
}

func newSettler(store BatchSettler) *settler {
	st := &settler{store: store, queue: make(chan Settlement, 4096), done: make(chan struct{})}
	go st.loop()
	return st
}

// enqueue hands a settlement to the goroutine; false when closed or full
// (the caller then settles synchronously).
func (st *settler) enqueue(s Settlement) bool {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.closed {
		return false
	}
	select {
	case st.queue <- s:
		return true
	default:
		return false
	}
}

func (st *settler) loop() {
	defer close(st.done)
	for {
		first, ok := <-st.queue
		if !ok {
			return
		}
		merged := map[settleKey]*Settlement{}
		var order []settleKey
		add := func(s Settlement) {
			k := settleKey{s.Key, s.WindowStart}
			if m, ok := merged[k]; ok {
				m.Attempts += s.Attempts
				m.Failures += s.Failures
				return
			}
			c := s
			merged[k] = &c
			order = append(order, k)
		}
		add(first)
	drain:
		for len(order) < 1024 {
			select {
			case s, ok := <-st.queue:
				if !ok {
					break drain
				}
				add(s)
			default:
				break drain
			}
		}
		batch := make([]Settlement, len(order))
		for i, k := range order {
			batch[i] = *merged[k]
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := st.store.SettleMany(ctx, batch); err != nil {
			slog.Warn("failure limiter: settling attempts failed; they stay in flight until their window ends", "keys", len(batch), "err", err)
		}
		cancel()
	}
}

// close stops accepting settlements and waits until the queued ones are
// applied, or ctx ends.
func (st *settler) close(ctx context.Context) error {
	st.mu.Lock()
	if !st.closed {
		st.closed = true
		close(st.queue)
	}
	st.mu.Unlock()
	select {
	case <-st.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
