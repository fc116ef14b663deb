package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

// BenchmarkSignInLogInsertAt measures what the sign-in log writer's insert
// (SignIns.InsertEntries, one batch of 16 records: the group commit's
// typical size) costs with 0, 1M and (RPSERVER_BENCH_LOG_ROWS asks for it)
// 10M rows already in the partitioned log, spread over the 30 days of the
// default window, one partition per day, as a server at its retention
// window holds them. Reported per record: wall µs, the PostgreSQL backend's
// CPU µs (from /proc, the pool has one connection) and this process's CPU
// µs (getrusage). Sizes are measured in turn, RPSERVER_BENCH_LOG_ROUNDS
// rounds (3). Before measuring, it also times removing one day of the
// log both ways, DROP of its partition and DELETE of its rows by time with
// the VACUUM that reclaims them (the fill has two days more than the window
// for that), reported as drop-ms and delete-ms.
//
//	go test ./internal/store -run '^$' -bench SignInLogInsertAt -benchtime 2000x
//	RPSERVER_BENCH_LOG_ROWS=0,1000000,10000000 go test ./internal/store -run '^$' -bench SignInLogInsertAt -benchtime 2000x -timeout 60m
func BenchmarkSignInLogInsertAt(b *testing.B) {
	sizes := []int{0, 1_000_000}
	if v := os.Getenv("RPSERVER_BENCH_LOG_ROWS"); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 0 || n > 50_000_000 {
				b.Fatalf("RPSERVER_BENCH_LOG_ROWS: %q: want row counts up to 50000000, comma-separated", s)
			}
			sizes = append(sizes, n)
		}
	}
	rounds := 3
	if v := os.Getenv("RPSERVER_BENCH_LOG_ROUNDS"); v != "" {
		if r, err := strconv.Atoi(v); err == nil && r > 0 && r <= 20 {
			rounds = r
		}
	}
	// Every size is filled first, then measured in turn, round after
	// round, so a change in the machine's load falls on all of them.
	var logs []*filledLog
	for _, n := range sizes {
		logs = append(logs, fillLog(b, n))
	}
	for r := 1; r <= rounds; r++ {
		for i, n := range sizes {
			f := logs[i]
			b.Run(fmt.Sprintf("rows=%d,round=%d", n, r), func(b *testing.B) { f.measure(b, n > 0) })
		}
	}
}

func (f *filledLog) measure(b *testing.B, removal bool) {
	ctx := context.Background()
	batch := make([]signinlog.SignIn, 16)
	pg0, go0, t0 := f.backendCPU(b), processCPU(), time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := time.Now()
		for j := range batch {
			batch[j] = benchSignIn(now, i*16+j)
		}
		if err := f.db.SignIns().InsertSignIns(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	records := float64(b.N * len(batch))
	b.ReportMetric(float64(time.Since(t0).Microseconds())/records, "µs/record")
	b.ReportMetric(float64(f.backendCPU(b)-pg0)/1e3/records, "pg-cpu-µs/record")
	b.ReportMetric(float64(processCPU()-go0)/1e3/records, "go-cpu-µs/record")
	if removal {
		b.ReportMetric(f.dropMS, "drop-ms")
		b.ReportMetric(f.deleteMS, "delete-ms")
	}
}

type filledLog struct {
	db               *store.DB
	pid              int
	dropMS, deleteMS float64
}

// fillLog makes a database whose sign-in log holds n rows over the last 30
// days (plus two older days, removed again to time DROP and DELETE), each
// day in its partition, with one INSERT ... SELECT generate_series per
// million rows.
func fillLog(b *testing.B, n int) *filledLog {
	b.Helper()
	ctx := context.Background()
	dsn := testpg.NewDatabase(b)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := store.Open(ctx, dsn+sep+"pool_max_conns=1")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	f := &filledLog{db: db}
	if err := db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&f.pid); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	for d := -32; d <= 2; d++ {
		if _, _, err := db.Partitions().Create(ctx, store.SignInLog, today.AddDate(0, 0, d)); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		return f
	}
	// n/30 rows a day, evenly from the start of the day 32 days back up to
	// now: the window's 30 days hold n (today as far as it has gone), and
	// the two days before them are removed again below.
	span := now.Sub(today.AddDate(0, 0, -32)).Seconds()
	total := int(float64(n) / 30 * span / 86400)
	t0 := time.Now()
	for done := 0; done < total; done += 1_000_000 {
		m := min(1_000_000, total-done)
		_, err := db.Pool.Exec(ctx, `INSERT INTO signin_logs (id, created_date_time, user_id, user_principal_name, app_id, error_code,
				conditional_access_status, is_emergency_access, record)
			SELECT gen_random_uuid(), $4::timestamptz - make_interval(secs => g * $3::float8 / $2),
				('00000000-0000-4000-8000-' || lpad((g % 5000)::text, 12, '0'))::uuid, 'user' || (g % 5000) || '@lab.example',
				'00000000-0000-0000-0000-00000000a00' || (g % 4), CASE WHEN g % 20 = 0 THEN 50126 ELSE 0 END,
				(ARRAY['success', 'notApplied', 'failure'])[g % 3 + 1], false,
				jsonb_build_object('id', g::text, 'userPrincipalName', 'user' || (g % 5000) || '@lab.example', 'appDisplayName', 'Portal',
					'ipAddress', '192.0.2.' || (g % 250), 'status', jsonb_build_object('errorCode', 0), 'conditionalAccessStatus', 'success')
			FROM generate_series($1::bigint + 1, $1::bigint + $5) g`, done, total, span, now, m)
		if err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE signin_logs`); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d rows in %.0fs", total, time.Since(t0).Seconds())
	// The oldest day goes by DELETE and the VACUUM that must follow it to
	// reclaim the space, the next by DROP of its partition.
	oldest := today.AddDate(0, 0, -32)
	t1 := time.Now()
	tag, err := db.Pool.Exec(ctx, `DELETE FROM signin_logs WHERE created_date_time >= $1 AND created_date_time < $2`, oldest, oldest.AddDate(0, 0, 1))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `VACUUM signin_logs_p`+oldest.Format("20060102")); err != nil {
		b.Fatal(err)
	}
	f.deleteMS = float64(time.Since(t1).Microseconds()) / 1e3
	t2 := time.Now()
	if _, err := db.Partitions().Drop(ctx, store.SignInLog, oldest.AddDate(0, 0, 1)); err != nil {
		b.Fatal(err)
	}
	f.dropMS = float64(time.Since(t2).Microseconds()) / 1e3
	var left int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM signin_logs`).Scan(&left); err != nil {
		b.Fatal(err)
	}
	b.Logf("one day removed: DELETE + VACUUM of %d rows %.0f ms, DROP of the next day's partition %.1f ms; %d rows remain", tag.RowsAffected(), f.deleteMS, f.dropMS, left)
	return f
}

// backendCPU is the CPU time (ns) the pool's one PostgreSQL backend used.
func (f *filledLog) backendCPU(b *testing.B) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", f.pid))
	if err != nil {
		b.Skipf("PostgreSQL backend CPU is read from /proc: %v", err)
	}
	// Fields after the ")" that ends the command name: utime is the 14th
	// field of the line, stime the 15th (clock ticks, 100 per second).
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return (ut + st) * int64(time.Second/100)
}

func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchSignIn(at time.Time, i int) signinlog.SignIn {
	u := i % 5000
	s := signinlog.SignIn{ID: uuid.NewString(), CreatedDateTime: at, UserID: fmt.Sprintf("00000000-0000-4000-8000-%012d", u),
		UserPrincipalName: fmt.Sprintf("user%d@lab.example", u), AppID: "00000000-0000-0000-0000-00000000a001", AppDisplayName: "Portal",
		IPAddress: "192.0.2.10", ConditionalAccessStatus: "success", AuthenticationMethodsUsed: []string{"Passkey (Microsoft Authenticator)"}}
	if i%20 == 0 {
		s.Status.ErrorCode = 50126
	}
	return s
}
