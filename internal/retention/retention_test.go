package retention_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/retention"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// clock is a settable time for the keeper.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func keeper(t *testing.T, db *store.DB, c *clock, signInDays, auditDays int) *retention.Keeper {
	t.Helper()
	k, err := retention.New(db.Partitions(), retention.Config{Now: c.Now, Logs: []retention.Log{
		{Table: store.SignInLog, Days: signInDays, Alerts: true},
		{Table: store.AuditLog, Days: auditDays},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func days(t *testing.T, db *store.DB, table string) []string {
	t.Helper()
	ds, err := db.Partitions().Days(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// insert writes sign-ins through the sign-in log writer's own store path.
func insert(t *testing.T, db *store.DB, at ...time.Time) []string {
	t.Helper()
	var recs []signinlog.SignIn
	var ids []string
	for _, a := range at {
		id := uuid.NewString()
		ids = append(ids, id)
		recs = append(recs, signinlog.SignIn{ID: id, CreatedDateTime: a, UserPrincipalName: "ava@lab.example", AppID: "portal"})
	}
	if err := db.SignIns().InsertSignIns(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return ids
}

// partitionOf says which partition holds sign-in id ("" when none does).
func partitionOf(t *testing.T, db *store.DB, id string) string {
	t.Helper()
	var name string
	err := db.Pool.QueryRow(context.Background(), `SELECT tableoid::regclass::text FROM signin_logs WHERE id = $1`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func notFound(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Kind == apperr.KindNotFound
}

func run(t *testing.T, k *retention.Keeper) {
	t.Helper()
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The whole life of a day: made ahead, rows from before its partition
// existed moved in from the DEFAULT partition, kept through the window,
// dropped once wholly older than it, while the rest stays listable.
func TestPartitionsMadeAheadAndDroppedBehind(t *testing.T) {
	db := testpg.Open(t)
	ctx := context.Background()
	c := &clock{t: date("2026-03-10T12:00:00Z")}
	k := keeper(t, db, c, 30, 7)
	run(t, k)
	want := []string{"2026-03-10", "2026-03-11", "2026-03-12"}
	if got := days(t, db, store.SignInLog); !slices.Equal(got, want) {
		t.Fatalf("sign-in log partitions %v, want today and two days ahead %v", got, want)
	}
	if got := days(t, db, store.AuditLog); !slices.Equal(got, want) {
		t.Fatalf("audit log partitions %v, want %v", got, want)
	}
	run(t, k) // a second pass (or a second server) changes nothing
	if got := days(t, db, store.SignInLog); !slices.Equal(got, want) {
		t.Fatalf("after a second pass: %v", got)
	}

	// now, 20 days ago (no partition: DEFAULT), 10 days ahead (beyond the
	// made-ahead range: DEFAULT), 40 days ago (past the window already).
	ids := insert(t, db, c.Now(), c.Now().Add(-20*24*time.Hour), c.Now().Add(10*24*time.Hour), c.Now().Add(-40*24*time.Hour))
	now, past, ahead, old := ids[0], ids[1], ids[2], ids[3]
	for id, p := range map[string]string{now: "signin_logs_p20260310", past: "signin_logs_default", ahead: "signin_logs_default", old: "signin_logs_default"} {
		if got := partitionOf(t, db, id); got != p {
			t.Fatalf("sign-in %s in %q, want %q", id, got, p)
		}
	}
	run(t, k)
	if got := partitionOf(t, db, past); got != "signin_logs_p20260218" {
		t.Fatalf("a row of a day inside the window waiting in DEFAULT is moved to its own day: in %q", got)
	}
	if got := partitionOf(t, db, ahead); got != "signin_logs_default" {
		t.Fatalf("a row beyond the made-ahead days waits in DEFAULT: in %q", got)
	}
	if _, err := db.SignIns().GetSignIn(ctx, old); !notFound(err) {
		t.Fatalf("a row older than the window is purged from DEFAULT: %v", err)
	}

	// 15 days on: the day 20+15 days back is past the window and dropped;
	// the row 10 days ahead is now 5 days back, in a day of its own.
	c.Set(c.Now().Add(15 * 24 * time.Hour))
	run(t, k)
	if _, err := db.SignIns().GetSignIn(ctx, past); !notFound(err) {
		t.Fatalf("the sign-in 35 days old is gone: %v", err)
	}
	for id, p := range map[string]string{now: "signin_logs_p20260310", ahead: "signin_logs_p20260320"} {
		if got := partitionOf(t, db, id); got != p {
			t.Fatalf("sign-in %s in %q, want %q", id, got, p)
		}
	}
	want = []string{"2026-03-10", "2026-03-11", "2026-03-12", "2026-03-20", "2026-03-25", "2026-03-26", "2026-03-27"}
	if got := days(t, db, store.SignInLog); !slices.Equal(got, want) {
		t.Fatalf("sign-in log partitions %v, want %v", got, want)
	}
	// The audit log keeps 7 days: its days of 03-10..03-12 are gone.
	if got := days(t, db, store.AuditLog); !slices.Equal(got, []string{"2026-03-25", "2026-03-26", "2026-03-27"}) {
		t.Fatalf("audit log partitions %v", got)
	}
	// The list still pages newest first across partitions and DEFAULT.
	got, err := db.SignIns().ListSignIns(ctx, signinlog.Filter{}, signinlog.Page{Top: 1})
	if err != nil || len(got) != 1 || got[0].ID != ahead {
		t.Fatalf("first page: %v %v", got, err)
	}
	got, err = db.SignIns().ListSignIns(ctx, signinlog.Filter{}, signinlog.Page{Top: 5, After: &signinlog.Cursor{CreatedDateTime: got[0].CreatedDateTime, ID: got[0].ID}})
	if err != nil || len(got) != 1 || got[0].ID != now {
		t.Fatalf("second page: %v %v", got, err)
	}
}

// A day is dropped only when all of it is older than the window: at the
// cutoff's exact instant, not a microsecond before.
func TestDropAtTheWindowsEdge(t *testing.T) {
	db := testpg.Open(t)
	c := &clock{t: date("2026-03-10T00:00:00Z")}
	k := keeper(t, db, c, 1, 1)
	run(t, k)
	last := insert(t, db, date("2026-03-10T23:59:59.999999Z"))[0]
	c.Set(date("2026-03-11T23:59:59.999999Z")) // the cutoff is 1µs before the day ends
	run(t, k)
	if got := partitionOf(t, db, last); got != "signin_logs_p20260310" {
		t.Fatalf("a day with a row inside the window is kept: %q", got)
	}
	c.Set(date("2026-03-12T00:00:00Z")) // the whole day is past now
	run(t, k)
	if got := partitionOf(t, db, last); got != "" {
		t.Fatalf("the day past the window is dropped: still in %q", got)
	}
	if got := days(t, db, store.SignInLog); !slices.Equal(got, []string{"2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14"}) {
		t.Fatalf("partitions %v", got)
	}
}

// An insert never fails for lack of a partition: dated past every made
// partition, at the range's last instant and its end, or far away, each
// row is stored (the batch is one statement: one failure would lose all).
func TestInsertBeyondTheMadeRangeIsKept(t *testing.T) {
	db := testpg.Open(t)
	c := &clock{t: date("2026-03-10T12:00:00Z")}
	run(t, keeper(t, db, c, 30, 30))
	ids := insert(t, db, date("2026-03-12T23:59:59.999999Z"), date("2026-03-13T00:00:00Z"), date("2031-01-01T00:00:00Z"), date("2026-03-10T00:00:00Z"))
	want := []string{"signin_logs_p20260312", "signin_logs_default", "signin_logs_default", "signin_logs_p20260310"}
	for i, id := range ids {
		if got := partitionOf(t, db, id); got != want[i] {
			t.Fatalf("row %d in %q, want %q", i, got, want[i])
		}
	}
	// A retried batch (same ids and times) is still a no-op, partitioned.
	recs := []signinlog.SignIn{{ID: ids[0], CreatedDateTime: date("2026-03-12T23:59:59.999999Z")}, {ID: ids[1], CreatedDateTime: date("2026-03-13T00:00:00Z")}}
	if err := db.SignIns().InsertSignIns(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signin_logs`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d rows after a retry, want 4 (%v)", n, err)
	}
	// With no partitions made at all (a first pass that failed), rows wait
	// in DEFAULT and the next pass gives them their day.
	db2 := testpg.Open(t)
	id := insert(t, db2, c.Now())[0]
	if got := partitionOf(t, db2, id); got != "signin_logs_default" {
		t.Fatalf("in %q", got)
	}
	run(t, keeper(t, db2, c, 30, 30))
	if got := partitionOf(t, db2, id); got != "signin_logs_p20260310" {
		t.Fatalf("in %q after a pass", got)
	}
}

// Servers on one database run passes at the same time: every pass
// succeeds and each day exists once.
func TestConcurrentPassesDoNotRace(t *testing.T) {
	dsn := testpg.NewDatabase(t)
	c := &clock{t: date("2026-03-10T12:00:00Z")}
	var dbs []*store.DB
	for range 4 {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		dbs = append(dbs, db)
	}
	// Days to drop as well as to make.
	c0 := &clock{t: date("2026-02-01T12:00:00Z")}
	run(t, keeper(t, dbs[0], c0, 30, 30))
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = keeper(t, db, c, 30, 30).Run(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	if got := days(t, dbs[0], store.SignInLog); !slices.Equal(got, []string{"2026-03-10", "2026-03-11", "2026-03-12"}) {
		t.Fatalf("partitions %v", got)
	}
}

// Resolved alerts go with the sign-in log's window; open ones stay.
func TestResolvedAlertsPurged(t *testing.T) {
	db := testpg.Open(t)
	ctx := context.Background()
	c := &clock{t: date("2026-03-10T12:00:00Z")}
	mk := func(at time.Time, status string) string {
		a := signinlog.AdminAlert(uuid.NewString(), "t", "d", signinlog.UserAccount{}, at)
		a.Status = status
		if err := db.SignIns().InsertAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	oldResolved, oldOpen, recentResolved := mk(c.Now().Add(-31*24*time.Hour), "resolved"), mk(c.Now().Add(-31*24*time.Hour), "new"), mk(c.Now().Add(-29*24*time.Hour), "resolved")
	run(t, keeper(t, db, c, 30, 30))
	if _, err := db.SignIns().GetAlert(ctx, oldResolved); !notFound(err) {
		t.Fatalf("old resolved alert kept: %v", err)
	}
	for _, id := range []string{oldOpen, recentResolved} {
		if _, err := db.SignIns().GetAlert(ctx, id); err != nil {
			t.Fatalf("alert %s: %v", id, err)
		}
	}
}

// Audit records are still written by the trigger in the change's own
// transaction, into today's partition, and listed.
func TestAuditRecordsLandInTodaysPartition(t *testing.T) {
	db := testpg.Open(t)
	c := &clock{t: time.Now()}
	run(t, keeper(t, db, c, 30, 30))
	ctx := audit.WithActor(context.Background(), audit.Actor{User: &audit.UserIdentity{ID: uuid.NewString(), UserPrincipalName: "admin@lab.example"}}, "req-1")
	u, err := db.Directory().CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "ava@lab.example", DisplayName: "Ava", AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	var part string
	if err := db.Pool.QueryRow(context.Background(), `SELECT tableoid::regclass::text FROM directory_audits WHERE target_id = $1`, u.ID).Scan(&part); err != nil {
		t.Fatal(err)
	}
	if want := "directory_audits_p" + time.Now().UTC().Format("20060102"); part != want {
		t.Fatalf("audit record in %q, want %q", part, want)
	}
	list, err := db.Audits().ListDirectoryAudits(context.Background(), audit.Filter{CorrelationID: "req-1"}, signinlog.Page{})
	if err != nil || len(list) != 1 || list[0].ActivityDisplayName != "Add user" {
		t.Fatalf("%+v %v", list, err)
	}
	if _, err := db.Audits().GetDirectoryAudit(context.Background(), list[0].ID); err != nil {
		t.Fatal(err)
	}
}

// The sign-in list's $filter on createdDateTime reads only the partitions
// of its range: the store's own statement (seen by a tracer) is explained.
func TestTimeFilterPrunesPartitions(t *testing.T) {
	dsn := testpg.NewDatabase(t)
	tr := &lastQuery{}
	db, err := store.OpenWith(context.Background(), dsn, store.Options{Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &clock{t: date("2026-03-10T12:00:00Z")}
	k := keeper(t, db, c, 30, 30)
	for d := 0; d < 5; d++ { // days 03-10 .. 03-19 made
		c.Set(date("2026-03-10T12:00:00Z").Add(time.Duration(2*d) * 24 * time.Hour))
		run(t, k)
	}
	insert(t, db, date("2026-03-14T10:00:00Z"), date("2026-03-15T10:00:00Z"), date("2026-03-18T10:00:00Z"))
	f := signinlog.Filter{From: date("2026-03-14T00:00:00Z"), To: date("2026-03-16T00:00:00Z"), ToExclusive: true}
	got, err := db.SignIns().ListSignIns(context.Background(), f, signinlog.Page{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d sign-ins, %v", len(got), err)
	}
	sql, args := tr.get()
	var plan []string
	rows, err := db.Pool.Query(context.Background(), "EXPLAIN (COSTS OFF) "+sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	t.Logf("%s\n%s", sql, text)
	for _, p := range []string{"signin_logs_p20260314", "signin_logs_p20260315"} {
		if !strings.Contains(text, p) {
			t.Errorf("plan does not read %s", p)
		}
	}
	for _, p := range []string{"signin_logs_p20260313", "signin_logs_p20260316", "signin_logs_p20260318", "signin_logs_default"} {
		if strings.Contains(text, p) {
			t.Errorf("plan reads %s, outside the filter", p)
		}
	}
}

type lastQuery struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (l *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FROM signin_logs") && strings.HasPrefix(d.SQL, "SELECT record") {
		l.mu.Lock()
		l.sql, l.args = d.SQL, d.Args
		l.mu.Unlock()
	}
	return ctx
}

func (l *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *lastQuery) get() (string, []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sql, l.args
}

func TestConfigRefusesBadWindows(t *testing.T) {
	for _, d := range []int{0, -1, retention.MaxDays + 1} {
		if _, err := retention.New(nil, retention.Config{Logs: []retention.Log{{Table: store.SignInLog, Days: d}}}); err == nil {
			t.Errorf("%d days accepted", d)
		}
	}
}

// Started, the keeper runs a pass every Interval by itself; after Close it
// runs none.
func TestStartRunsPassesUntilClose(t *testing.T) {
	db := testpg.Open(t)
	c := &clock{t: date("2026-03-10T12:00:00Z")}
	k, err := retention.New(db.Partitions(), retention.Config{Now: c.Now, Interval: 20 * time.Millisecond,
		Logs: []retention.Log{{Table: store.SignInLog, Days: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	k.Start()
	has := func(day string) bool { return slices.Contains(days(t, db, store.SignInLog), day) }
	deadline := time.Now().Add(20 * time.Second)
	for !has("2026-03-12") {
		if time.Now().After(deadline) {
			t.Fatal("no pass ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Set(date("2026-04-10T12:00:00Z"))
	for !has("2026-04-12") || has("2026-03-10") {
		if time.Now().After(deadline) {
			t.Fatalf("the next passes did not follow the clock: %v", days(t, db, store.SignInLog))
		}
		time.Sleep(10 * time.Millisecond)
	}
	k.Close()
	c.Set(date("2026-05-10T12:00:00Z"))
	time.Sleep(100 * time.Millisecond)
	if has("2026-05-10") {
		t.Fatal("a pass ran after Close")
	}
	k.Close()
}

// TestInsertDuringPartitionCreateSucceeds: an insert for the day being made
// was routed to DEFAULT, waited on the lock log_partition_create holds
// there, and failed when it committed (23514: DEFAULT's constraint now
// excludes the day), taking its sign-in, or the admin change whose audit row
// it was, with it. This is the catch-up case: the day has begun and DEFAULT
// holds rows for it. Inserts now wait at the parent and land in the new
// partition.
func TestInsertDuringPartitionCreateSucceeds(t *testing.T) {
	db := testpg.Open(t)
	ctx := context.Background()
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2) // no partition: rows go to DEFAULT
	insert(t, db, day.Add(time.Hour))                                // a waiting row, so the call moves something
	for _, table := range []string{"signin_logs", "directory_audits"} {
		t.Run(table, func(t *testing.T) {
			col := map[string]string{"signin_logs": "created_date_time", "directory_audits": "activity_date_time"}[table]
			tx, err := db.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `SELECT log_partition_create($1, $2, $3::date)`, table, col, day.Format(time.DateOnly)); err != nil {
				t.Fatal(err)
			}
			at := day.Add(2 * time.Hour)
			id := uuid.NewString()
			errc := make(chan error, 1)
			go func() {
				if table == "signin_logs" {
					errc <- db.SignIns().InsertSignIns(ctx, []signinlog.SignIn{{ID: id, CreatedDateTime: at, UserPrincipalName: "x@lab.example", AppID: "portal"}})
					return
				}
				_, err := db.Pool.Exec(ctx, `INSERT INTO directory_audits (id, activity_date_time, category, activity_display_name, operation_type, initiated_by, target_resources)
					VALUES ($1, $2, 'Policy', 'test', 'Update', '{}', '[]')`, id, at)
				errc <- err
			}()
			time.Sleep(300 * time.Millisecond) // the insert is now waiting on the call's locks
			select {
			case err := <-errc:
				t.Fatalf("the insert did not wait for the partition being made: %v", err)
			default:
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("insert for the day being made: %v", err)
			}
			var part string
			if err := db.Pool.QueryRow(ctx, `SELECT tableoid::regclass::text FROM `+table+` WHERE id = $1`, id).Scan(&part); err != nil {
				t.Fatal(err)
			}
			if want := table + "_p" + day.Format("20060102"); part != want {
				t.Fatalf("row in %s, want %s", part, want)
			}
		})
	}
}
