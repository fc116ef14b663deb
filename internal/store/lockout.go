package store

import (
	"context"
	"fmt"

	"github.com/rpserver/rpserver/internal/signin"
)

// ReserveGuess counts one guess of factor for the user from address as a
// failure before it is checked (GuessSucceeded takes it back), in the
// location bucket the address falls in: familiar when the user has
// succeeded with that factor from it before. One upsert decides, so
// concurrent guesses never get more checks than the threshold. A bucket
// whose lock has ended, or whose first failure is older than the window,
// starts afresh; one over the threshold is locked for the duration.
func (s *Factors) ReserveGuess(ctx context.Context, g signin.Guess, p signin.LockoutPolicy) (signin.GuessVerdict, error) {
	var v signin.GuessVerdict
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO sign_in_lockouts AS l (user_id, factor, familiar, failures, window_start)
		SELECT $1, $2, EXISTS (SELECT 1 FROM familiar_sign_in_addresses WHERE user_id = $1 AND address = $3), 1, $4
		ON CONFLICT (user_id, factor, familiar) DO UPDATE SET
		  failures = CASE WHEN l.locked_until > $4 THEN l.failures
		                  WHEN l.locked_until > '-infinity' OR l.window_start <= $4 - $5 * interval '1 microsecond' THEN 1
		                  ELSE l.failures + 1 END,
		  window_start = CASE WHEN l.locked_until > $4 THEN l.window_start
		                  WHEN l.locked_until > '-infinity' OR l.window_start <= $4 - $5 * interval '1 microsecond' THEN $4
		                  ELSE l.window_start END,
		  locked_until = CASE WHEN l.locked_until > $4 THEN l.locked_until
		                  WHEN l.locked_until > '-infinity' OR l.window_start <= $4 - $5 * interval '1 microsecond' THEN '-infinity'
		                  WHEN l.failures + 1 > $6 THEN $4 + $7 * interval '1 microsecond'
		                  ELSE '-infinity' END
		RETURNING familiar, failures, CASE WHEN locked_until = '-infinity' THEN 'epoch'::timestamptz ELSE locked_until END,
		  locked_until = $4 + $7 * interval '1 microsecond'`,
		g.UserID, g.Factor, g.Address, g.At, p.Window.Microseconds(), p.Threshold, p.Duration.Microseconds()).Scan(&v.Familiar, &v.Failures, &v.LockedUntil, &v.JustLocked)
	if err != nil {
		return v, fmt.Errorf("reserve guess: %w", notFound(err, errUserNotFound(g.UserID)))
	}
	v.Locked = v.LockedUntil.After(g.At)
	return v, nil
}

// GuessSucceeded clears the failures of the guess's bucket and remembers
// the address as familiar for the factor's user, in one round trip.
func (s *Factors) GuessSucceeded(ctx context.Context, g signin.Guess, familiar bool) error {
	_, err := s.db.Pool.Exec(ctx, `WITH seen AS (
			INSERT INTO familiar_sign_in_addresses (user_id, address, last_seen) VALUES ($1, $3, $4)
			ON CONFLICT (user_id, address) DO UPDATE SET last_seen = $4)
		UPDATE sign_in_lockouts SET failures = 0, locked_until = '-infinity'
		WHERE user_id = $1 AND factor = $2 AND familiar = $5`, g.UserID, g.Factor, g.Address, g.At, familiar)
	if err != nil {
		return fmt.Errorf("guess succeeded: %w", err)
	}
	return nil
}

// GuessUnchecked takes back a reserved guess that was never checked.
func (s *Factors) GuessUnchecked(ctx context.Context, g signin.Guess, familiar bool) error {
	_, err := s.db.Pool.Exec(ctx, `UPDATE sign_in_lockouts SET failures = greatest(failures - 1, 0)
		WHERE user_id = $1 AND factor = $2 AND familiar = $3 AND locked_until <= $4`, g.UserID, g.Factor, familiar, g.At)
	if err != nil {
		return fmt.Errorf("give back guess: %w", err)
	}
	return nil
}
