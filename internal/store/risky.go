package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/risk"
)

// RiskyUsers implements risk.Store.
type RiskyUsers struct{ db *DB }

// RiskyUsers returns the risky-user store.
func (db *DB) RiskyUsers() *RiskyUsers { return &RiskyUsers{db: db} }

var _ risk.Store = (*RiskyUsers)(nil)

// The live user's names win; the stored copies speak for deleted users.
const riskyCols = `r.user_id::text, COALESCE(u.user_principal_name, r.user_principal_name), COALESCE(u.display_name, r.user_display_name),
	r.risk_level, r.risk_state, r.risk_detail, r.risk_last_updated_date_time, u.id IS NULL`

const riskyFrom = ` FROM risky_users r LEFT JOIN users u ON u.id = r.user_id`

func scanRisky(row pgx.Row) (risk.RiskyUser, error) {
	var r risk.RiskyUser
	err := row.Scan(&r.ID, &r.UserPrincipalName, &r.UserDisplayName, &r.RiskLevel, &r.RiskState, &r.RiskDetail, &r.RiskLastUpdatedDateTime, &r.IsDeleted)
	r.RiskLastUpdatedDateTime = r.RiskLastUpdatedDateTime.UTC()
	return r, err
}

func (s *RiskyUsers) Get(ctx context.Context, userID string) (risk.RiskyUser, error) {
	r, err := scanRisky(s.db.Pool.QueryRow(ctx, `SELECT `+riskyCols+riskyFrom+` WHERE r.user_id = $1`, userID))
	if err != nil {
		return r, fmt.Errorf("get risky user: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "user %q has no risk record", userID)))
	}
	return r, nil
}

// riskyColumns maps riskyUser's filterable properties to SQL.
var riskyColumns = map[string]column{
	"id":                      {sql: "r.user_id"},
	"userPrincipalName":       {sql: "COALESCE(u.user_principal_name, r.user_principal_name)", fold: true},
	"userDisplayName":         {sql: "COALESCE(u.display_name, r.user_display_name)", fold: true},
	"riskLevel":               {sql: "r.risk_level"},
	"riskState":               {sql: "r.risk_state"},
	"riskDetail":              {sql: "r.risk_detail"},
	"riskLastUpdatedDateTime": {sql: "r.risk_last_updated_date_time"},
	"isDeleted":               {sql: "(u.id IS NULL)"},
}

func (s *RiskyUsers) List(ctx context.Context, q directory.Query) ([]risk.RiskyUser, error) {
	var w where
	if err := applyQuery(&w, q, riskyColumns); err != nil {
		return nil, fmt.Errorf("list risky users: %w", err)
	}
	order, err := pageClause(&w, q, riskyColumns, "r.user_id")
	if err != nil {
		return nil, fmt.Errorf("list risky users: %w", err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+riskyCols+riskyFrom+w.sql()+order, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list risky users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (risk.RiskyUser, error) { return scanRisky(r) })
	if err != nil {
		return nil, fmt.Errorf("list risky users: %w", err)
	}
	return out, nil
}

// errMissingUser stops the transaction when a named user is missing, so an
// action on a list is all or nothing.
var errMissingUser = errors.New("missing user")

func (s *RiskyUsers) Apply(ctx context.Context, userIDs []string, c risk.Change) error {
	var missing string
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		// Upsert from the users table: a user absent from it yields no row,
		// which the count below detects. In id order, as every multi-user
		// write takes the users' sign-in facts versions (migration 029).
		tag, err := tx.Exec(ctx, `INSERT INTO risky_users (user_id, user_principal_name, user_display_name, risk_level, risk_state, risk_detail, risk_last_updated_date_time)
			SELECT id, user_principal_name, display_name, $2, $3, $4, $5 FROM users WHERE id = ANY($1::uuid[]) ORDER BY id
			ON CONFLICT (user_id) DO UPDATE SET user_principal_name = EXCLUDED.user_principal_name, user_display_name = EXCLUDED.user_display_name,
				risk_level = EXCLUDED.risk_level, risk_state = EXCLUDED.risk_state, risk_detail = EXCLUDED.risk_detail,
				risk_last_updated_date_time = EXCLUDED.risk_last_updated_date_time`,
			userIDs, c.RiskLevel, c.RiskState, c.RiskDetail, c.At)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) == len(userIDs) {
			// The history item of each change, in the same transaction.
			_, err := tx.Exec(ctx, `INSERT INTO risky_user_history (id, user_id, user_principal_name, user_display_name, risk_level, risk_state, risk_detail,
				risk_last_updated_date_time, initiated_by)
				SELECT gen_random_uuid(), user_id, user_principal_name, user_display_name, risk_level, risk_state, risk_detail, risk_last_updated_date_time, $2
				FROM risky_users WHERE user_id = ANY($1::uuid[])`, userIDs, c.InitiatedBy)
			return err
		}
		err = tx.QueryRow(ctx, `SELECT id::text FROM unnest($1::uuid[]) AS x(id) WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x.id) LIMIT 1`, userIDs).Scan(&missing)
		if err != nil {
			return err
		}
		return errMissingUser
	})
	if errors.Is(err, errMissingUser) {
		return apperr.NotFound(apperr.CodeNotFound, "user %q does not exist; no user's risk was changed", missing).WithTarget("userIds")
	}
	if err != nil {
		return fmt.Errorf("apply risk change: %w", err)
	}
	return nil
}

// UserRisk is one primary-key read on the sign-in path. Only atRisk and
// confirmedCompromised carry a level; every other state means not at risk,
// whatever level an older row kept.
func (s *RiskyUsers) UserRisk(ctx context.Context, userID string) (string, error) {
	var level string
	err := s.db.Pool.QueryRow(ctx, `SELECT risk_level FROM risky_users WHERE user_id = $1 AND risk_state IN ('atRisk', 'confirmedCompromised')`, userID).Scan(&level)
	if errors.Is(err, pgx.ErrNoRows) {
		return risk.LevelNone, nil
	}
	if err != nil {
		return "", fmt.Errorf("user risk: %w", err)
	}
	return level, nil
}

const historyCols = `h.id::text, h.user_id::text, COALESCE(u.user_principal_name, h.user_principal_name), COALESCE(u.display_name, h.user_display_name),
	h.risk_level, h.risk_state, h.risk_detail, h.risk_last_updated_date_time, u.id IS NULL, h.initiated_by`

const historyFrom = ` FROM risky_user_history h LEFT JOIN users u ON u.id = h.user_id`

func scanHistory(row pgx.Row) (risk.HistoryItem, error) {
	var h risk.HistoryItem
	err := row.Scan(&h.ID, &h.UserID, &h.UserPrincipalName, &h.UserDisplayName, &h.RiskLevel, &h.RiskState, &h.RiskDetail,
		&h.RiskLastUpdatedDateTime, &h.IsDeleted, &h.InitiatedBy)
	h.RiskLastUpdatedDateTime = h.RiskLastUpdatedDateTime.UTC()
	return h, err
}

// History lists up to limit of the user's risk changes, newest first,
// after the cursor when one is given (keyset on the index's order).
func (s *RiskyUsers) History(ctx context.Context, userID string, after *risk.HistoryCursor, limit int) ([]risk.HistoryItem, error) {
	var at *time.Time
	var id *string
	if after != nil {
		at, id = &after.Time, &after.ID
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+historyCols+historyFrom+` WHERE h.user_id = $1
		AND ($2::timestamptz IS NULL OR (h.risk_last_updated_date_time, h.id) < ($2, $3::uuid))
		ORDER BY h.risk_last_updated_date_time DESC, h.id DESC LIMIT $4`, userID, at, id, limit)
	if err != nil {
		return nil, fmt.Errorf("risky user history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (risk.HistoryItem, error) { return scanHistory(r) })
	if err != nil {
		return nil, fmt.Errorf("risky user history: %w", err)
	}
	return out, nil
}

// HistoryItem is one of the user's risk changes; NotFound for an id of
// another user or none.
func (s *RiskyUsers) HistoryItem(ctx context.Context, userID, id string) (risk.HistoryItem, error) {
	h, err := scanHistory(s.db.Pool.QueryRow(ctx, `SELECT `+historyCols+historyFrom+` WHERE h.user_id = $1 AND h.id = $2`, userID, id))
	if err != nil {
		return h, fmt.Errorf("risky user history item: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "user %q has no risk history item %q", userID, id)))
	}
	return h, nil
}
