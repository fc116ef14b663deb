package signinlog

import (
	"context"
	"errors"
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
}

func (m *memStore) InsertSignIns(ctx context.Context, recs []SignIn) error {
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		if r.AppID == "poison" {
			return errors.New("constraint violation")
		}
	}
	m.batches = append(m.batches, recs)
	for _, r := range recs {
		m.rows[r.ID] = r
	}
	return nil
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Write(ctx, SignIn{ID: "6f1c2a1e-0000-4000-8000-000000000001"}) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	close(m.gate)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.rows["6f1c2a1e-0000-4000-8000-000000000001"]; !ok {
		t.Fatal("a record already queued must still be committed after its writer gave up")
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
