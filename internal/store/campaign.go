package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/campaign"
)

var _ methods.SnoozeStore = (*Methods)(nil)

// SnoozesOf returns the user's campaign snoozes (zero when never snoozed).
func (s *Methods) SnoozesOf(ctx context.Context, userID string) (campaign.Snoozes, error) {
	var sn campaign.Snoozes
	err := s.db.Pool.QueryRow(ctx, `SELECT snooze_count, last_snoozed_at FROM registration_campaign_snoozes WHERE user_id = $1`, userID).Scan(&sn.Count, &sn.LastAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return campaign.Snoozes{}, nil
	}
	if err != nil {
		return sn, fmt.Errorf("read campaign snoozes: %w", err)
	}
	sn.LastAt = sn.LastAt.UTC()
	return sn, nil
}

// RecordSnooze counts one snooze in one conditional statement, so two
// concurrent snoozes cannot both take the last allowed one: with limit > 0
// the row is not changed once the count reached it (ok false).
func (s *Methods) RecordSnooze(ctx context.Context, userID string, now time.Time, limit int) (campaign.Snoozes, bool, error) {
	var sn campaign.Snoozes
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO registration_campaign_snoozes AS s (user_id, snooze_count, last_snoozed_at) VALUES ($1, 1, $2)
		ON CONFLICT (user_id) DO UPDATE SET snooze_count = s.snooze_count + 1, last_snoozed_at = $2
		WHERE $3 = 0 OR s.snooze_count < $3
		RETURNING snooze_count, last_snoozed_at`, userID, now, limit).Scan(&sn.Count, &sn.LastAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return sn, false, nil
	case pgCode(err) == pgForeignKeyViolation:
		return sn, false, errUserNotFound(userID)
	case err != nil:
		return sn, false, fmt.Errorf("record campaign snooze: %w", err)
	}
	sn.LastAt = sn.LastAt.UTC()
	return sn, true, nil
}

// SetSnoozeTime moves a user's last snooze (tests and lab rehearsals: a
// snooze window passes without waiting days).
func (s *Methods) SetSnoozeTime(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE registration_campaign_snoozes SET last_snoozed_at = $2 WHERE user_id = $1`, userID, at); err != nil {
		return fmt.Errorf("set campaign snooze time: %w", err)
	}
	return nil
}
