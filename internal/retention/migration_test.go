package retention_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/migrations"
)

// Migration 020 turns the logs of a database that has records into
// partitioned tables without losing one: each row lands in its day's
// partition, an alert keeps its sign-in, the list indexes are there, and
// the first pass then drops only the days past the window.
func TestMigrationKeepsExistingRecords(t *testing.T) {
	ctx := context.Background()
	dsn := testpg.NewEmptyDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 19); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `
		INSERT INTO signin_logs (id, created_date_time, user_principal_name, record) VALUES
			('00000000-0000-4000-8000-000000000001', '2026-11-01T10:00:00Z', 'a@lab.example', '{"id":"00000000-0000-4000-8000-000000000001"}'),
			('00000000-0000-4000-8000-000000000002', '2026-11-01T23:59:59.999999Z', 'b@lab.example', '{"id":"00000000-0000-4000-8000-000000000002"}'),
			('00000000-0000-4000-8000-000000000003', '2026-11-20T00:00:00Z', 'c@lab.example', '{"id":"00000000-0000-4000-8000-000000000003"}');
		INSERT INTO security_alerts (id, sign_in_id, created_date_time, last_update_date_time, severity, title, description)
			VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000003', '2026-11-20T00:00:00Z', '2026-11-20T00:00:00Z', 'high', 't', 'd');
		INSERT INTO directory_audits (activity_date_time, category, activity_display_name, operation_type, initiated_by, target_resources)
			VALUES ('2026-11-01T08:00:00Z', 'UserManagement', 'Add user', 'Add', '{}', '[]'),
			       ('2026-11-21T08:00:00Z', 'UserManagement', 'Update user', 'Update', '{}', '[]')`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for id, want := range map[string]string{
		"00000000-0000-4000-8000-000000000001": "signin_logs_p20261101",
		"00000000-0000-4000-8000-000000000002": "signin_logs_p20261101",
		"00000000-0000-4000-8000-000000000003": "signin_logs_p20261120",
	} {
		if got := partitionOf(t, db, id); got != want {
			t.Fatalf("sign-in %s in %q, want %q", id, got, want)
		}
	}
	if got := days(t, db, store.AuditLog); !slices.Equal(got, []string{"2026-11-01", "2026-11-21"}) {
		t.Fatalf("audit partitions %v", got)
	}
	if a, err := db.SignIns().GetAlert(ctx, "00000000-0000-4000-8000-0000000000a1"); err != nil || a.SignInID != "00000000-0000-4000-8000-000000000003" {
		t.Fatalf("alert %+v %v", a, err)
	}
	var pk string
	if err := db.Pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'signin_logs'::regclass AND contype = 'p'`).Scan(&pk); err != nil || pk != "PRIMARY KEY (created_date_time, id)" {
		t.Fatalf("primary key %q %v", pk, err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'signin_logs' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"signin_logs_app_idx", "signin_logs_ca_status_idx", "signin_logs_failure_idx", "signin_logs_id_idx", "signin_logs_pkey", "signin_logs_upn_idx", "signin_logs_user_idx"}
	if !slices.Equal(idx, want) {
		t.Fatalf("indexes %v, want %v", idx, want)
	}

	// 2026-12-05 with a 30-day window: the cutoff is 11-05, so 11-01 goes
	// and 11-20 stays.
	run(t, keeper(t, db, &clock{t: date("2026-12-05T00:00:00Z")}, 30, 30))
	if got := partitionOf(t, db, "00000000-0000-4000-8000-000000000001"); got != "" {
		t.Fatalf("a sign-in past the window is still in %q", got)
	}
	if got := partitionOf(t, db, "00000000-0000-4000-8000-000000000003"); got != "signin_logs_p20261120" {
		t.Fatalf("a sign-in inside the window is in %q", got)
	}
	if got := days(t, db, store.AuditLog); !slices.Equal(got, []string{"2026-11-21", "2026-12-05", "2026-12-06", "2026-12-07"}) {
		t.Fatalf("audit partitions after the pass %v", got)
	}
}
