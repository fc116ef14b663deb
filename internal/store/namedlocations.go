package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
)

const locationCols = `id::text, doc, created_at, modified_at`

func scanLocation(row pgx.Row) (policy.NamedLocation, error) {
	var l policy.NamedLocation
	var doc []byte
	var modified *time.Time
	if err := row.Scan(&l.ID, &doc, &l.CreatedDateTime, &modified); err != nil {
		return l, err
	}
	id, created := l.ID, l.CreatedDateTime
	if err := json.Unmarshal(doc, &l); err != nil {
		return l, fmt.Errorf("decode named location %s: %w", id, err)
	}
	l.ID, l.CreatedDateTime, l.ModifiedDateTime = id, created.UTC(), created.UTC()
	if modified != nil {
		l.ModifiedDateTime = modified.UTC()
	}
	return l, nil
}

func errLocationNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "named location %q does not exist", id)
}

func (s *ConditionalAccess) CreateNamedLocation(ctx context.Context, l policy.NamedLocation) (policy.NamedLocation, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return l, fmt.Errorf("encode named location: %w", err)
	}
	var out policy.NamedLocation
	err = s.db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanLocation(tx.QueryRow(ctx, `INSERT INTO named_locations (id, display_name, doc) VALUES ($1, $2, $3) RETURNING `+locationCols,
			l.ID, l.DisplayName, doc))
		if err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return out, fmt.Errorf("create named location: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) GetNamedLocation(ctx context.Context, id string) (policy.NamedLocation, error) {
	l, err := scanLocation(s.db.Pool.QueryRow(ctx, `SELECT `+locationCols+` FROM named_locations WHERE id = $1`, id))
	if err != nil {
		return l, fmt.Errorf("get named location: %w", notFound(err, errLocationNotFound(id)))
	}
	return l, nil
}

func (s *ConditionalAccess) ListNamedLocations(ctx context.Context) ([]policy.NamedLocation, error) {
	return listLocations(ctx, s.db.Pool)
}

func listLocations(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]policy.NamedLocation, error) {
	rows, err := q.Query(ctx, `SELECT `+locationCols+` FROM named_locations ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list named locations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (policy.NamedLocation, error) { return scanLocation(r) })
	if err != nil {
		return nil, fmt.Errorf("list named locations: %w", err)
	}
	return out, nil
}

func (s *ConditionalAccess) UpdateNamedLocation(ctx context.Context, id string, fn func(policy.NamedLocation) (policy.NamedLocation, error)) (policy.NamedLocation, error) {
	var out policy.NamedLocation
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanLocation(tx.QueryRow(ctx, `SELECT `+locationCols+` FROM named_locations WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, errLocationNotFound(id))
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if out, err = scanLocation(tx.QueryRow(ctx, `UPDATE named_locations SET display_name = $2, doc = $3, modified_at = now() WHERE id = $1 RETURNING `+locationCols,
			id, next.DisplayName, doc)); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
	if err != nil {
		return out, fmt.Errorf("update named location: %w", err)
	}
	return out, nil
}

// DeleteNamedLocation refuses to delete a location a policy names, as
// Entra does, under the same lock order as policy writes (the version row).
func (s *ConditionalAccess) DeleteNamedLocation(ctx context.Context, id string) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		var user string
		err := tx.QueryRow(ctx, `SELECT display_name FROM conditional_access_policies
			WHERE doc->'conditions'->'locations'->'includeLocations' ? $1 OR doc->'conditions'->'locations'->'excludeLocations' ? $1 LIMIT 1`, id).Scan(&user)
		if err == nil {
			return apperr.Conflict(policy.CodeNamedLocationInUse, "named location %q is used by the policy %q; remove it there first", id, user)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM named_locations WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errLocationNotFound(id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete named location: %w", err)
	}
	return nil
}
