package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// ConditionalAccess implements conditionalaccess.Store. Documents are kept
// as JSONB without id and timestamps, which live in columns.
type ConditionalAccess struct{ db *DB }

// ConditionalAccess returns the Conditional Access store.
func (db *DB) ConditionalAccess() *ConditionalAccess { return &ConditionalAccess{db: db} }

var _ conditionalaccess.Store = (*ConditionalAccess)(nil)

// EmergencyAccessUserIDs lists the users flagged isEmergencyAccess, for
// lockout protection.
func (s *Directory) EmergencyAccessUserIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id::text FROM users WHERE is_emergency_access ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("emergency access users: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("emergency access users: %w", err)
	}
	return ids, nil
}

func errPolicyNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "conditional access policy %q does not exist", id)
}

func errStrengthNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "authentication strength %q does not exist", id)
}

// bumpVersion must run in every write transaction. Its row lock also
// serialises Conditional Access writes, which are rare admin actions.
func bumpVersion(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE conditional_access_version SET version = version + 1`)
	return err
}

const policyCols = `id::text, doc, created_at, modified_at`

func scanPolicy(row pgx.Row) (policy.ConditionalAccessPolicy, error) {
	var (
		p        policy.ConditionalAccessPolicy
		id       string
		doc      []byte
		created  time.Time
		modified *time.Time
	)
	if err := row.Scan(&id, &doc, &created, &modified); err != nil {
		return p, err
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		return p, fmt.Errorf("policy %s: stored document: %w", id, err)
	}
	p.ID, p.CreatedDateTime = id, created.UTC()
	if modified != nil {
		p.ModifiedDateTime = modified.UTC()
	}
	return p, nil
}

// policyDoc is what is stored of a policy, and the custom strength it
// references (nil for none or a built-in).
func policyDoc(p policy.ConditionalAccessPolicy) ([]byte, *string, error) {
	p.ID, p.CreatedDateTime, p.ModifiedDateTime = "", time.Time{}, time.Time{}
	var ref *string
	if g := p.GrantControls; g != nil && g.AuthenticationStrength != nil && !policy.IsBuiltInStrengthID(g.AuthenticationStrength.ID) {
		id := g.AuthenticationStrength.ID
		ref = &id
	}
	doc, err := json.Marshal(p)
	return doc, ref, err
}

// strengthRef classifies a write that names a custom strength that does
// not exist (deleted since validation) as the validation error it is.
func strengthRef(err error) error {
	if pgCode(err) == pgForeignKeyViolation {
		return apperr.Invalid(policy.CodeAuthenticationStrengthNotFound, "the authentication strength the policy requires does not exist").WithTarget("grantControls.authenticationStrength.id")
	}
	return err
}

func (s *ConditionalAccess) CreatePolicy(ctx context.Context, p policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) {
	doc, ref, err := policyDoc(p)
	if err != nil {
		return p, err
	}
	var out policy.ConditionalAccessPolicy
	err = s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		out, err = scanPolicy(tx.QueryRow(ctx, `INSERT INTO conditional_access_policies (id, display_name, state, custom_strength_id, doc)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+policyCols, p.ID, p.DisplayName, p.State, ref, doc))
		if err != nil {
			return strengthRef(err)
		}
		return recordOverride(ctx, tx, overrideTarget{Category: "Policy", Type: "Policy", ID: out.ID, DisplayName: out.DisplayName})
	})
	if err != nil {
		return out, fmt.Errorf("create conditional access policy: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) GetPolicy(ctx context.Context, id string) (policy.ConditionalAccessPolicy, error) {
	p, err := scanPolicy(s.db.Pool.QueryRow(ctx, `SELECT `+policyCols+` FROM conditional_access_policies WHERE id = $1`, id))
	if err != nil {
		return p, fmt.Errorf("get conditional access policy: %w", notFound(err, errPolicyNotFound(id)))
	}
	return p, nil
}

func (s *ConditionalAccess) ListPolicies(ctx context.Context, p directory.Page) ([]policy.ConditionalAccessPolicy, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+policyCols+` FROM conditional_access_policies WHERE id > $1 ORDER BY id LIMIT $2`, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list conditional access policies: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (policy.ConditionalAccessPolicy, error) { return scanPolicy(r) })
	if err != nil {
		return nil, fmt.Errorf("list conditional access policies: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) UpdatePolicy(ctx context.Context, id string, fn func(policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error)) (policy.ConditionalAccessPolicy, error) {
	var out policy.ConditionalAccessPolicy
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		// Version first: every writer takes the same lock in the same order.
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		cur, err := scanPolicy(tx.QueryRow(ctx, `SELECT `+policyCols+` FROM conditional_access_policies WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, errPolicyNotFound(id))
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		doc, ref, err := policyDoc(next)
		if err != nil {
			return err
		}
		out, err = scanPolicy(tx.QueryRow(ctx, `UPDATE conditional_access_policies
			SET display_name = $2, state = $3, custom_strength_id = $4, doc = $5, modified_at = now()
			WHERE id = $1 RETURNING `+policyCols, id, next.DisplayName, next.State, ref, doc))
		if err != nil {
			return strengthRef(err)
		}
		return recordOverride(ctx, tx, overrideTarget{Category: "Policy", Type: "Policy", ID: out.ID, DisplayName: out.DisplayName})
	})
	if err != nil {
		return out, fmt.Errorf("update conditional access policy: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) DeletePolicy(ctx context.Context, id string) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM conditional_access_policies WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			return errPolicyNotFound(id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete conditional access policy: %w", err)
	}
	return nil
}

const strengthCols = `id::text, doc, created_at, modified_at`

func scanStrength(row pgx.Row) (policy.AuthenticationStrengthPolicy, error) {
	var (
		st       policy.AuthenticationStrengthPolicy
		id       string
		doc      []byte
		created  time.Time
		modified *time.Time
	)
	if err := row.Scan(&id, &doc, &created, &modified); err != nil {
		return st, err
	}
	if err := json.Unmarshal(doc, &st); err != nil {
		return st, fmt.Errorf("strength %s: stored document: %w", id, err)
	}
	st.ID, st.CreatedDateTime = id, created.UTC()
	if modified != nil {
		st.ModifiedDateTime = modified.UTC()
	}
	return st, nil
}

func strengthDoc(st policy.AuthenticationStrengthPolicy) ([]byte, error) {
	st.ID, st.CreatedDateTime, st.ModifiedDateTime = "", time.Time{}, time.Time{}
	return json.Marshal(st)
}

func dupStrengthName(err error, name string) error {
	if pgCode(err) == pgUniqueViolation && constraintOf(err) == "authentication_strengths_name_key" {
		return apperr.Conflict(conditionalaccess.CodeDuplicateStrengthName, "another authentication strength is named %q", name).WithTarget("displayName")
	}
	return err
}

func (s *ConditionalAccess) CreateStrength(ctx context.Context, st policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error) {
	doc, err := strengthDoc(st)
	if err != nil {
		return st, err
	}
	var out policy.AuthenticationStrengthPolicy
	err = s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		out, err = scanStrength(tx.QueryRow(ctx, `INSERT INTO authentication_strengths (id, display_name, doc)
			VALUES ($1, $2, $3) RETURNING `+strengthCols, st.ID, st.DisplayName, doc))
		return dupStrengthName(err, st.DisplayName)
	})
	if err != nil {
		return out, fmt.Errorf("create authentication strength: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) GetStrength(ctx context.Context, id string) (policy.AuthenticationStrengthPolicy, error) {
	st, err := scanStrength(s.db.Pool.QueryRow(ctx, `SELECT `+strengthCols+` FROM authentication_strengths WHERE id = $1`, id))
	if err != nil {
		return st, fmt.Errorf("get authentication strength: %w", notFound(err, errStrengthNotFound(id)))
	}
	return st, nil
}

func (s *ConditionalAccess) ListStrengths(ctx context.Context, p directory.Page) ([]policy.AuthenticationStrengthPolicy, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+strengthCols+` FROM authentication_strengths WHERE id > $1 ORDER BY id LIMIT $2`, afterID(p.After), clampTop(p.Top))
	if err != nil {
		return nil, fmt.Errorf("list authentication strengths: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (policy.AuthenticationStrengthPolicy, error) { return scanStrength(r) })
	if err != nil {
		return nil, fmt.Errorf("list authentication strengths: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) UpdateStrength(ctx context.Context, id string, fn func(policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error)) (policy.AuthenticationStrengthPolicy, error) {
	var out policy.AuthenticationStrengthPolicy
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		cur, err := scanStrength(tx.QueryRow(ctx, `SELECT `+strengthCols+` FROM authentication_strengths WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, errStrengthNotFound(id))
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		doc, err := strengthDoc(next)
		if err != nil {
			return err
		}
		out, err = scanStrength(tx.QueryRow(ctx, `UPDATE authentication_strengths SET display_name = $2, doc = $3, modified_at = now()
			WHERE id = $1 RETURNING `+strengthCols, id, next.DisplayName, doc))
		return dupStrengthName(err, next.DisplayName)
	})
	if err != nil {
		return out, fmt.Errorf("update authentication strength: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) DeleteStrength(ctx context.Context, id string) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM authentication_strengths WHERE id = $1`, id)
		if pgCode(err) == pgForeignKeyViolation {
			return apperr.Conflict(conditionalaccess.CodeStrengthInUse, "authentication strength %q is required by at least one Conditional Access policy; change or delete those policies first", id)
		}
		if err == nil && tag.RowsAffected() == 0 {
			return errStrengthNotFound(id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete authentication strength: %w", err)
	}
	return nil
}

func (s *ConditionalAccess) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.Pool.QueryRow(ctx, `SELECT version FROM conditional_access_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("conditional access version: %w", err)
	}
	return v, nil
}

// Snapshot reads the version, policies and strengths in one repeatable-read
// transaction, so the version labels exactly the rows read with it.
func (s *ConditionalAccess) Snapshot(ctx context.Context) (conditionalaccess.Snapshot, error) {
	var snap conditionalaccess.Snapshot
	err := pgx.BeginTxFunc(ctx, s.db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM conditional_access_version`).Scan(&snap.Version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+policyCols+` FROM conditional_access_policies ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		if snap.Policies, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (policy.ConditionalAccessPolicy, error) { return scanPolicy(r) }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+strengthCols+` FROM authentication_strengths ORDER BY id`)
		if err != nil {
			return err
		}
		if snap.Strengths, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (policy.AuthenticationStrengthPolicy, error) { return scanStrength(r) }); err != nil {
			return err
		}
		snap.Locations, err = listLocations(ctx, tx)
		return err
	})
	if err != nil {
		return snap, fmt.Errorf("conditional access snapshot: %w", err)
	}
	return snap, nil
}
