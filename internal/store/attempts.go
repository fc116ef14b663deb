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

// reserveAttemptSQL is the upsert that decides a ratelimit.Claim, with
// its seven parameters numbered from $p (see claimArgs): key, now, window
// in microseconds, max, and the carried settlement's window start,
// attempts and failures. It grants one attempt unless the key's failures
// plus attempts in flight already reach max within the window (a window
// that is over starts afresh, dropping what was in flight in it); the
// carried settlement, applied first when its window is still the key's,
// takes part in that decision and is stored with the grant. One statement
// decides and counts under the row lock, so concurrent reservations from
// any number of servers never exceed max. It returns a row only when
// granted.
func reserveAttemptSQL(p int) string {
	key, now, win, max, sw, sa, sf := fmt.Sprintf("$%d::text", p), fmt.Sprintf("$%d::timestamptz", p+1), fmt.Sprintf("$%d::bigint", p+2),
		fmt.Sprintf("$%d::int", p+3), fmt.Sprintf("$%d::timestamptz", p+4), fmt.Sprintf("$%d::int", p+5), fmt.Sprintf("$%d::int", p+6)
	over := "a.window_start <= " + now + " - " + win + " * interval '1 microsecond'"
	same := "a.window_start = " + sw
	return `INSERT INTO client_attempts AS a (client_key, window_start, failures, in_flight) VALUES (` + key + `, ` + now + `, 0, 1)
		ON CONFLICT (client_key) DO UPDATE SET
		  window_start = CASE WHEN ` + over + ` THEN ` + now + ` ELSE a.window_start END,
		  failures     = CASE WHEN ` + over + ` THEN 0 WHEN ` + same + ` THEN a.failures + ` + sf + ` ELSE a.failures END,
		  in_flight    = CASE WHEN ` + over + ` THEN 1 WHEN ` + same + ` THEN greatest(a.in_flight - ` + sa + `, 0) + 1 ELSE a.in_flight + 1 END
		WHERE ` + over + ` OR CASE WHEN ` + same + ` THEN a.failures + ` + sf + ` + greatest(a.in_flight - ` + sa + `, 0)
		  ELSE a.failures + a.in_flight END < ` + max + `
		RETURNING window_start`
}

// claimArgs are reserveAttemptSQL's parameters for c.
func claimArgs(c ratelimit.Claim) []any {
	return []any{c.Key, c.Now, c.Window.Microseconds(), c.Max, c.Settle.WindowStart, c.Settle.Attempts, c.Settle.Failures}
}

var reserveAttempt = reserveAttemptSQL(1)

// Reserve decides c (see reserveAttemptSQL). When refused it reports the
// window's start and its failures, so the caller can tell a client that
// failed too often from one with too many attempts in flight.
func (s *Attempts) Reserve(ctx context.Context, c ratelimit.Claim) (ratelimit.Grant, error) {
	var g ratelimit.Grant
	err := s.db.Pool.QueryRow(ctx, reserveAttempt, claimArgs(c)...).Scan(&g.WindowStart)
	if err == nil {
		g.Granted, g.WindowStart = true, g.WindowStart.UTC()
		return g, nil
	}
	if err != pgx.ErrNoRows {
		return g, fmt.Errorf("reserve attempt: %w", err)
	}
	err = s.db.Pool.QueryRow(ctx, `SELECT window_start, failures FROM client_attempts WHERE client_key = $1`, c.Key).Scan(&g.WindowStart, &g.Failures)
	if err != nil {
		return g, fmt.Errorf("read refused attempt: %w", err)
	}
	g.WindowStart = g.WindowStart.UTC()
	return g, nil
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
