package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/tap"
)

// Methods implements methods.ConfigStore and methods.TAPStore.
type Methods struct{ db *DB }

// Methods returns the authentication methods policy store.
func (db *DB) Methods() *Methods { return &Methods{db: db} }

var (
	_ methods.ConfigStore     = (*Methods)(nil)
	_ methods.TAPStore        = (*Methods)(nil)
	_ methods.CredentialStore = (*WebAuthn)(nil)
)

func (s *Methods) GetConfig(ctx context.Context, id string) ([]byte, int64, error) {
	var doc []byte
	var version int64
	err := s.db.Pool.QueryRow(ctx, `SELECT document, version FROM auth_method_configurations WHERE id = $1 AND version > 0`, id).Scan(&doc, &version)
	if err != nil {
		return nil, 0, fmt.Errorf("get method configuration: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "configuration %s was never written", id)))
	}
	return doc, version, nil
}

// UpdateConfig is read-modify-write in one transaction: the row is created
// (version 0, a placeholder visible to nobody else until commit) if missing,
// then locked with FOR UPDATE, so concurrent updates apply one after the
// other and a failing fn leaves nothing behind.
func (s *Methods) UpdateConfig(ctx context.Context, id string, fn func(cur []byte) ([]byte, error)) (int64, error) {
	var version int64
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO auth_method_configurations (id, document, version) VALUES ($1, 'null', 0) ON CONFLICT (id) DO NOTHING`, id); err != nil {
			return err
		}
		var cur []byte
		var v int64
		if err := tx.QueryRow(ctx, `SELECT document, version FROM auth_method_configurations WHERE id = $1 FOR UPDATE`, id).Scan(&cur, &v); err != nil {
			return err
		}
		if v == 0 {
			cur = nil
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `UPDATE auth_method_configurations SET document = $2, version = version + 1, updated_at = now()
			WHERE id = $1 RETURNING version`, id, next).Scan(&version)
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return 0, err
		}
		return 0, fmt.Errorf("update method configuration %s: %w", id, err)
	}
	return version, nil
}

// ResetConfig stores doc in place of the current document, in one
// transaction: the row is deleted (the audit trigger records that as
// "Reset authentication methods policy") and inserted again with doc and
// the next version. When doc is already stored nothing is written, so
// resetting a default configuration is a no-op, as in Entra.
func (s *Methods) ResetConfig(ctx context.Context, id string, doc []byte) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var version int64
		var same bool
		err := tx.QueryRow(ctx, `SELECT version, document = $2::jsonb FROM auth_method_configurations WHERE id = $1 FOR UPDATE`, id, doc).Scan(&version, &same)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Never written: the reset still changes what is enforced (the
			// FIDO2 gate closes), so it is audited like any other: through
			// a placeholder row (not audited, as UpdateConfig's) deleted
			// below.
			if _, err := tx.Exec(ctx, `INSERT INTO auth_method_configurations (id, document, version) VALUES ($1, 'null', 0)`, id); err != nil {
				return err
			}
		case err != nil:
			return err
		case same:
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM auth_method_configurations WHERE id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO auth_method_configurations (id, document, version) VALUES ($1, $2, $3)`, id, doc, version+1)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset method configuration %s: %w", id, err)
	}
	return nil
}

const tapCols = `id::text, user_id::text, secret_hash, created_at, start_at, lifetime_minutes, is_usable_once, last_used_at`

func scanTAP(row pgx.Row) (tap.Record, error) {
	var r tap.Record
	err := row.Scan(&r.ID, &r.UserID, &r.SecretHash, &r.CreatedDateTime, &r.StartDateTime, &r.LifetimeInMinutes, &r.IsUsableOnce, &r.LastUsedDateTime)
	if err == nil {
		r.CreatedDateTime = r.CreatedDateTime.UTC()
		r.StartDateTime = r.StartDateTime.UTC()
		if r.LastUsedDateTime != nil {
			t := r.LastUsedDateTime.UTC()
			r.LastUsedDateTime = &t
		}
	}
	return r, err
}

func errTAPNotFound() *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "no such temporaryAccessPassMethod")
}

func (s *Methods) CreateTAP(ctx context.Context, r tap.Record) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO temporary_access_passes (id, user_id, secret_hash, created_at, start_at, lifetime_minutes, is_usable_once)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, r.UserID, r.SecretHash, r.CreatedDateTime, r.StartDateTime, r.LifetimeInMinutes, r.IsUsableOnce)
	switch pgCode(err) {
	case "":
		return nil
	case pgUniqueViolation:
		if constraintOf(err) == "temporary_access_passes_pkey" {
			return apperr.Conflict(methods.CodeTAPExists, "a temporaryAccessPassMethod with this id exists")
		}
		return apperr.Conflict(methods.CodeTAPExists, "the user already has a Temporary Access Pass; delete it before issuing another")
	case pgForeignKeyViolation:
		return errUserNotFound(r.UserID)
	}
	return fmt.Errorf("create temporary access pass: %w", err)
}

func (s *Methods) TAPOfUser(ctx context.Context, userID string) (tap.Record, error) {
	r, err := scanTAP(s.db.Pool.QueryRow(ctx, `SELECT `+tapCols+` FROM temporary_access_passes WHERE user_id = $1`, userID))
	if err != nil {
		return r, fmt.Errorf("get temporary access pass: %w", notFound(err, errTAPNotFound()))
	}
	return r, nil
}

func (s *Methods) DeleteTAP(ctx context.Context, userID, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM temporary_access_passes WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return fmt.Errorf("delete temporary access pass: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errTAPNotFound()
	}
	return nil
}

// RedeemTAP is the single conditional UPDATE tap's doc.go asks for: of
// concurrent redemptions of a one-time pass exactly one gets a row back.
func (s *Methods) RedeemTAP(ctx context.Context, id string, now time.Time) (tap.Record, bool, error) {
	r, err := scanTAP(s.db.Pool.QueryRow(ctx, `UPDATE temporary_access_passes SET last_used_at = $2
		WHERE id = $1 AND (NOT is_usable_once OR last_used_at IS NULL)
		  AND start_at <= $2 AND $2 < start_at + lifetime_minutes * interval '1 minute'
		RETURNING `+tapCols, id, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("redeem temporary access pass: %w", err)
	}
	return r, true, nil
}

func (s *Methods) UnredeemTAP(ctx context.Context, id string, usedAt time.Time, previous *time.Time) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE temporary_access_passes SET last_used_at = $3
		WHERE id = $1 AND last_used_at = $2`, id, usedAt, previous); err != nil {
		return fmt.Errorf("give back temporary access pass: %w", err)
	}
	return nil
}

func (s *Methods) ReserveTAPAttempt(ctx context.Context, userID string, now time.Time, window time.Duration) (int, time.Time, error) {
	var n int
	var start time.Time
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO tap_attempts AS a (user_id, window_start, attempts) VALUES ($1, $2, 1)
		ON CONFLICT (user_id) DO UPDATE SET
		  window_start = CASE WHEN a.window_start <= $2 - $3 * interval '1 microsecond' THEN $2 ELSE a.window_start END,
		  attempts     = CASE WHEN a.window_start <= $2 - $3 * interval '1 microsecond' THEN 1 ELSE a.attempts + 1 END
		RETURNING attempts, window_start`, userID, now, window.Microseconds()).Scan(&n, &start)
	switch pgCode(err) {
	case "":
		return n, start.UTC(), nil
	case pgForeignKeyViolation:
		return 0, time.Time{}, errUserNotFound(userID)
	}
	return 0, time.Time{}, fmt.Errorf("reserve tap attempt: %w", err)
}

func (s *Methods) ReleaseTAPAttempt(ctx context.Context, userID string) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE tap_attempts SET attempts = greatest(attempts - 1, 0) WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("release tap attempt: %w", err)
	}
	return nil
}
