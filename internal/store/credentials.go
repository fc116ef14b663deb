package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
)

// WebAuthn implements ceremony.Store.
type WebAuthn struct{ db *DB }

// WebAuthn returns the challenge and credential store.
func (db *DB) WebAuthn() *WebAuthn { return &WebAuthn{db: db} }

var _ ceremony.Store = (*WebAuthn)(nil)

func nullUUID(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// SaveChallenge stores a registration challenge (a sign-in's is sealed
// and stored nowhere: ceremony/seal.go).
func (s *WebAuthn) SaveChallenge(ctx context.Context, c ceremony.Challenge) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO webauthn_challenges (challenge_hash, kind, user_id, session_data, label, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Hash, c.Kind, nullUUID(c.UserID), c.SessionData, c.Label, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("save challenge: %w", err)
	}
	return nil
}

// AllowList answers from the allow cache (allowcache.go: no round trip)
// while it is on and holds upn; otherwise it reads the database and keeps
// the answer.
func (s *WebAuthn) AllowList(ctx context.Context, upn string) (ceremony.Allow, error) {
	if a, ok := s.db.allow.get(upn); ok {
		return a, nil
	}
	gen, on := s.db.allow.generation()
	a, err := s.readAllowList(ctx, upn)
	if err == nil && on {
		s.db.allow.put(gen, upn, a)
	}
	return a, err
}

// readAllowList is one read-only statement (no transaction id, nothing to
// commit): the allow list (credential ids and transports only) of the
// user the UPN names, and the challenge epoch. Only when the epoch is
// missing (a new database, or after a crash or failover emptied the
// unlogged table) does a second statement draw one.
func (s *WebAuthn) readAllowList(ctx context.Context, upn string) (ceremony.Allow, error) {
	var (
		a          ceremony.Allow
		epoch      pgtype.Int8
		user       pgtype.Text
		ids        [][]byte
		transports []string
	)
	err := s.db.Pool.QueryRow(ctx, `SELECT (SELECT epoch FROM webauthn_challenge_epoch), min(c.user_id::text),
			COALESCE(array_agg(c.id ORDER BY c.created_at, c.id), '{}'),
			COALESCE(array_agg(array_to_string(c.transports, ',') ORDER BY c.created_at, c.id), '{}')
		FROM users u JOIN webauthn_credentials c ON c.user_id = u.id
		WHERE $1 <> '' AND lower(u.user_principal_name) = lower($1)`, upn).Scan(&epoch, &user, &ids, &transports)
	if err != nil {
		return a, fmt.Errorf("allow list: %w", err)
	}
	a.UserID, a.Epoch = user.String, epoch.Int64
	if !epoch.Valid {
		if a.Epoch, err = s.challengeEpoch(ctx); err != nil {
			return a, err
		}
	}
	a.Credentials = make([]ceremony.CredentialRef, len(ids))
	for i := range ids {
		a.Credentials[i].ID = ids[i]
		if transports[i] != "" {
			a.Credentials[i].Transports = strings.Split(transports[i], ",")
		}
	}
	return a, nil
}

// challengeEpoch draws the challenge epoch when there is none and returns
// the one in place: servers racing to draw it all end with the winner's.
func (s *WebAuthn) challengeEpoch(ctx context.Context) (int64, error) {
	for range 3 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		var epoch int64
		err := s.db.Pool.QueryRow(ctx, `WITH drawn AS (
				INSERT INTO webauthn_challenge_epoch (epoch) VALUES ($1) ON CONFLICT (singleton) DO NOTHING RETURNING epoch)
			SELECT epoch FROM drawn UNION ALL SELECT epoch FROM webauthn_challenge_epoch LIMIT 1`, int64(binary.BigEndian.Uint64(b[:]))).Scan(&epoch)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // another server's epoch committed after this statement's snapshot
		}
		if err != nil {
			return 0, fmt.Errorf("challenge epoch: %w", err)
		}
		return epoch, nil
	}
	return 0, errors.New("challenge epoch: could not read the epoch drawn by another server")
}

func (s *WebAuthn) TakeChallenge(ctx context.Context, hash []byte, kind string) (ceremony.Challenge, error) {
	c := ceremony.Challenge{Hash: hash, Kind: kind}
	var userID *string
	err := s.db.Pool.QueryRow(ctx, `DELETE FROM webauthn_challenges WHERE challenge_hash = $1 AND kind = $2
		RETURNING user_id::text, session_data, label, expires_at`, hash, kind).Scan(&userID, &c.SessionData, &c.Label, &c.ExpiresAt)
	if err != nil {
		return c, fmt.Errorf("take challenge: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "no such challenge")))
	}
	if userID != nil {
		c.UserID = *userID
	}
	return c, nil
}

// PurgeExpiredChallenges deletes expired registration challenges, and
// used sign-in nonces a minute past their expiry on PostgreSQL's clock: by
// then the take refuses the challenge as expired (takeChallengeSQL), so
// the record is no longer needed to refuse it as used.
func (s *WebAuthn) PurgeExpiredChallenges(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM webauthn_challenges WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge challenges: %w", err)
	}
	used, err := s.db.Pool.Exec(ctx, `DELETE FROM webauthn_used_challenges WHERE expires_at < now() - interval '1 minute'`)
	if err != nil {
		return 0, fmt.Errorf("purge used challenges: %w", err)
	}
	return tag.RowsAffected() + used.RowsAffected(), nil
}

const credentialCols = `id, method_id::text, user_id::text, public_key, aaguid::text, attestation_format, attestation_type, attestation,
	backup_eligible, backup_state, user_verified, sign_count, clone_suspected, transports, attachment, display_name,
	passkey_profile_id, created_at, last_used_at`

func scanCredential(row pgx.Row) (ceremony.Credential, error) {
	var c ceremony.Credential
	var att []byte
	var count int64
	err := row.Scan(&c.ID, &c.MethodID, &c.UserID, &c.PublicKey, &c.AAGUID, &c.AttestationFormat, &c.AttestationType, &att,
		&c.BackupEligible, &c.BackupState, &c.UserVerified, &count, &c.CloneSuspected, &c.Transports, &c.Attachment, &c.DisplayName,
		&c.PasskeyProfileID, &c.CreatedAt, &c.LastUsedAt)
	if err != nil {
		return c, err
	}
	c.SignCount = uint32(count)
	if err := json.Unmarshal(att, &c.Attestation); err != nil {
		return c, fmt.Errorf("decode attestation report: %w", err)
	}
	return c, nil
}

func (s *WebAuthn) CreateCredential(ctx context.Context, c ceremony.Credential) (ceremony.Credential, error) {
	att, err := json.Marshal(c.Attestation)
	if err != nil {
		return c, err
	}
	if c.Transports == nil {
		c.Transports = []string{}
	}
	defer s.db.allow.flush() // committed (or not): this server's next begin lists it
	out, err := scanCredential(s.db.Pool.QueryRow(ctx, `INSERT INTO webauthn_credentials
		(id, method_id, user_id, public_key, aaguid, attestation_format, attestation_type, attestation, attested, trusted,
		 backup_eligible, backup_state, user_verified, sign_count, transports, attachment, display_name, passkey_profile_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING `+credentialCols,
		c.ID, c.MethodID, c.UserID, c.PublicKey, c.AAGUID, c.AttestationFormat, c.AttestationType, att, c.Attestation.Attested, c.Attestation.Trusted,
		c.BackupEligible, c.BackupState, c.UserVerified, int64(c.SignCount), c.Transports, c.Attachment, c.DisplayName, c.PasskeyProfileID))
	switch pgCode(err) {
	case "":
		return out, nil
	case pgUniqueViolation:
		return out, apperr.Conflict(ceremony.CodeCredentialExists, "this credential is already registered")
	case pgForeignKeyViolation:
		return out, errUserNotFound(c.UserID)
	}
	return out, fmt.Errorf("create credential: %w", err)
}

func errCredentialNotFound() *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "no such credential")
}

func (s *WebAuthn) GetCredential(ctx context.Context, id []byte) (ceremony.Credential, error) {
	c, err := scanCredential(s.db.Pool.QueryRow(ctx, `SELECT `+credentialCols+` FROM webauthn_credentials WHERE id = $1`, id))
	if err != nil {
		return c, fmt.Errorf("get credential: %w", notFound(err, errCredentialNotFound()))
	}
	return c, nil
}

func (s *WebAuthn) ListCredentials(ctx context.Context, userID string) ([]ceremony.Credential, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+credentialCols+` FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ceremony.Credential, error) { return scanCredential(r) })
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return out, nil
}

// RecordUse is one conditional UPDATE: of two concurrent assertions carrying
// the same counter, exactly one advances it.
func (s *WebAuthn) RecordUse(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) (bool, error) {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE webauthn_credentials SET sign_count = $2, backup_state = $3, last_used_at = $4
		WHERE id = $1 AND NOT clone_suspected AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`, id, int64(signCount), backupState, at)
	if err != nil {
		return false, fmt.Errorf("record credential use: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *WebAuthn) MarkCloneSuspected(ctx context.Context, id []byte) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE webauthn_credentials SET clone_suspected = true WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark clone suspected: %w", err)
	}
	return nil
}

// GetCredentialByMethodID finds a user's credential by its Graph method id.
func (s *WebAuthn) GetCredentialByMethodID(ctx context.Context, userID, methodID string) (ceremony.Credential, error) {
	c, err := scanCredential(s.db.Pool.QueryRow(ctx, `SELECT `+credentialCols+` FROM webauthn_credentials WHERE user_id = $1 AND method_id = $2`, userID, methodID))
	if err != nil {
		return c, fmt.Errorf("get credential: %w", notFound(err, errCredentialNotFound()))
	}
	return c, nil
}

// RenameCredential sets a passkey's display name.
func (s *WebAuthn) RenameCredential(ctx context.Context, userID, methodID, displayName string) (ceremony.Credential, error) {
	c, err := scanCredential(s.db.Pool.QueryRow(ctx, `UPDATE webauthn_credentials SET display_name = $3
		WHERE user_id = $1 AND method_id = $2 RETURNING `+credentialCols, userID, methodID, displayName))
	if err != nil {
		return c, fmt.Errorf("rename credential: %w", notFound(err, errCredentialNotFound()))
	}
	return c, nil
}

// DeleteCredentialByMethodID removes a user's passkey.
func (s *WebAuthn) DeleteCredentialByMethodID(ctx context.Context, userID, methodID string) error {
	defer s.db.allow.flush()
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1 AND method_id = $2`, userID, methodID)
	if err != nil {
		return fmt.Errorf("delete credential: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errCredentialNotFound()
	}
	return nil
}

// TakeAssertionChallenge records the challenge's nonce as used (while its
// epoch is current) and, in the same statement, reads the credential and
// its owner. Nothing recorded: NotFound; NULL credential columns: no such
// credential.
func (s *WebAuthn) TakeAssertionChallenge(ctx context.Context, ch ceremony.Challenge, credentialID []byte) (*ceremony.Credential, *ceremony.UserInfo, error) {
	var (
		taken                                   pgtype.Timestamptz
		credID                                  []byte
		methodID, owner, aaguid, format, attTyp *string
		pub, att                                []byte
		be, bs, uv, clone                       *bool
		count                                   *int64
		transports                              []string
		attachment, name, profile               *string
		created                                 *time.Time
		lastUsed                                *time.Time
		upn, display                            *string
		enabled                                 *bool
	)
	err := s.db.Pool.QueryRow(ctx, `WITH taken AS (`+takeChallengeSQL+`)
		SELECT t.expires_at,
			c.id, c.method_id::text, c.user_id::text, c.public_key, c.aaguid::text, c.attestation_format, c.attestation_type, c.attestation,
			c.backup_eligible, c.backup_state, c.user_verified, c.sign_count, c.clone_suspected, c.transports, c.attachment, c.display_name,
			c.passkey_profile_id, c.created_at, c.last_used_at, u.user_principal_name, u.display_name, u.account_enabled
		FROM (SELECT) one LEFT JOIN taken t ON true
			LEFT JOIN (webauthn_credentials c JOIN users u ON u.id = c.user_id) ON t.expires_at IS NOT NULL AND c.id = $4`,
		ch.Hash, ch.ExpiresAt, ch.Epoch, credentialID).Scan(
		&taken, &credID, &methodID, &owner, &pub, &aaguid, &format, &attTyp, &att,
		&be, &bs, &uv, &count, &clone, &transports, &attachment, &name,
		&profile, &created, &lastUsed, &upn, &display, &enabled)
	if err != nil {
		return nil, nil, fmt.Errorf("take assertion challenge: %w", err)
	}
	if !taken.Valid {
		return nil, nil, fmt.Errorf("take assertion challenge: %w", apperr.NotFound(apperr.CodeNotFound, "no such challenge"))
	}
	if credID == nil {
		return nil, nil, nil
	}
	c := &ceremony.Credential{ID: credID, MethodID: *methodID, UserID: *owner, PublicKey: pub, AAGUID: *aaguid, AttestationFormat: *format,
		AttestationType: *attTyp, BackupEligible: *be, BackupState: *bs, UserVerified: *uv, SignCount: uint32(*count), CloneSuspected: *clone,
		Transports: transports, Attachment: *attachment, DisplayName: *name, PasskeyProfileID: *profile, CreatedAt: *created, LastUsedAt: lastUsed}
	if err := json.Unmarshal(att, &c.Attestation); err != nil {
		return nil, nil, fmt.Errorf("decode attestation report: %w", err)
	}
	return c, &ceremony.UserInfo{ID: *owner, Name: *upn, DisplayName: *display, Enabled: *enabled}, nil
}

// takeChallengeSQL records a sign-in challenge's nonce ($1, expiring $2)
// as used, only while its epoch ($3) is the database's: a challenge
// sealed before a crash or failover (which empties both unlogged tables)
// names an epoch that is gone. The unique nonce makes a second take of
// the same challenge, even a concurrent one, insert nothing: it waits for
// the first's commit and then conflicts. The expiry is checked here too,
// on PostgreSQL's clock, which is also the purge's: a nonce purged a
// minute past its expiry can never be inserted again, whatever the
// servers' clocks say (their own check, ParseAssertion, comes first).
const takeChallengeSQL = `INSERT INTO webauthn_used_challenges (nonce, expires_at)
			SELECT $1, $2 WHERE $2::timestamptz > now() - interval '30 seconds'
				AND EXISTS (SELECT 1 FROM webauthn_challenge_epoch WHERE epoch = $3)
			ON CONFLICT (nonce) DO NOTHING RETURNING expires_at`
