package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/pgdev"
)

// database resolves the PostgreSQL that serve uses: DATABASE_URL when given,
// else the throwaway server in the data folder (reused when one already runs
// there, started otherwise). stop is a no-op for servers this call did not
// start.
func database(ctx context.Context, c config.Config) (dsn string, stop func(), err error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, func() {}, nil
	}
	dir := filepath.Join(c.DataDir, "postgres")
	if dsn, err := pgdev.Running(ctx, dir); err == nil {
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

// serverDatabase is the database of the running server, for the client
// commands (admin token, migrate): DATABASE_URL when given, else the
// throwaway cluster a serve left running in the data folder. It never starts
// a cluster: one started here would be a different, empty database, and a
// token minted there is refused by the real server.
func serverDatabase(ctx context.Context, c config.Config, cmd string) (string, error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, nil
	}
	dsn, err := pgdev.Running(ctx, filepath.Join(c.DataDir, "postgres"))
	if err != nil {
		return "", fmt.Errorf("%s: %w.\nStart the server first (scripts/run.sh), or tell %s where the server's database is: "+
			"-data-dir DIR (RPSERVER_DATA_DIR) as given to serve, or -database-url URL (DATABASE_URL)", cmd, err, cmd)
	}
	return dsn, nil
}
