package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/pgdev"
)

// database resolves the PostgreSQL to use: DATABASE_URL when given, else the
// throwaway server in the data folder (reused when a serve already runs it,
// started otherwise). stop is a no-op for servers this call did not start.
func database(ctx context.Context, c config.Config) (dsn string, stop func(), err error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, func() {}, nil
	}
	dir := filepath.Join(c.DataDir, "postgres")
	if dsn, ok := pgdev.Running(ctx, dir); ok {
		return dsn, func() {}, nil
	}
	slog.Info("no DATABASE_URL: starting a throwaway PostgreSQL", "data_dir", dir)
	srv, err := pgdev.Start(ctx, pgdev.Options{Dir: dir})
	if err != nil {
		return "", nil, fmt.Errorf("start local PostgreSQL in %s: %w", dir, err)
	}
	slog.Info("local PostgreSQL ready", "data_dir", dir, "port", srv.Port, "log", filepath.Join(dir, "postgres.log"))
	return srv.DSN, func() {
		if err := srv.Stop(); err != nil {
			slog.Warn("stopping local PostgreSQL", "err", err)
		}
	}, nil
}
