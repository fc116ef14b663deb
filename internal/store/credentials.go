package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

// SaveChallenge stores a challenge. For an anonymous caller (c.Client set)
// the insert happens only while that client, and all anonymous clients
// together, hold fewer unexpired challenges than c.Pending allows: the
// counts ride in the same statement (capped subqueries on a partial
// index), so the bound adds no round trip to begin.
func (s *WebAuthn) SaveChallenge(ctx context.Context, c ceremony.Challenge) error {
	if c.Client == "" {
		_, err := s.db.Pool.Exec(ctx, `INSERT INTO webauthn_challenges (challenge_hash, kind, user_id, session_data, label, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.Hash, c.Kind, nullUUID(c.UserID), c.SessionData, c.Label, c.ExpiresAt)
		if err != nil {
			return fmt.Errorf("save challenge: %w", err)
		}
		return nil
	}
	tag, err := s.db.Pool.Exec(ctx, `INSERT INTO webauthn_challenges (challenge_hash, kind, user_id, session_data, label, expires_at, client_key)
		SELECT $1, $2, $3, $4, $5, $6, $7
		WHERE (SELECT count(*) FROM (SELECT 1 FROM webauthn_challenges WHERE client_key = $7 AND expires_at > now() LIMIT $8) mine) < $8
		  AND (SELECT count(*) FROM (SELECT 1 FROM webauthn_challenges WHERE client_key IS NOT NULL AND expires_at > now() LIMIT $9) anyone) < $9`,
		c.Hash, c.Kind, nullUUID(c.UserID), c.SessionData, c.Label, c.ExpiresAt, c.Client, c.Pending.PerClient, c.Pending.Total)
	if err != nil {
		return fmt.Errorf("save challenge: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.RateLimited(ceremony.CodeTooManyPendingChallenges, "too many sign-ins are in progress from this client (or in all); finish or abandon some and try again in a few minutes")
	}
	s.db.pending.saved()
	return nil
}

// BeginAssertion is one statement: it binds the challenge to the user only
// when the UPN names one with passkeys, stores it (webauthn_challenges is
// UNLOGGED, so the commit waits for no WAL flush) within the anonymous
// clients' pending bound when c.Client is set, and returns the allow list,
// credential ids and transports only. The per-client count is made every
// time; the total's only when pendingEstimate says it could matter.
func (s *WebAuthn) BeginAssertion(ctx context.Context, upn string, c ceremony.Challenge) ([]ceremony.CredentialRef, error) {
	var client any
	count := false // the total bound's count of every pending challenge (pendingEstimate)
	now := time.Now()
	if c.Client != "" {
		client = c.Client
		count = s.db.pending.mustCount(now, c.Pending.Total)
	}
	var (
		saved      bool
		total      *int
		ids        [][]byte
		transports []string
	)
	err := s.db.Pool.QueryRow(ctx, `WITH allow AS (
			SELECT c.user_id, c.id, c.transports, c.created_at FROM users u JOIN webauthn_credentials c ON c.user_id = u.id
			WHERE $1 <> '' AND lower(u.user_principal_name) = lower($1)),
		anyone AS (
			SELECT count(*)::int AS n FROM (SELECT 1 FROM webauthn_challenges WHERE $7::boolean AND client_key IS NOT NULL AND expires_at > now() LIMIT $6) a),
		ins AS (
			INSERT INTO webauthn_challenges (challenge_hash, kind, user_id, session_data, expires_at, client_key)
			SELECT $2, 'authentication', (SELECT user_id FROM allow LIMIT 1), '', $3, $4::text
			WHERE $4::text IS NULL OR (
				(SELECT count(*) FROM (SELECT 1 FROM webauthn_challenges WHERE client_key = $4::text AND expires_at > now() LIMIT $5) mine) < $5
				AND (NOT $7::boolean OR (SELECT n FROM anyone) < $6))
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM ins), CASE WHEN $7::boolean THEN (SELECT n FROM anyone) END,
			COALESCE(array_agg(id ORDER BY created_at, id), '{}'),
			COALESCE(array_agg(array_to_string(transports, ',') ORDER BY created_at, id), '{}')
		FROM allow`, upn, c.Hash, c.ExpiresAt, client, c.Pending.PerClient, c.Pending.Total, count).Scan(&saved, &total, &ids, &transports)
	if err != nil {
		return nil, fmt.Errorf("begin assertion: %w", err)
	}
	if total != nil {
		n := *total
		if saved {
			n++
		}
		s.db.pending.record(now, n)
	}
	if !saved {
		return nil, apperr.RateLimited(ceremony.CodeTooManyPendingChallenges, "too many sign-ins are in progress from this client (or in all); finish or abandon some and try again in a few minutes")
	}
	refs := make([]ceremony.CredentialRef, len(ids))
	for i := range ids {
		refs[i].ID = ids[i]
		if transports[i] != "" {
			refs[i].Transports = strings.Split(transports[i], ",")
		}
	}
	return refs, nil
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

func (s *WebAuthn) PurgeExpiredChallenges(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM webauthn_challenges WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge challenges: %w", err)
	}
	return tag.RowsAffected(), nil
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
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1 AND method_id = $2`, userID, methodID)
	if err != nil {
		return fmt.Errorf("delete credential: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errCredentialNotFound()
	}
	return nil
}

// TakeAssertionChallenge deletes the challenge and, in the same statement,
// reads the credential and its owner. No row: no such challenge; NULL
// credential columns: no such credential.
func (s *WebAuthn) TakeAssertionChallenge(ctx context.Context, hash, credentialID []byte) (ceremony.Challenge, *ceremony.Credential, *ceremony.UserInfo, error) {
	ch := ceremony.Challenge{Hash: hash, Kind: ceremony.KindAuthentication}
	var (
		userID                                  *string
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
	err := s.db.Pool.QueryRow(ctx, `WITH taken AS (
			DELETE FROM webauthn_challenges WHERE challenge_hash = $1 AND kind = 'authentication'
			RETURNING user_id, session_data, label, expires_at)
		SELECT t.user_id::text, t.session_data, t.label, t.expires_at,
			c.id, c.method_id::text, c.user_id::text, c.public_key, c.aaguid::text, c.attestation_format, c.attestation_type, c.attestation,
			c.backup_eligible, c.backup_state, c.user_verified, c.sign_count, c.clone_suspected, c.transports, c.attachment, c.display_name,
			c.passkey_profile_id, c.created_at, c.last_used_at, u.user_principal_name, u.display_name, u.account_enabled
		FROM taken t LEFT JOIN (webauthn_credentials c JOIN users u ON u.id = c.user_id) ON c.id = $2`, hash, credentialID).Scan(
		&userID, &ch.SessionData, &ch.Label, &ch.ExpiresAt,
		&credID, &methodID, &owner, &pub, &aaguid, &format, &attTyp, &att,
		&be, &bs, &uv, &count, &clone, &transports, &attachment, &name,
		&profile, &created, &lastUsed, &upn, &display, &enabled)
	if err != nil {
		return ch, nil, nil, fmt.Errorf("take assertion challenge: %w", notFound(err, apperr.NotFound(apperr.CodeNotFound, "no such challenge")))
	}
	if userID != nil {
		ch.UserID = *userID
	}
	if credID == nil {
		return ch, nil, nil, nil
	}
	c := &ceremony.Credential{ID: credID, MethodID: *methodID, UserID: *owner, PublicKey: pub, AAGUID: *aaguid, AttestationFormat: *format,
		AttestationType: *attTyp, BackupEligible: *be, BackupState: *bs, UserVerified: *uv, SignCount: uint32(*count), CloneSuspected: *clone,
		Transports: transports, Attachment: *attachment, DisplayName: *name, PasskeyProfileID: *profile, CreatedAt: *created, LastUsedAt: lastUsed}
	if err := json.Unmarshal(att, &c.Attestation); err != nil {
		return ch, nil, nil, fmt.Errorf("decode attestation report: %w", err)
	}
	return ch, c, &ceremony.UserInfo{ID: *owner, Name: *upn, DisplayName: *display, Enabled: *enabled}, nil
}
