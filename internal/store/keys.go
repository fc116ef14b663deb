package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/tokens"
)

// Keys implements tokens.KeyStore.
type Keys struct{ db *DB }

// Keys returns the signing key store.
func (db *DB) Keys() *Keys { return &Keys{db: db} }

var _ tokens.KeyStore = (*Keys)(nil)

// signingKeyLock serialises first-start key creation across processes.
const signingKeyLock = 7_310_001

func (k *Keys) EnsureSigningKey(ctx context.Context, algorithm string, generate func() (tokens.StoredKey, error)) (tokens.StoredKey, error) {
	var out tokens.StoredKey
	err := k.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, signingKeyLock); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT kid, algorithm, sealed_private_key, public_key_der, created_at FROM signing_keys
			WHERE retired_at IS NULL AND algorithm = $1 ORDER BY created_at DESC LIMIT 1`, algorithm).Scan(&out.KID, &out.Algorithm, &out.SealedPrivateKey, &out.PublicKeyDER, &out.CreatedAt)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if out, err = generate(); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO signing_keys (kid, algorithm, sealed_private_key, public_key_der) VALUES ($1, $2, $3, $4) RETURNING created_at`,
			out.KID, out.Algorithm, out.SealedPrivateKey, out.PublicKeyDER).Scan(&out.CreatedAt)
	})
	if err != nil {
		return out, fmt.Errorf("ensure signing key: %w", err)
	}
	return out, nil
}

func (k *Keys) PublicKeys(ctx context.Context) ([]tokens.StoredKey, error) {
	rows, err := k.db.Pool.Query(ctx, `SELECT kid, algorithm, public_key_der, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tokens.StoredKey, error) {
		var s tokens.StoredKey
		err := r.Scan(&s.KID, &s.Algorithm, &s.PublicKeyDER, &s.CreatedAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	return out, nil
}
