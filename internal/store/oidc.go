package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/oidc"
)

// OIDC implements oidc.Store.
type OIDC struct{ db *DB }

// OIDC returns the OpenID Connect provider's store.
func (db *DB) OIDC() *OIDC { return &OIDC{db: db} }

var _ oidc.Store = (*OIDC)(nil)

// oidcKeyLock serialises first-start key creation across processes.
const oidcKeyLock = 7_310_014

func (s *OIDC) EnsureOIDCKey(ctx context.Context, alg string, generate func() (oidc.SigningKey, error)) (oidc.SigningKey, error) {
	var out oidc.SigningKey
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, oidcKeyLock); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT kid, algorithm, sealed_private_key, public_key_der, created_at FROM oidc_signing_keys
			WHERE algorithm = $1 AND retired_at IS NULL`, alg).Scan(&out.KID, &out.Algorithm, &out.SealedPrivateKey, &out.PublicKeyDER, &out.CreatedAt)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if out, err = generate(); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO oidc_signing_keys (kid, algorithm, sealed_private_key, public_key_der) VALUES ($1, $2, $3, $4) RETURNING created_at`,
			out.KID, out.Algorithm, out.SealedPrivateKey, out.PublicKeyDER).Scan(&out.CreatedAt)
	})
	if err != nil {
		return out, fmt.Errorf("ensure oidc signing key: %w", err)
	}
	return out, nil
}

func (s *OIDC) RotateOIDCKey(ctx context.Context, k oidc.SigningKey) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, oidcKeyLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE oidc_signing_keys SET retired_at = now() WHERE algorithm = $1 AND retired_at IS NULL`, k.Algorithm); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO oidc_signing_keys (kid, algorithm, sealed_private_key, public_key_der) VALUES ($1, $2, $3, $4)`,
			k.KID, k.Algorithm, k.SealedPrivateKey, k.PublicKeyDER)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate oidc signing key: %w", err)
	}
	return nil
}

func (s *OIDC) OIDCKeys(ctx context.Context, since time.Time) ([]oidc.SigningKey, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT kid, algorithm, sealed_private_key, public_key_der, created_at, retired_at FROM oidc_signing_keys
		WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid`, since)
	if err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (oidc.SigningKey, error) {
		var k oidc.SigningKey
		err := r.Scan(&k.KID, &k.Algorithm, &k.SealedPrivateKey, &k.PublicKeyDER, &k.CreatedAt, &k.RetiredAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	return out, nil
}

func errNoAuthRequest() *apperr.Error {
	return apperr.NotFound(oidc.CodeUnknownAuthRequest, "no such authorization request (unknown, expired or already used)")
}

func (s *OIDC) CreateAuthRequest(ctx context.Context, r oidc.StoredAuthRequest) error {
	// Stored only while fewer than oidc.MaxPendingAuthRequests wait for a
	// sign-in: the count is capped (LIMIT), so refusing costs no more than
	// counting that many index entries.
	tag, err := s.db.Pool.Exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, request, expires_at)
		SELECT $1, $2, $3, $4
		WHERE (SELECT count(*) FROM (SELECT 1 FROM oidc_auth_requests WHERE grant_data IS NULL AND expires_at > now() LIMIT $5) pending) < $5`,
		r.ID, r.ClientID, r.Request, r.ExpiresAt, oidc.MaxPendingAuthRequests)
	if err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.RateLimited("tooManyPendingAuthRequests", "%d authorization requests are waiting for a sign-in; try again in a few minutes", oidc.MaxPendingAuthRequests)
	}
	return nil
}

func scanAuthRequest(row pgx.Row) (oidc.StoredAuthRequest, error) {
	var r oidc.StoredAuthRequest
	err := row.Scan(&r.ID, &r.ClientID, &r.Request, &r.Grant, &r.ExpiresAt)
	return r, err
}

func (s *OIDC) AuthRequest(ctx context.Context, id string, now time.Time) (oidc.StoredAuthRequest, error) {
	r, err := scanAuthRequest(s.db.Pool.QueryRow(ctx, `SELECT id::text, client_id, request, grant_data, expires_at FROM oidc_auth_requests
		WHERE id = $1 AND expires_at > $2`, id, now))
	if err != nil {
		return r, fmt.Errorf("auth request: %w", notFound(err, errNoAuthRequest()))
	}
	return r, nil
}

func (s *OIDC) CompleteAuthRequest(ctx context.Context, id, userID string, grant []byte) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE oidc_auth_requests SET user_id = $2, grant_data = $3 WHERE id = $1 AND grant_data IS NULL`, id, userID, grant)
	if err != nil {
		return fmt.Errorf("complete auth request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.Conflict(oidc.CodeAuthRequestDone, "the authorization request is unknown or already completed")
	}
	return nil
}

func (s *OIDC) SaveAuthCode(ctx context.Context, id string, codeHash []byte) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE oidc_auth_requests SET code_hash = $2 WHERE id = $1 AND grant_data IS NOT NULL AND code_hash IS NULL`, id, codeHash)
	if err != nil {
		return fmt.Errorf("save auth code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errNoAuthRequest()
	}
	return nil
}

func (s *OIDC) AuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (oidc.StoredAuthRequest, error) {
	r, err := scanAuthRequest(s.db.Pool.QueryRow(ctx, `SELECT id::text, client_id, request, grant_data, expires_at FROM oidc_auth_requests
		WHERE code_hash = $1 AND expires_at > $2`, codeHash, now))
	if err != nil {
		return r, fmt.Errorf("auth request by code: %w", notFound(err, errNoAuthRequest()))
	}
	return r, nil
}

func (s *OIDC) SpendAuthRequest(ctx context.Context, id string) error {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1 AND code_hash IS NOT NULL`, id)
	if err != nil {
		return fmt.Errorf("spend auth request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errNoAuthRequest()
	}
	return nil
}

func (s *OIDC) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete auth request: %w", err)
	}
	return nil
}

func (s *OIDC) CreateRefreshToken(ctx context.Context, t oidc.RefreshToken) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO oidc_refresh_tokens (token_hash, id, client_id, user_id, scopes, grant_data, session_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.TokenHash, t.ID, t.ClientID, t.UserID, t.Scopes, t.Grant, t.SessionAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

func errNoRefreshToken() *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "no such refresh token (unknown, expired, revoked or already used)")
}

func (s *OIDC) RefreshToken(ctx context.Context, tokenHash []byte, now time.Time) (oidc.RefreshToken, error) {
	var t oidc.RefreshToken
	err := s.db.Pool.QueryRow(ctx, `SELECT token_hash, id::text, client_id, user_id::text, scopes, grant_data, session_at, expires_at
		FROM oidc_refresh_tokens WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now).
		Scan(&t.TokenHash, &t.ID, &t.ClientID, &t.UserID, &t.Scopes, &t.Grant, &t.SessionAt, &t.ExpiresAt)
	if err != nil {
		return t, fmt.Errorf("refresh token: %w", notFound(err, errNoRefreshToken()))
	}
	return t, nil
}

func (s *OIDC) RotateRefreshToken(ctx context.Context, oldHash []byte, next oidc.RefreshToken) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM oidc_refresh_tokens WHERE token_hash = $1`, oldHash)
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errNoRefreshToken()
		}
		_, err = tx.Exec(ctx, `INSERT INTO oidc_refresh_tokens (token_hash, id, client_id, user_id, scopes, grant_data, session_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, next.TokenHash, next.ID, next.ClientID, next.UserID, next.Scopes, next.Grant, next.SessionAt, next.ExpiresAt)
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		return nil
	})
}

func (s *OIDC) DeleteRefreshToken(ctx context.Context, tokenHash []byte) error {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM oidc_refresh_tokens WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete refresh token: %w", err)
	}
	return nil
}

func (s *OIDC) PurgeExpiredOIDC(ctx context.Context, now time.Time) (int64, error) {
	a, err := s.db.Pool.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge auth requests: %w", err)
	}
	b, err := s.db.Pool.Exec(ctx, `DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	return a.RowsAffected() + b.RowsAffected(), nil
}
