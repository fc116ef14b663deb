package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/authcontext"
)

// AuthContexts implements authcontext.Store.
type AuthContexts struct{ db *DB }

// AuthContexts returns the authentication context store.
func (db *DB) AuthContexts() *AuthContexts { return &AuthContexts{db: db} }

var _ authcontext.Store = (*AuthContexts)(nil)

func errNoAuthContext(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "authentication context %q does not exist", id)
}

func (s *AuthContexts) GetAuthenticationContext(ctx context.Context, id string) (authcontext.Context, error) {
	var c authcontext.Context
	err := s.db.Pool.QueryRow(ctx, `SELECT id, display_name, description, is_available FROM authentication_contexts WHERE id = $1`, id).
		Scan(&c.ID, &c.DisplayName, &c.Description, &c.IsAvailable)
	if err != nil {
		return c, fmt.Errorf("get authentication context: %w", notFound(err, errNoAuthContext(id)))
	}
	return c, nil
}

func (s *AuthContexts) PutAuthenticationContext(ctx context.Context, c authcontext.Context) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO authentication_contexts (id, display_name, description, is_available) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET display_name = $2, description = $3, is_available = $4`, c.ID, c.DisplayName, c.Description, c.IsAvailable)
	if err != nil {
		return fmt.Errorf("put authentication context: %w", err)
	}
	return nil
}

func (s *AuthContexts) ListAuthenticationContexts(ctx context.Context) ([]authcontext.Context, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, display_name, description, is_available FROM authentication_contexts
		ORDER BY length(id), id`)
	if err != nil {
		return nil, fmt.Errorf("list authentication contexts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (authcontext.Context, error) {
		var c authcontext.Context
		err := r.Scan(&c.ID, &c.DisplayName, &c.Description, &c.IsAvailable)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list authentication contexts: %w", err)
	}
	return out, nil
}

func (s *AuthContexts) DeleteAuthenticationContext(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM authentication_contexts WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete authentication context: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errNoAuthContext(id)
	}
	return nil
}
