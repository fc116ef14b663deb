package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/signin"
)

// Factors implements signin.FactorStore.
type Factors struct{ db *DB }

// Factors returns the store of passwords, TOTP, push methods and sessions.
func (db *DB) Factors() *Factors { return &Factors{db: db} }

var _ signin.FactorStore = (*Factors)(nil)

func (s *Factors) PasswordHash(ctx context.Context, userID string) (string, error) {
	var h string
	err := s.db.Pool.QueryRow(ctx, `SELECT hash FROM password_credentials WHERE user_id = $1`, userID).Scan(&h)
	if err != nil {
		return "", fmt.Errorf("password hash: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "the user has no password")))
	}
	return h, nil
}

func (s *Factors) AddTOTP(ctx context.Context, m signin.TOTPMethod) (signin.TOTPMethod, error) {
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO totp_methods (id, user_id, sealed_secret) VALUES ($1, $2, $3) RETURNING created_at`,
		m.ID, m.UserID, m.SealedSecret).Scan(&m.CreatedAt)
	if pgCode(err) == pgForeignKeyViolation {
		return m, errUserNotFound(m.UserID)
	}
	if err != nil {
		return m, fmt.Errorf("add TOTP method: %w", err)
	}
	return m, nil
}

func (s *Factors) ListTOTP(ctx context.Context, userID string) ([]signin.TOTPMethod, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id::text, user_id::text, sealed_secret, last_step, created_at FROM totp_methods WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list TOTP methods: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (signin.TOTPMethod, error) {
		var m signin.TOTPMethod
		err := r.Scan(&m.ID, &m.UserID, &m.SealedSecret, &m.LastStep, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list TOTP methods: %w", err)
	}
	return out, nil
}

func (s *Factors) DeleteTOTP(ctx context.Context, userID, id string) error {
	return s.deleteOwned(ctx, "totp_methods", userID, id)
}

func (s *Factors) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE totp_methods SET last_step = $2 WHERE id = $1 AND last_step < $2`, id, step)
	if err != nil {
		return false, fmt.Errorf("use TOTP step: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Factors) AddPushMethod(ctx context.Context, m signin.PushMethod) (signin.PushMethod, error) {
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO push_methods (id, user_id, display_name, device_token_hash) VALUES ($1, $2, $3, $4) RETURNING created_at`,
		m.ID, m.UserID, m.DisplayName, m.DeviceTokenHash).Scan(&m.CreatedAt)
	if pgCode(err) == pgForeignKeyViolation {
		return m, errUserNotFound(m.UserID)
	}
	if err != nil {
		return m, fmt.Errorf("add push method: %w", err)
	}
	return m, nil
}

const pushMethodCols = `id::text, user_id::text, display_name, device_token_hash, created_at`

func scanPushMethod(r pgx.Row) (signin.PushMethod, error) {
	var m signin.PushMethod
	err := r.Scan(&m.ID, &m.UserID, &m.DisplayName, &m.DeviceTokenHash, &m.CreatedAt)
	return m, err
}

func (s *Factors) ListPushMethods(ctx context.Context, userID string) ([]signin.PushMethod, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+pushMethodCols+` FROM push_methods WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list push methods: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (signin.PushMethod, error) { return scanPushMethod(r) })
	if err != nil {
		return nil, fmt.Errorf("list push methods: %w", err)
	}
	return out, nil
}

func (s *Factors) DeletePushMethod(ctx context.Context, userID, id string) error {
	return s.deleteOwned(ctx, "push_methods", userID, id)
}

func (s *Factors) PushMethodByToken(ctx context.Context, tokenHash []byte) (signin.PushMethod, error) {
	m, err := scanPushMethod(s.db.Pool.QueryRow(ctx, `SELECT `+pushMethodCols+` FROM push_methods WHERE device_token_hash = $1`, tokenHash))
	if err != nil {
		return m, fmt.Errorf("push method by token: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "no such device")))
	}
	return m, nil
}

func (s *Factors) CreatePushRequest(ctx context.Context, r signin.PushRequest) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO push_requests (id, user_id, number_match, app_name, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		r.ID, r.UserID, r.NumberMatch, r.AppName, r.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create push request: %w", err)
	}
	return nil
}

func (s *Factors) DecidePushRequest(ctx context.Context, id, userID string, approve bool, now time.Time) (bool, error) {
	status := "denied"
	if approve {
		status = "approved"
	}
	tag, err := s.db.Pool.Exec(ctx, `UPDATE push_requests SET status = $3 WHERE id = $1 AND user_id = $2 AND status = 'pending' AND expires_at > $4`,
		id, userID, status, now)
	if err != nil {
		return false, fmt.Errorf("decide push request: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Factors) TakePushRequest(ctx context.Context, id, userID string) (signin.PushRequest, error) {
	var r signin.PushRequest
	nf := apperr.NotFound(apperr.CodeNotFound, "no such push request")
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id::text, user_id::text, number_match, status, app_name, expires_at FROM push_requests
			WHERE id = $1 AND user_id = $2 FOR UPDATE`, id, userID).Scan(&r.ID, &r.UserID, &r.NumberMatch, &r.Status, &r.AppName, &r.ExpiresAt)
		if err != nil {
			return notFound(err, nf)
		}
		if r.Status == "pending" {
			return nil
		}
		_, err = tx.Exec(ctx, `DELETE FROM push_requests WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("take push request: %w", err)
	}
	return r, nil
}

func (s *Factors) PendingPushRequests(ctx context.Context, userID string, now time.Time) ([]signin.PushRequest, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id::text, user_id::text, number_match, status, app_name, expires_at FROM push_requests
		WHERE user_id = $1 AND status = 'pending' AND expires_at > $2 ORDER BY expires_at, id LIMIT 20`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("pending push requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (signin.PushRequest, error) {
		var p signin.PushRequest
		err := r.Scan(&p.ID, &p.UserID, &p.NumberMatch, &p.Status, &p.AppName, &p.ExpiresAt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending push requests: %w", err)
	}
	return out, nil
}

func (s *Factors) PurgeExpiredPushRequests(ctx context.Context, now time.Time) (int64, error) {
	// A decided request is kept for a minute past its expiry so the sign-in
	// screen can still complete it; after that it is abandoned.
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM push_requests WHERE expires_at < $1`, now.Add(-time.Minute))
	if err != nil {
		return 0, fmt.Errorf("purge push requests: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *Factors) SessionState(ctx context.Context, userID string) (time.Time, bool, error) {
	var t time.Time
	var enabled bool
	err := s.db.Pool.QueryRow(ctx, `SELECT CASE WHEN sign_in_sessions_valid_from = '-infinity' THEN 'epoch'::timestamptz
		ELSE sign_in_sessions_valid_from END, account_enabled FROM users WHERE id = $1`, userID).Scan(&t, &enabled)
	if err != nil {
		return t, false, fmt.Errorf("session state: %w", notFound(err, errUserNotFound(userID)))
	}
	return t, enabled, nil
}

func (s *Factors) RevokeSessions(ctx context.Context, userID string, at time.Time) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE users SET sign_in_sessions_valid_from = $2 WHERE id = $1`, userID, at)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errUserNotFound(userID)
	}
	return nil
}

// deleteOwned deletes a method row only if it belongs to the user, so one
// user's id cannot delete another's method.
func (s *Factors) deleteOwned(ctx context.Context, table, userID, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM `+table+` WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete method: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound(apperr.CodeNotFound, "the user has no such method")
	}
	return nil
}

var _ signin.FactsStore = (*Factors)(nil)

// SignInFacts gathers the user, memberships, roles, registered methods and
// current risk in one query: the sign-in path runs it for every decision.
func (s *Factors) SignInFacts(ctx context.Context, userID string) (signin.Facts, error) {
	var f signin.Facts
	err := s.db.Pool.QueryRow(ctx, `SELECT u.id::text, u.user_principal_name, u.display_name, u.account_enabled, u.is_emergency_access,
		COALESCE((SELECT array_agg(group_id::text) FROM group_members WHERE user_id = u.id), '{}'),
		COALESCE((SELECT array_agg(role_definition_id::text) FROM role_assignments WHERE principal_id = u.id), '{}'),
		EXISTS (SELECT 1 FROM password_credentials WHERE user_id = u.id),
		EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = u.id AND NOT clone_suspected),
		EXISTS (SELECT 1 FROM totp_methods WHERE user_id = u.id),
		EXISTS (SELECT 1 FROM push_methods WHERE user_id = u.id),
		COALESCE((SELECT risk_level FROM risky_users WHERE user_id = u.id AND risk_state IN ('atRisk', 'confirmedCompromised')), 'none'),
		EXISTS (SELECT 1 FROM temporary_access_passes WHERE user_id = u.id AND now() < start_at + make_interval(mins => lifetime_minutes)
			AND (NOT is_usable_once OR last_used_at IS NULL)),
		CASE WHEN u.sign_in_sessions_valid_from = '-infinity' THEN 'epoch'::timestamptz ELSE u.sign_in_sessions_valid_from END
		FROM users u WHERE u.id = $1`, userID).Scan(&f.UserID, &f.UserPrincipalName, &f.DisplayName, &f.Enabled, &f.IsEmergencyAccess,
		&f.GroupIDs, &f.RoleTemplateIDs, &f.HasPassword, &f.HasPasskey, &f.HasTOTP, &f.HasPush, &f.UserRiskLevel, &f.HasTAP, &f.SessionsValidFrom)
	if err != nil {
		return f, fmt.Errorf("sign-in facts: %w", notFound(err, errUserNotFound(userID)))
	}
	return f, nil
}
