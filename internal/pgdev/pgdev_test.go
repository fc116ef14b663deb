package pgdev

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestStartRestartKeepsData proves the server default: a cluster made once,
// stopped, and started again still holds what was written.
func TestStartRestartKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real PostgreSQL")
	}
	dir, err := os.MkdirTemp("", "pgdev-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx := context.Background()

	srv, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, srv.DSN, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	srv, err = Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: v=%d err=%v", v, err)
	}
}

func mustExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}
