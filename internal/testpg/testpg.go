// Package testpg gives integration tests a real, migrated, empty PostgreSQL
// database each. The test command starts one throwaway server for the whole
// run and exports RPSERVER_TEST_DATABASE_URL; without it (a bare `go test`),
// Main starts a server of its own for the package and stops it afterwards.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/pgdev"
	"github.com/rpserver/rpserver/internal/store"
)

// EnvURL names the admin connection string of a server tests may create
// databases in.
const EnvURL = "RPSERVER_TEST_DATABASE_URL"

var adminURL string

// Main wraps testing.M: it makes sure a server exists for the package's tests.
func Main(m *testing.M) {
	adminURL = os.Getenv(EnvURL)
	var srv *pgdev.Server
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "rpserver-testpg-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "testpg:", err)
			os.Exit(1)
		}
		srv, err = pgdev.Start(context.Background(), pgdev.Options{Dir: dir, Fast: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "testpg:", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		adminURL = srv.DSN
		code := m.Run()
		_ = srv.Stop()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// NewDatabase creates a fresh database with the schema applied and returns
// its connection string; it is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	dsn := NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, _, err := store.Migrate(ctx, dsn); err != nil {
		t.Fatalf("testpg: migrate: %v", err)
	}
	return dsn
}

// NewEmptyDatabase creates a fresh database without the schema (for tests
// of a migration over existing rows) and returns its connection string; it
// is dropped when the test ends.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	if adminURL == "" {
		t.Fatal("testpg: call testpg.Main from TestMain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	name := "t_" + hex.EncodeToString(raw)

	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("testpg: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testpg: create database: %v", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("testpg: parse %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	dsn := u.String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return dsn
}

// Open returns a store.DB on a fresh database, closed when the test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	dsn := NewDatabase(t)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("testpg: open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}
