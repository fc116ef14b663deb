package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeChangeInProgress is refused (503, retry) when another change that
// lockout protection judges holds the change lock past the wait.
const CodeChangeInProgress = "concurrentChangeInProgress"

// changeLockKey is the advisory lock id of the change lock: a constant
// of rpserver's own ("rpsLOCK" in ASCII), unlikely to meet another
// application's advisory locks in a shared database.
const changeLockKey int64 = 0x7270734c4f434b

// changeLockWait bounds the wait for the lock; changes hold it for a few
// statements, so a longer wait means a stuck holder.
const changeLockWait = 10 * time.Second

// changeLockPoll is how often a waiting server tries the lock again.
const changeLockPoll = 20 * time.Millisecond

// LockChanges takes the change lock, which serializes, across every
// server on this database, the changes Conditional Access lockout
// protection judges (policy saves, and directory changes that can put an
// emergency account or the caller under a policy): from the check to the
// commit of the write, no other such change runs, so two changes that
// each pass alone cannot together lock the tenant out. unlock must be
// called once the write has committed (or failed).
//
// It is a PostgreSQL session advisory lock on a connection of its own,
// outside the pool, held until unlock: the check and the write use the
// pool as always (a pool of one connection cannot starve them), waiting
// administrators cannot drain the connections the sign-ins use, and if the
// server dies the session ends and the lock goes with it. Within a
// server, waiters queue in memory; the one at the front tries the lock
// every 20 ms (pg_try_advisory_lock), so a server has at most one such
// connection open. Admin changes are rare; the connection costs a few
// milliseconds each.
func (db *DB) LockChanges(ctx context.Context) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, changeLockWait)
	defer cancel()
	select {
	case db.changeLock <- struct{}{}:
	case <-ctx.Done():
		return nil, changeLockTimeout(ctx)
	}
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		<-db.changeLock
		if ctx.Err() != nil {
			return nil, changeLockTimeout(ctx)
		}
		return nil, fmt.Errorf("change lock: connect: %w", err)
	}
	// Closing the session releases the lock if it holds it, whatever the
	// last answer said.
	release := func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
		<-db.changeLock
	}
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, changeLockKey).Scan(&got); err != nil {
			release()
			if ctx.Err() != nil {
				return nil, changeLockTimeout(ctx)
			}
			return nil, fmt.Errorf("change lock: %w", err)
		}
		if got {
			return release, nil
		}
		select {
		case <-time.After(changeLockPoll):
		case <-ctx.Done():
			release()
			return nil, changeLockTimeout(ctx)
		}
	}
}

func changeLockTimeout(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return apperr.Unavailable(CodeChangeInProgress, "another administrator's change to policies or the directory is being checked and written; retry shortly")
	}
	return fmt.Errorf("change lock: %w", ctx.Err())
}
