package store

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// It is a PostgreSQL session advisory lock on one pooled connection, held
// until unlock: if the server dies, the session ends and the lock goes
// with it. Waiting does not hold a connection: within a server, waiters
// queue in memory, and the one at the front tries the lock every 20 ms
// (pg_try_advisory_lock), so waiting administrators cannot drain the pool
// the sign-ins use.
func (db *DB) LockChanges(ctx context.Context) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, changeLockWait)
	defer cancel()
	select {
	case db.changeLock <- struct{}{}:
	case <-ctx.Done():
		return nil, changeLockTimeout(ctx)
	}
	release := func() { <-db.changeLock }
	for {
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			release()
			if ctx.Err() != nil {
				return nil, changeLockTimeout(ctx)
			}
			return nil, fmt.Errorf("change lock: %w", err)
		}
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, changeLockKey).Scan(&got); err != nil {
			// The answer is lost, so whether the session holds the lock is
			// unknown: the connection is closed, which releases it if so.
			_ = conn.Hijack().Close(context.Background())
			release()
			if ctx.Err() != nil {
				return nil, changeLockTimeout(ctx)
			}
			return nil, fmt.Errorf("change lock: %w", err)
		}
		if got {
			return func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				var held bool
				if err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, changeLockKey).Scan(&held); err != nil || !held {
					_ = conn.Hijack().Close(ctx)
				} else {
					conn.Release()
				}
				release()
			}, nil
		}
		conn.Release()
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
