package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/migrations"
)

// DB is the shared connection pool; each aggregate's store is a view on it.
type DB struct {
	Pool *pgxpool.Pool

	allow      *allowCache // sign-in begins' answers (allowcache.go)
	facts      *factsCache // passkey owners' sign-in facts (factscache.go)
	stopListen context.CancelFunc
	listening  chan struct{} // closed when the allow cache's listener has stopped
	changeLock chan struct{} // this server's holder of the change lock (changelock.go)
}

// Open connects a pool and checks the database answers.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// Options of OpenWith.
type Options struct {
	// Tracer, when set, sees every statement (OpenTelemetry spans when
	// tracing is on); nil costs nothing.
	Tracer pgx.QueryTracer
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	// Without connect_timeout in the URL a connection attempt to a host
	// that drops packets (a failed-over primary's old address) waits for
	// the request's whole deadline; a few seconds is ample on a LAN and
	// lets a multi-host URL move on to the next host.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// Acknowledged means durable: a server- or database-wide
	// synchronous_commit=off must not turn the sign-in log's commit into a
	// promise, so every connection of the pool asks for it explicitly (the
	// log's batch then needs no SET LOCAL round trip of its own).
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	// Each connection carries the actor of the request using it, for the
	// directory audit trigger (audits.go).
	attr := newAttributor()
	cfg.PrepareConn = attr.prepare
	cfg.BeforeClose = attr.forget
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: ping %s: %w", cfg.ConnConfig.Host, err)
	}
	db := &DB{Pool: pool, allow: newAllowCache(), facts: newFactsCache(), listening: make(chan struct{}), changeLock: make(chan struct{}, 1)}
	lctx, stop := context.WithCancel(context.Background())
	db.stopListen = stop
	go func() {
		defer close(db.listening)
		db.allow.listen(lctx, cfg.ConnConfig)
	}()
	return db, nil
}

// Close stops the allow cache's listener and releases the pool.
func (db *DB) Close() {
	db.stopListen()
	<-db.listening
	db.Pool.Close()
}

// Ping reports whether the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Migrate applies pending migrations. tern takes an advisory lock, so two
// servers starting together do not race.
func Migrate(ctx context.Context, dsn string) (from, to int32, err error) {
	// Parsed as the pool parses it, so a URL carrying the pool's own
	// settings (pool_max_conns, ...) is not refused by the server as
	// unknown run-time parameters.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return 0, 0, fmt.Errorf("store: connect for migration: %w", err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return 0, 0, fmt.Errorf("store: migrator: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return 0, 0, fmt.Errorf("store: load migrations: %w", err)
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("store: current schema version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("store: migrate: %w", err)
	}
	to, err = m.GetCurrentVersion(ctx)
	return from, to, err
}

// inTx runs fn in a transaction, committing only when fn succeeds, so a
// failure never leaves half a change behind.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.Pool, fn)
}

// PostgreSQL error codes translated into apperr classes.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgSerialization       = "40001"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func constraintOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// notFound turns pgx.ErrNoRows into the given NotFound error.
func notFound(err error, nf *apperr.Error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nf
	}
	return err
}

func clampTop(top int) int {
	switch {
	case top <= 0:
		return 100
	case top > 999:
		return 999
	}
	return top
}

// afterID makes keyset paging start at the beginning when no token is given.
func afterID(after string) string {
	if after == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return after
}
