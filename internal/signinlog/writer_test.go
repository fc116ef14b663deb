package signinlog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore records batches; a record whose AppID is "poison" fails any
// batch it is in, like a constraint violation would.
type memStore struct {
	mu      sync.Mutex
	rows    map[string]SignIn
	batches [][]SignIn
	gate    chan struct{} // when set, each insert waits for a value
	// counters per credential id, advanced like the store's conditional update
	counters map[string]uint32
	nonces   map[string]bool // claimed challenges
}

func (m *memStore) InsertEntries(ctx context.Context, entries []Entry) ([]Refusal, error) {
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := make([]SignIn, len(entries))
	for i, e := range entries {
		if e.SignIn.AppID == "poison" {
			return nil, errors.New("constraint violation")
		}
		if e.SignIn.AppID == "panic" {
			panic("store bug")
		}
		recs[i] = e.SignIn
	}
	if m.counters == nil {
		m.counters = map[string]uint32{}
	}
	if m.nonces == nil {
		m.nonces = map[string]bool{}
	}
	refused := make([]Refusal, len(entries))
	m.batches = append(m.batches, recs)
	for i, e := range entries {
		if u := e.Use; u != nil {
			if c := u.Claim; c != nil {
				if m.nonces[string(c.Nonce)] {
					refused[i] = ClaimRefused
					continue
				}
				m.nonces[string(c.Nonce)] = true
			}
			stored, seen := m.counters[string(u.CredentialID)]
			if seen && !(stored < u.SignCount || (stored == 0 && u.SignCount == 0)) {
				refused[i] = NotAdvanced
				continue
			}
			m.counters[string(u.CredentialID)] = u.SignCount
		}
		m.rows[e.SignIn.ID] = e.SignIn
	}
	return refused, nil
}

func TestWriterIsolatesAFailingRecord(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
	w := NewBatchWriter(m, Options{})
	defer w.Close(context.Background())
	// Hold the first transaction so the next ones queue into one batch.
	errs := make([]error, 6)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = w.Write(context.Background(), SignIn{AppID: "first"}) })
	m.gate <- struct{}{} // first insert may run ...
	for i := 1; i < 6; i++ {
		app := "ok"
		if i == 3 {
			app = "poison"
		}
		wg.Go(func() { errs[i] = w.Write(context.Background(), SignIn{AppID: app}) })
	}
	time.Sleep(20 * time.Millisecond)
	close(m.gate) // ... and the rest freely
	wg.Wait()
	for i, err := range errs {
		if (i == 3) != (err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if len(m.rows) != 5 {
		t.Fatalf("rows: %d", len(m.rows))
	}
	if st := w.Stats(); st.Records != 5 || st.Failed != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestWriterCancelledWaitMayStillCommit(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
	w := NewBatchWriter(m, Options{})
	// The first writer leads and holds its transaction at the gate; the
	// second queues behind it and gives up waiting.
	led := make(chan error, 1)
	go func() { led <- w.Write(context.Background(), SignIn{}) }()
	waitFor(t, func() bool { return w.Stats().Transactions == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Write(ctx, SignIn{ID: "6f1c2a1e-0000-4000-8000-000000000001"}) }()
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.queue) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	close(m.gate)
	if err := <-led; err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.rows["6f1c2a1e-0000-4000-8000-000000000001"]; !ok {
		t.Fatal("a record already queued must still be committed after its writer gave up")
	}
	if err := w.Write(context.Background(), SignIn{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// A writer that finds the log idle commits its record on its own
// goroutine; records that queue meanwhile go out together in the next
// transaction, led by another goroutine.
func TestWriterLeaderCommitsWhatQueued(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
	w := NewBatchWriter(m, Options{})
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Write(context.Background(), SignIn{}) })
	waitFor(t, func() bool { return w.Stats().Transactions == 1 })
	for range 5 {
		wg.Go(func() { _ = w.Write(context.Background(), SignIn{}) })
	}
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.queue) == 5 })
	close(m.gate)
	wg.Wait()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Records != 6 || st.Transactions != 2 || st.LargestBatch != 5 {
		t.Fatalf("stats: %+v, want 6 records in 2 transactions", st)
	}
	if len(w.slots) != 0 {
		t.Fatalf("%d queue slots still taken", len(w.slots))
	}
}

// A Close while a transaction runs waits for it and for what queued.
func TestWriterCloseWaitsForQueued(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
	w := NewBatchWriter(m, Options{})
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Write(context.Background(), SignIn{}) })
	waitFor(t, func() bool { return w.Stats().Transactions == 1 })
	for range 2 {
		wg.Go(func() { _ = w.Write(context.Background(), SignIn{}) })
	}
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.queue) == 2 })
	closed := make(chan error, 1)
	go func() { closed <- w.Close(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close with a transaction held: %v", err)
	}
	close(m.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(m.rows) != 3 {
		t.Fatalf("rows: %d, want 3", len(m.rows))
	}
}

// A leader whose request is cancelled during its commit still reports the
// outcome: the record is committed, so the answer is nil, not "abandoned".
func TestWriterLeaderAnswersAfterCancel(t *testing.T) {
	for range 50 {
		m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
		w := NewBatchWriter(m, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Write(ctx, SignIn{}) }()
		waitFor(t, func() bool { return w.Stats().Transactions == 1 })
		cancel()
		close(m.gate)
		if err := <-done; err != nil {
			t.Fatalf("the leader's committed record reported as %v", err)
		}
		_ = w.Close(context.Background())
	}
}

// A store that panics fails its batch; the writer keeps committing.
func TestWriterSurvivesAStorePanic(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}}
	w := NewBatchWriter(m, Options{})
	if err := w.Write(context.Background(), SignIn{AppID: "panic"}); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("write into a panicking store: %v", err)
	}
	if err := w.Write(context.Background(), SignIn{}); err != nil {
		t.Fatalf("the next write: %v", err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
	}
}

func TestWriterRefusesMalformedRecords(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}}
	w := NewBatchWriter(m, Options{})
	defer w.Close(context.Background())
	for _, s := range []SignIn{{ID: "42"}, {UserID: "alice"}} {
		if err := w.Write(context.Background(), s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := w.Write(context.Background(), SignIn{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range m.rows {
		if r.ID == "" || r.CreatedDateTime.IsZero() || r.AuthenticationDetails == nil || r.AppliedConditionalAccessPolicies == nil {
			t.Fatalf("not normalised: %+v", r)
		}
	}
}

func TestWriterLingerBatchesArrivals(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}}
	w := NewBatchWriter(m, Options{MaxWait: 50 * time.Millisecond, IdleWait: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for range 2 { // two batches of company so the writer starts lingering
		for range 3 {
			wg.Go(func() { _ = w.Write(context.Background(), SignIn{}) })
		}
		wg.Wait()
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Records != 6 {
		t.Fatalf("stats: %+v", st)
	}
}

// writeUsesInOneBatch writes the uses concurrently while m's gate holds a
// first transaction, so they all queue into the batch that follows it,
// and returns each one's answer.
func writeUsesInOneBatch(w *BatchWriter, m *memStore, uses []*CredentialUse) []error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Write(context.Background(), SignIn{AppID: "first"}) })
	m.gate <- struct{}{} // the first transaction runs; the rest queue behind it
	errs := make([]error, len(uses))
	for i, u := range uses {
		wg.Go(func() { errs[i] = w.WriteUse(context.Background(), SignIn{AppID: "passkey"}, u) })
	}
	time.Sleep(20 * time.Millisecond)
	close(m.gate)
	wg.Wait()
	return errs
}

// Two uses of one credential queued into the same batch are committed in
// separate transactions, so each is judged against the counter the other
// left: the counter-0 pair both pass, the equal nonzero pair does not.
func TestWriterSplitsRepeatedCredentialUses(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
	w := NewBatchWriter(m, Options{})
	defer w.Close(context.Background())
	errs := writeUsesInOneBatch(w, m, []*CredentialUse{
		{CredentialID: []byte("synced"), SignCount: 0}, {CredentialID: []byte("synced"), SignCount: 0},
		{CredentialID: []byte("key"), SignCount: 7}, {CredentialID: []byte("key"), SignCount: 7},
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("counter-0 uses: %v, %v", errs[0], errs[1])
	}
	if (errs[2] == nil) == (errs[3] == nil) || !errors.Is(errors.Join(errs[2], errs[3]), ErrCounterNotAdvanced) {
		t.Fatalf("equal counters: want exactly one ErrCounterNotAdvanced, got %v, %v", errs[2], errs[3])
	}
	if len(m.rows) != 4 {
		t.Fatalf("rows: %d, want 4 (the refused use stores no record)", len(m.rows))
	}
	if st := w.Stats(); st.NotAdvanced != 1 || st.Batches < 3 {
		t.Fatalf("stats: %+v (want the repeated uses in later transactions)", st)
	}
}

// Two uses claiming one challenge (two passkeys answering the same
// discoverable challenge, or a replay) go to separate transactions, so
// the second finds the challenge taken: ErrClaimRefused, nothing stored.
func TestWriterSplitsRepeatedClaims(t *testing.T) {
	m := &memStore{rows: map[string]SignIn{}, gate: make(chan struct{})}
	w := NewBatchWriter(m, Options{})
	defer w.Close(context.Background())
	claim := &ChallengeClaim{Nonce: []byte("nonce")}
	errs := writeUsesInOneBatch(w, m, []*CredentialUse{{CredentialID: []byte("a"), Claim: claim}, {CredentialID: []byte("b"), Claim: claim}})
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs[0], errs[1]), ErrClaimRefused) {
		t.Fatalf("want exactly one ErrClaimRefused, got %v, %v", errs[0], errs[1])
	}
	if st := w.Stats(); st.ClaimsRefused != 1 || st.Batches < 3 || len(m.rows) != 2 {
		t.Fatalf("stats: %+v, %d rows (want the second claim in a later transaction, refused, and 2 rows)", st, len(m.rows))
	}
}
