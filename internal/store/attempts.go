package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/ratelimit"
)

// Attempts is the store of the per-client failure limiter.
type Attempts struct{ db *DB }

// Attempts returns the failure limiter's store.
func (db *DB) Attempts() *Attempts { return &Attempts{db: db} }

// Reserve grants one attempt to key unless its failures and attempts in
// flight already reach max within the window (a window that is over starts
// afresh). One upsert decides and counts, under the row lock, so concurrent
// reservations from any number of servers never exceed max. When refused it
// reports the window's start and its failures, so the caller can tell a
// client that failed too often from one with too many attempts in flight.
func (s *Attempts) Reserve(ctx context.Context, key string, now time.Time, window time.Duration, max int) (granted bool, windowStart time.Time, failures int, err error) {
	err = s.db.Pool.QueryRow(ctx, `INSERT INTO client_attempts AS a (client_key, window_start, failures, in_flight) VALUES ($1, $2, 0, 1)
		ON CONFLICT (client_key) DO UPDATE SET
		  window_start = CASE WHEN a.window_start <= $2 - $3 * interval '1 microsecond' THEN $2 ELSE a.window_start END,
		  failures     = CASE WHEN a.window_start <= $2 - $3 * interval '1 microsecond' THEN 0 ELSE a.failures END,
		  in_flight    = CASE WHEN a.window_start <= $2 - $3 * interval '1 microsecond' THEN 1 ELSE a.in_flight + 1 END
		WHERE a.window_start <= $2 - $3 * interval '1 microsecond' OR a.failures + a.in_flight < $4
		RETURNING window_start`, key, now, window.Microseconds(), max).Scan(&windowStart)
	if err == nil {
		return true, windowStart.UTC(), 0, nil
	}
	if err != pgx.ErrNoRows {
		return false, time.Time{}, 0, fmt.Errorf("reserve attempt: %w", err)
	}
	err = s.db.Pool.QueryRow(ctx, `SELECT window_start, failures FROM client_attempts WHERE client_key = $1`, key).Scan(&windowStart, &failures)
	if err != nil {
		return false, time.Time{}, 0, fmt.Errorf("read refused attempt: %w", err)
	}
	return false, windowStart.UTC(), failures, nil
}

// Settle ends a granted attempt: no longer in flight, and a failure when it
// failed. An attempt from a window that has since been restarted is
// dropped with it.
func (s *Attempts) Settle(ctx context.Context, key string, windowStart time.Time, failed bool) error {
	add := 0
	if failed {
		add = 1
	}
	_, err := s.db.Pool.Exec(ctx, `UPDATE client_attempts SET in_flight = greatest(in_flight - 1, 0), failures = failures + $3
		WHERE client_key = $1 AND window_start = $2`, key, windowStart, add)
	if err != nil {
		return fmt.Errorf("settle attempt: %w", err)
	}
	return nil
}

// SettleMany is Settle for many keys in one round trip (each key and
// window at most once in batch): the failure limiter's batched settle. One
// single-row UPDATE per key, pipelined, keeps the cheap generic plan that
// a join against unnested arrays would trade for per-call planning.
func (s *Attempts) SettleMany(ctx context.Context, batch []ratelimit.Settlement) error {
	b := &pgx.Batch{}
	for _, st := range batch {
		b.Queue(`UPDATE client_attempts SET in_flight = greatest(in_flight - $3, 0), failures = failures + $4
			WHERE client_key = $1 AND window_start = $2`, st.Key, st.WindowStart, st.Attempts, st.Failures)
	}
	if err := s.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("settle attempts: %w", err)
	}
	return nil
}

// PurgeExpiredAttempts removes keys whose window ended before now-window
// and that have nothing in flight, so the table holds recent clients only.
func (s *Attempts) PurgeExpiredAttempts(ctx context.Context, now time.Time, window time.Duration) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM client_attempts WHERE window_start < $1 AND in_flight = 0`, now.Add(-window))
	if err != nil {
		return 0, fmt.Errorf("purge attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}
