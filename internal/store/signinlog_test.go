package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/pgdev"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

func signIn(upn string) signinlog.SignIn {
	return signinlog.SignIn{ID: uuid.NewString(), UserID: uuid.NewString(), UserPrincipalName: upn, AppID: "portal",
		ConditionalAccessStatus: "success", AuthenticationMethodsUsed: []string{"Passkey (device-bound)"}}
}

func countRows(t testing.TB, dsn, table string) int {
	t.Helper()
	// A connection of its own, not the writer's pool: what it sees is committed.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func openDSN(t testing.TB) (*store.DB, string) {
	dsn := testpg.NewDatabase(t)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, dsn
}

func TestBatchWriterDurableOnReturn(t *testing.T) {
	db, dsn := openDSN(t)
	w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	defer w.Close(context.Background())
	s := signIn("alice@lab.example")
	if err := w.Write(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var upn string
	if err := conn.QueryRow(context.Background(), `SELECT record::jsonb->>'userPrincipalName' FROM signin_logs WHERE id = $1`, s.ID).Scan(&upn); err != nil || upn != s.UserPrincipalName {
		t.Fatalf("acknowledged record not visible to a fresh connection: %q %v", upn, err)
	}
}

func TestBatchWriterConcurrentWritesShareTransactions(t *testing.T) {
	db, dsn := openDSN(t)
	w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	const goroutines, each = 50, 10
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := w.Write(context.Background(), signIn(fmt.Sprintf("u%d-%d@lab.example", g, i))); err != nil {
					failures.Add(1)
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	t.Logf("%d records in %d transactions (largest batch %d)", st.Records, st.Transactions, st.LargestBatch)
	if n := countRows(t, dsn, "signin_logs"); n != goroutines*each || st.Records != goroutines*each {
		t.Fatalf("rows %d, acknowledged %d, want %d", n, st.Records, goroutines*each)
	}
	// Group commit: far fewer transactions than records.
	if st.Transactions > goroutines*each/4 {
		t.Fatalf("%d transactions for %d records: writes are not being batched", st.Transactions, goroutines*each)
	}
}

// gatedStore holds the first transaction until released, so records pile
// up in the queue behind it.
type gatedStore struct {
	inner   signinlog.BatchInserter
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedStore) InsertEntries(ctx context.Context, entries []signinlog.Entry) ([]signinlog.Refusal, error) {
	g.once.Do(func() { close(g.entered); <-g.release })
	return g.inner.InsertEntries(ctx, entries)
}

func TestBatchWriterCloseDrainsQueue(t *testing.T) {
	db, dsn := openDSN(t)
	gs := &gatedStore{inner: db.SignIns(), entered: make(chan struct{}), release: make(chan struct{})}
	w := signinlog.NewBatchWriter(gs, signinlog.Options{MaxBatch: 16})
	const writers = 100
	var acked, closed atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Write(context.Background(), signIn("first@lab.example")); err == nil {
			acked.Add(1)
		}
	})
	<-gs.entered // the flusher is now stuck in the first transaction
	for i := range writers {
		wg.Go(func() {
			switch err := w.Write(context.Background(), signIn(fmt.Sprintf("q%d@lab.example", i))); {
			case err == nil:
				acked.Add(1)
			case errors.Is(err, signinlog.ErrClosed):
				closed.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the writers queue
	closeDone := make(chan error, 1)
	go func() { closeDone <- w.Close(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	close(gs.release)
	if err := <-closeDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := countRows(t, dsn, "signin_logs"); int64(got) != acked.Load() || acked.Load()+closed.Load() != writers+1 {
		t.Fatalf("rows %d, acknowledged %d, refused after close %d", got, acked.Load(), closed.Load())
	}
	if acked.Load() < 2 {
		t.Fatalf("queued records were not drained: %d acknowledged", acked.Load())
	}
	if err := w.Write(context.Background(), signIn("late@lab.example")); !errors.Is(err, signinlog.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestBatchWriterEmergencySignInRaisesAlert(t *testing.T) {
	db, dsn := openDSN(t)
	w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	defer w.Close(context.Background())
	s := signIn("bg1@lab.example")
	s.IsEmergencyAccess, s.RaisesAlert = true, true
	if err := w.Write(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, dsn, "security_alerts"); n != 1 {
		t.Fatalf("alerts: %d", n)
	}
}

// BenchmarkSignInLogWrite compares, in one run, N goroutines writing through
// the group-commit writer with the same goroutines each committing their own
// one-record transaction. "fast" uses the test cluster (fsync off: only round
// trips differ); "durable" starts a cluster with fsync on, where each commit
// waits for a WAL flush, which is the case batching exists for. Set
// RPSERVER_BENCH_DURABLE=0 to skip it.
// benchWait sets the writer's MaxWait in the benchmark (BENCH_WAIT=2ms), to
// compare lingering with the default natural group commit.
var benchWait, _ = time.ParseDuration(os.Getenv("BENCH_WAIT"))

func BenchmarkSignInLogWrite(b *testing.B) {
	run := func(b *testing.B, dsn string) {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.Run("groupCommit", func(b *testing.B) {
			w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{MaxWait: benchWait})
			b.SetParallelism(16) // 16 x GOMAXPROCS concurrent sign-ins
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := w.Write(context.Background(), signIn("bench@lab.example")); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			_ = w.Close(context.Background())
			st := w.Stats()
			b.ReportMetric(float64(st.Records)/float64(max(st.Transactions, 1)), "records/tx")
		})
		b.Run("txPerRecord", func(b *testing.B) {
			s := db.SignIns()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := signIn("bench@lab.example")
					if err := signinlog.Normalize(&rec, time.Now()); err != nil {
						b.Error(err)
						return
					}
					if err := s.InsertSignIns(context.Background(), []signinlog.SignIn{rec}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	b.Run("fast", func(b *testing.B) { run(b, testpg.NewDatabase(b)) })
	b.Run("durable", func(b *testing.B) {
		if os.Getenv("RPSERVER_BENCH_DURABLE") == "0" {
			b.Skip("RPSERVER_BENCH_DURABLE=0")
		}
		dir := b.TempDir()
		srv, err := pgdev.Start(context.Background(), pgdev.Options{Dir: dir})
		if err != nil {
			b.Skipf("no durable cluster: %v", err)
		}
		defer srv.Stop()
		if _, _, err := store.Migrate(context.Background(), srv.DSN); err != nil {
			b.Fatal(err)
		}
		run(b, srv.DSN)
	})
}

// Sign-in records are compressed with lz4, in every partition, those made
// later included (migration 026: pglz cost ~15-20 us more per record).
func TestSignInRecordsAreLZ4Compressed(t *testing.T) {
	db, dsn := openDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT log_partition_create('signin_logs', 'created_date_time', (now() + interval '40 days')::date)`); err != nil {
		t.Fatal(err)
	}
	var others []string
	if err := conn.QueryRow(ctx, `SELECT COALESCE(array_agg(c.relname::text), '{}') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'record'
		WHERE i.inhparent = 'signin_logs'::regclass AND a.attcompression <> 'l'`).Scan(&others); err != nil || len(others) != 0 {
		t.Fatalf("partitions not set to lz4: %v %v", others, err)
	}
	w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	defer w.Close(ctx)
	s := signIn("lz4@lab.example")
	if err := w.Write(ctx, s); err != nil {
		t.Fatal(err)
	}
	var method *string
	if err := conn.QueryRow(ctx, `SELECT pg_column_compression(record) FROM signin_logs WHERE id = $1`, s.ID).Scan(&method); err != nil {
		t.Fatal(err)
	}
	if method != nil && *method != "lz4" {
		t.Fatalf("record compressed with %s", *method)
	}
}
