package ratelimit

import (
	"context"
	"math/rand"
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

func (m *memStore) Reserve(_ context.Context, c Claim) (Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[c.Key]
	if !ok || !c.Now.Before(e.start.Add(c.Window)) {
		m.entries[c.Key] = &memEntry{start: c.Now, inFlight: 1}
		return Grant{Granted: true, WindowStart: c.Now}, nil
	}
	failures, inFlight := e.failures, e.inFlight
	if e.start.Equal(c.Settle.WindowStart) {
		failures, inFlight = failures+c.Settle.Failures, max(inFlight-c.Settle.Attempts, 0)
	}
	if failures+inFlight >= c.Max {
		return Grant{WindowStart: e.start, Failures: e.failures}, nil
	}
	e.failures, e.inFlight = failures, inFlight+1
	return Grant{Granted: true, WindowStart: e.start}, nil
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

// A busy key's settlements ride its next reservation: no SettleMany of
// their own; an idle key's are stored after SettleLinger.
func TestSettlementsRideTheNextReservation(t *testing.T) {
	st := &batchStore{memStore: memStore{entries: map[string]*memEntry{}}}
	l := New(st, 3, time.Minute)
	l.SettleLinger = time.Hour
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		r, err := l.Reserve(ctx, "ip")
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		_ = r.Done(ctx, false)
	}
	st.mu.Lock()
	e, batches := *st.entries["ip"], st.batches
	st.mu.Unlock()
	if batches != 0 || e.inFlight != 1 {
		t.Fatalf("after 50 sequential attempts: %d SettleMany, %+v (want 0, the last one in flight)", batches, e)
	}
	l2 := New(st, 3, time.Minute)
	l2.SettleLinger = 5 * time.Millisecond
	r, _ := l2.Reserve(ctx, "idle")
	_ = r.Done(ctx, true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st.mu.Lock()
		e := *st.entries["idle"]
		st.mu.Unlock()
		if e.inFlight == 0 && e.failures == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an idle key's settlement was not stored: %+v", e)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = l.Close(ctx)
	_ = l2.Close(ctx)
}

// claimGrant answers an Attempt's claim as a caller's statement would, from
// the memory store.
func claimGrant(t *testing.T, m *memStore, c Claim) *Grant {
	g, err := m.Reserve(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return &g
}

// An Attempt's reservation made by the caller's statement holds the same
// bound; refused for failures it is 429, and a failure before any
// reservation still counts.
func TestAttemptReservedInTheCallersStatement(t *testing.T) {
	m := &memStore{entries: map[string]*memEntry{}}
	l := New(m, 2, time.Minute)
	l.MaxWait = 0
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		a := l.Attempt("ip")
		c, ok := a.Claim()
		if !ok {
			t.Fatal("no claim")
		}
		if err := a.Answer(ctx, c, claimGrant(t, m, c)); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if _, again := a.Claim(); again {
			t.Fatal("a second claim for one attempt")
		}
		_ = a.Done(ctx, true)
	}
	a := l.Attempt("ip")
	c, _ := a.Claim()
	if err := a.Answer(ctx, c, claimGrant(t, m, c)); !isRateLimited(err) {
		t.Fatalf("third attempt after two failures: %v", err)
	}
	// A failure before the statement (a bad body) is counted by Done.
	b := l.Attempt("other")
	_ = b.Done(ctx, true)
	if e := m.entries["other"]; e == nil || e.failures != 1 || e.inFlight != 0 {
		t.Fatalf("a failure before any reservation: %+v", e)
	}
	// A statement that did not run reserves nothing.
	d := l.Attempt("third")
	c, _ = d.Claim()
	if err := d.Answer(ctx, c, nil); err != nil || m.entries["third"] != nil {
		t.Fatalf("answer without a grant: %v %+v", err, m.entries["third"])
	}
	var none *Attempt
	if _, ok := none.Claim(); ok || none.Done(ctx, true) != nil || New(m, 0, time.Minute).Attempt("x") != nil {
		t.Fatal("a disabled limiter's attempt reserved")
	}
}

// countingStore counts the store's reservations.
type countingStore struct {
	batchStore
	reserves int
}

func (c *countingStore) Reserve(ctx context.Context, cl Claim) (Grant, error) {
	c.mu.Lock()
	c.reserves++
	c.mu.Unlock()
	return c.batchStore.Reserve(ctx, cl)
}

// A settled success not stored yet is taken over by the key's next
// attempt without a reservation of its own; a settled failure is not, and
// nothing is reused once its window is over.
func TestSettledSuccessIsReused(t *testing.T) {
	st := &countingStore{batchStore: batchStore{memStore: memStore{entries: map[string]*memEntry{}}}}
	now := time.Unix(1000, 0)
	l := New(st, 3, time.Minute)
	l.SettleLinger = time.Hour
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	defer l.Close(ctx)
	for i := 0; i < 20; i++ {
		a := l.Attempt("ip")
		c, ok := a.Claim()
		if ok {
			if err := a.Answer(ctx, c, claimGrant(t, &st.memStore, c)); err != nil {
				t.Fatal(err)
			}
		}
		if ok != (i == 0) {
			t.Fatalf("attempt %d: a claim for the store %v, want only the first", i, ok)
		}
		_ = a.Done(ctx, false)
	}
	r, err := l.Reserve(ctx, "ip")
	if err != nil || st.reserves != 0 {
		t.Fatalf("Reserve after a settled success: %v, %d store reservations (want 0)", err, st.reserves)
	}
	_ = r.Done(ctx, true)
	if _, err := l.Reserve(ctx, "ip"); err != nil || st.reserves != 1 {
		t.Fatalf("after a settled failure: %v, %d store reservations (want 1)", err, st.reserves)
	}
	st.mu.Lock()
	e := *st.entries["ip"]
	st.mu.Unlock()
	if e.failures != 1 || e.inFlight != 1 {
		t.Fatalf("the failure was not carried: %+v", e)
	}
	r, _ = l.Reserve(ctx, "other")
	_ = r.Done(ctx, false)
	now = now.Add(time.Minute)
	if _, err := l.Reserve(ctx, "other"); err != nil || st.reserves != 3 {
		t.Fatalf("a success of a window that is over: %v, %d store reservations (want 3)", err, st.reserves)
	}
}

// A busy key's settled successes stay unstored while the key is busy, for
// its next attempts to take over, however long that lasts up to
// SettleMaxHold; once the key is quiet for SettleLinger they are stored.
// (Stored 10 ms after the first, a key busy at half the bench's load lost
// them about 30 times a second, and its next attempts went to the store.)
func TestBusyKeyKeepsItsSettledSuccesses(t *testing.T) {
	ctx := context.Background()
	// busy runs attempts of "ip" two at a time, then one after another
	// for d, each a millisecond long: the key always has a settled success
	// unstored while the next attempt takes over the other.
	busy := func(l *FailureLimiter, d time.Duration) {
		var two [2]*Reservation
		for i := range two {
			r, err := l.Reserve(ctx, "ip")
			if err != nil {
				t.Fatal(err)
			}
			two[i] = r
		}
		for _, r := range two {
			_ = r.Done(ctx, false)
		}
		for end := time.Now().Add(d); time.Now().Before(end); {
			r, err := l.Reserve(ctx, "ip")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
			_ = r.Done(ctx, false)
		}
	}
	stored := func(st *countingStore) (batches, reserves int, e memEntry) {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.batches, st.reserves, *st.entries["ip"]
	}

	st := &countingStore{batchStore: batchStore{memStore: memStore{entries: map[string]*memEntry{}}}}
	l := New(st, 10, time.Hour)
	l.SettleLinger, l.SettleMaxHold = 300*time.Millisecond, time.Hour
	defer l.Close(ctx)
	busy(l, time.Second) // over three lingers
	if batches, reserves, _ := stored(st); batches != 0 || reserves != 2 {
		t.Fatalf("while busy: %d SettleMany, %d store reservations (want 0 and 2, the first two attempts)", batches, reserves)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if batches, _, e := stored(st); batches > 0 && e.inFlight == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a quiet key's settlements were not stored: %d SettleMany, %+v", batches, e)
		}
	}

	st2 := &countingStore{batchStore: batchStore{memStore: memStore{entries: map[string]*memEntry{}}}}
	l2 := New(st2, 10, time.Hour)
	l2.SettleLinger, l2.SettleMaxHold = time.Hour, 50*time.Millisecond
	defer l2.Close(ctx)
	busy(l2, 500*time.Millisecond)
	if batches, _, _ := stored(st2); batches == 0 {
		t.Fatal("a busy key's settlements were held beyond SettleMaxHold")
	}
}

// However attempts interleave, succeed or fail, and whether they reuse a
// settled success or ask the store, no more than Max of them fail within
// a window, and every attempt in flight is accounted for at the end.
func TestReuseKeepsTheBound(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		st := &batchStore{memStore: memStore{entries: map[string]*memEntry{}}}
		const max = 4
		l := New(st, max, time.Minute)
		l.MaxWait = 0
		l.SettleLinger = time.Hour
		ctx := context.Background()
		var open []*Reservation
		failed := 0
		for step := 0; step < 60; step++ {
			if len(open) > 0 && rng.Intn(2) == 0 {
				i := rng.Intn(len(open))
				fail := rng.Intn(3) == 0
				if fail {
					failed++
				}
				_ = open[i].Done(ctx, fail)
				open = append(open[:i], open[i+1:]...)
				continue
			}
			if r, err := l.Reserve(ctx, "ip"); err == nil {
				open = append(open, r)
			}
			if failed+len(open) > max {
				t.Fatalf("seed %d: %d failed and %d in flight, over %d", seed, failed, len(open), max)
			}
		}
		for _, r := range open {
			_ = r.Done(ctx, false)
		}
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if e := st.entries["ip"]; e.inFlight != 0 || e.failures != failed {
			t.Fatalf("seed %d: stored %+v, want 0 in flight and %d failures", seed, *e, failed)
		}
	}
}

// Recycle reserves from a settled success or leaves the attempt as it was,
// for the store to decide.
func TestAttemptRecycle(t *testing.T) {
	st := &countingStore{batchStore: batchStore{memStore: memStore{entries: map[string]*memEntry{}}}}
	l := New(st, 3, time.Minute)
	l.SettleLinger = time.Hour
	ctx := context.Background()
	defer l.Close(ctx)
	a := l.Attempt("ip")
	if a.Recycle() {
		t.Fatal("recycled with nothing settled")
	}
	c, ok := a.Claim()
	if !ok {
		t.Fatal("no claim after a refused recycle")
	}
	if err := a.Answer(ctx, c, claimGrant(t, &st.memStore, c)); err != nil {
		t.Fatal(err)
	}
	_ = a.Done(ctx, false)
	b := l.Attempt("ip")
	if !b.Recycle() {
		t.Fatal("no recycle of a settled success")
	}
	if !b.Recycle() {
		t.Fatal("a recycled attempt asks again")
	}
	if _, ok := b.Claim(); ok {
		t.Fatal("a recycled attempt still claims")
	}
	_ = b.Done(ctx, true)
	if l.Attempt("ip").Recycle() {
		t.Fatal("recycled a settled failure")
	}
	var none *Attempt
	if !none.Recycle() {
		t.Fatal("no limiter: nothing to reserve")
	}
}
