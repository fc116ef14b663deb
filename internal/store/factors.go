package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/ratelimit"
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

// PasswordChangedAt is when the user's password was last set (ok false:
// the user has none).
func (s *Factors) PasswordChangedAt(ctx context.Context, userID string) (time.Time, bool, error) {
	var at time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT changed_at FROM password_credentials WHERE user_id = $1`, userID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return at, false, nil
	}
	if err != nil {
		return at, false, fmt.Errorf("password changed at: %w", err)
	}
	return at, true, nil
}

func (s *Factors) AddTOTP(ctx context.Context, m totp.Method) (totp.Method, error) {
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

func (s *Factors) ListTOTP(ctx context.Context, userID string) ([]totp.Method, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id::text, user_id::text, sealed_secret, last_step, created_at FROM totp_methods WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list TOTP methods: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (totp.Method, error) {
		var m totp.Method
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

func (s *Factors) AddPushMethod(ctx context.Context, m push.Method) (push.Method, error) {
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

func scanPushMethod(r pgx.Row) (push.Method, error) {
	var m push.Method
	err := r.Scan(&m.ID, &m.UserID, &m.DisplayName, &m.DeviceTokenHash, &m.CreatedAt)
	return m, err
}

func (s *Factors) ListPushMethods(ctx context.Context, userID string) ([]push.Method, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+pushMethodCols+` FROM push_methods WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list push methods: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (push.Method, error) { return scanPushMethod(r) })
	if err != nil {
		return nil, fmt.Errorf("list push methods: %w", err)
	}
	return out, nil
}

func (s *Factors) DeletePushMethod(ctx context.Context, userID, id string) error {
	return s.deleteOwned(ctx, "push_methods", userID, id)
}

func (s *Factors) PushMethodByToken(ctx context.Context, tokenHash []byte) (push.Method, error) {
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

// factsColumns are the Facts of the user aliased u, in scanFacts's order:
// groups, roles, registered methods, current risk and session validity, as
// subqueries on their indexes.
const factsColumns = factsUserColumns + `,
		EXISTS (SELECT 1 FROM temporary_access_passes WHERE user_id = u.id AND now() < start_at + make_interval(mins => lifetime_minutes)
			AND (NOT is_usable_once OR last_used_at IS NULL)),
		` + factsSessionsColumn

// factsUserColumns, the TAP's column, factsSessionsColumn: factsColumns,
// which factsCopyColumns shares but for the TAP, kept there as data.
const (
	factsUserColumns = `u.id::text, u.user_principal_name, u.display_name, u.account_enabled, u.is_emergency_access,
		COALESCE((SELECT array_agg(group_id::text) FROM group_members WHERE user_id = u.id), '{}'),
		COALESCE((SELECT array_agg(role_definition_id::text) FROM role_assignments WHERE principal_id = u.id), '{}'),
		EXISTS (SELECT 1 FROM password_credentials WHERE user_id = u.id),
		EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = u.id AND NOT clone_suspected),
		EXISTS (SELECT 1 FROM totp_methods WHERE user_id = u.id),
		EXISTS (SELECT 1 FROM push_methods WHERE user_id = u.id),
		COALESCE((SELECT risk_level FROM risky_users WHERE user_id = u.id AND risk_state IN ('atRisk', 'confirmedCompromised')), 'none')`
	factsSessionsColumn = `CASE WHEN u.sign_in_sessions_valid_from = '-infinity' THEN 'epoch'::timestamptz ELSE u.sign_in_sessions_valid_from END`
)

// factsCopyColumns are factsColumns for a copy kept across statements
// (factsCache): whether a pass is usable depends on the clock, so the
// latest end of the user's usable passes is read instead (NULL: none),
// and the owner's sign-in facts version (migration 029) with them.
const factsCopyColumns = factsUserColumns + `,
		(SELECT max(start_at + make_interval(mins => lifetime_minutes)) FROM temporary_access_passes WHERE user_id = u.id
			AND (NOT is_usable_once OR last_used_at IS NULL)),
		` + factsSessionsColumn + `,
		COALESCE((SELECT version FROM sign_in_facts_versions WHERE user_id = u.id), 0)`

func factsDest(f *signin.Facts) []any {
	return []any{&f.UserID, &f.UserPrincipalName, &f.DisplayName, &f.Enabled, &f.IsEmergencyAccess,
		&f.GroupIDs, &f.RoleTemplateIDs, &f.HasPassword, &f.HasPasskey, &f.HasTOTP, &f.HasPush, &f.UserRiskLevel, &f.HasTAP, &f.SessionsValidFrom}
}

// SignInFacts gathers the user, memberships, roles, registered methods and
// current risk in one query: the sign-in path runs it for every decision.
func (s *Factors) SignInFacts(ctx context.Context, userID string) (signin.Facts, error) {
	var f signin.Facts
	err := s.db.Pool.QueryRow(ctx, `SELECT `+factsColumns+` FROM users u WHERE u.id = $1`, userID).Scan(factsDest(&f)...)
	if err != nil {
		return f, fmt.Errorf("sign-in facts: %w", notFound(err, errUserNotFound(userID)))
	}
	return f, nil
}

// TakePasskeyAssertion is the first of a passkey sign-in's two round trips:
// one statement records the sealed challenge's nonce as used while its
// epoch is current (takeChallengeSQL: an unlogged row, no WAL flush) and
// reads the credential the assertion names, only the columns verification
// and the sign-in record need (and its last use, so a use that changes
// nothing is only checked: ceremony.Use.Unchanged), with the Conditional Access version and
// its owner's sign-in facts version (migration 029). The owner's Facts
// come from this server's copy when that version is the copy's
// (factsCache: then the statement carries none of the facts' subqueries);
// without a copy the statement reads them too and the copy is made; a
// copy whose version moved is read again by a statement of its own, once
// per change. With a claim it also reserves the failure limiter's attempt
// (reserveAttemptSQL, on the unlogged client_attempts: still no WAL
// flush), carrying the settlements of the client's earlier attempts.
// The reservation is the statement's last step (the select list's last
// columns read it, after the joins and the facts' subqueries), so the
// client's row lock is held only to the commit, which waits for no WAL
// flush (both tables are unlogged).
// The grant is answered whenever the statement ran, with or without a
// challenge. Not taken (used, expired, or its epoch gone): NotFound; no
// credential: nil Credential.
func (s *Factors) TakePasskeyAssertion(ctx context.Context, ch ceremony.Challenge, credentialID []byte, claim *ratelimit.Claim) (signin.PasskeyAssertion, error) {
	// pgtype values rather than pointers for the nullable columns: a
	// pointer destination costs an allocation per column and row.
	var (
		a                              signin.PasskeyAssertion
		methodID, owner, aaguid        pgtype.Text
		format, attType, model, attach pgtype.Text
		profile                        pgtype.Text
		expires, reserved, now, used   pgtype.Timestamptz
		version                        int64
		epoch, factsVersion            pgtype.Int8
		failures                       pgtype.Int4
		credID, pub                    []byte
		be, bs, uv, clone              pgtype.Bool
		count                          pgtype.Int8
		trans                          []string
		f                              nullableFacts
		args                           = []any{ch.Hash, ch.ExpiresAt, ch.Epoch, credentialID}
	)
	copied, haveCopy := s.db.facts.get(credentialID)
	statement := takePasskeyAssertion[takeShape{reserve: claim != nil, facts: !haveCopy}]
	if claim != nil {
		args = append(args, claimArgs(*claim)...)
	}
	a.Challenge = ch
	dest := []any{&expires, &version, &epoch, &now, &factsVersion,
		&credID, &methodID, &owner, &pub, &aaguid, &format, &attType, &model, &be, &bs, &uv, &count, &clone, &trans, &attach, &profile, &used}
	if !haveCopy {
		dest = append(dest, f.copyDest()...)
	}
	dest = append(dest, &reserved, &failures)
	if err := s.db.Pool.QueryRow(ctx, statement, args...).Scan(dest...); err != nil {
		return a, fmt.Errorf("take passkey assertion: %w", err)
	}
	if claim != nil {
		a.Grant = &ratelimit.Grant{Granted: reserved.Valid}
		if reserved.Valid {
			a.Grant.WindowStart = reserved.Time.UTC()
		} else {
			a.Grant.Failures = int(failures.Int32)
		}
	}
	if !expires.Valid {
		if epoch.Int64 != ch.Epoch || !epoch.Valid {
			// Sealed under an epoch that is gone: the cache may still hold
			// it (its listener has not yet seen the crash or failover).
			s.db.allow.flush()
		}
		return a, fmt.Errorf("take passkey assertion: %w", apperr.NotFound(apperr.CodeNotFound, "no such challenge"))
	}
	a.PolicyVersion = version
	if credID == nil {
		return a, nil
	}
	c := &ceremony.Credential{ID: credID, MethodID: methodID.String, UserID: owner.String, PublicKey: pub, AAGUID: aaguid.String, AttestationFormat: format.String,
		AttestationType: attType.String, BackupEligible: be.Bool, BackupState: bs.Bool, UserVerified: uv.Bool, SignCount: uint32(count.Int64), CloneSuspected: clone.Bool,
		Transports: trans, Attachment: attach.String, PasskeyProfileID: profile.String}
	c.Attestation.Model = model.String
	if used.Valid {
		c.LastUsedAt = &used.Time
	}
	a.Credential = c
	switch {
	case !haveCopy:
		copied = f.copy()
		copied.epoch = epoch.Int64
		s.db.facts.put(credID, copied, c)
	case copied.version != factsVersion.Int64 || copied.epoch != epoch.Int64 || copied.facts.UserID != owner.String:
		// Changed since the copy was read: read it again, once.
		var err error
		if copied, err = s.readFactsCopy(ctx, owner.String); err != nil {
			return a, fmt.Errorf("take passkey assertion: %w", err)
		}
		// The epoch the take read: readFactsCopy's statement is later, so
		// if the epoch moved in between, the next take reads again.
		copied.epoch = epoch.Int64
		s.db.facts.put(credID, copied, c)
		a.Facts = copied.at(copied.readAt)
		return a, nil
	}
	s.db.facts.setCredential(credID, c)
	a.Facts = copied.at(now.Time)
	return a, nil
}

// PeekPasskeyAssertion is what TakePasskeyAssertion would read, from this
// server's copy alone (no I/O): the passkey as last read or committed
// here, its owner's facts at the copy's version (returned, for the claim
// that checks it at the commit: signinlog.ChallengeClaim). ok is false
// without a copy of both read under the challenge's epoch, or for a
// flagged passkey; the caller then takes the long way.
func (s *Factors) PeekPasskeyAssertion(ch ceremony.Challenge, credentialID []byte, now time.Time) (a signin.PasskeyAssertion, factsVersion int64, ok bool) {
	copied, have := s.db.facts.get(credentialID)
	if !have || copied.cred == nil || copied.epoch != ch.Epoch || copied.cred.CloneSuspected || copied.facts.UserID != copied.cred.UserID {
		return a, 0, false
	}
	cc := *copied.cred
	a.Challenge, a.Credential, a.Facts = ch, &cc, copied.at(now)
	return a, copied.version, true
}

// readFactsCopy reads userID's facts as factsCache keeps them, in one
// statement (so the version is the facts' own).
func (s *Factors) readFactsCopy(ctx context.Context, userID string) (cachedFacts, error) {
	var f nullableFacts
	var now time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT now(), `+factsCopyColumns+` FROM users u WHERE u.id = $1`, userID).Scan(append([]any{&now}, f.copyDest()...)...)
	if err != nil {
		return cachedFacts{}, fmt.Errorf("sign-in facts: %w", notFound(err, errUserNotFound(userID)))
	}
	c := f.copy()
	c.readAt = now
	return c, nil
}

// takeShape picks one of TakePasskeyAssertion's four statements.
type takeShape struct{ reserve, facts bool }

// takePasskeyAssertionSQL is TakePasskeyAssertion's statement; reserve
// adds the limiter's claim ($5..$11), evaluated last: PostgreSQL runs a
// data-modifying WITH when its output is first read, here by the select
// list's last expression; facts adds the owner's facts (factsCopyColumns).
// Without facts the statement has no subquery on the owner at all: the
// cost of the facts is mostly the executor's set-up of their subplans,
// paid whether or not they run (measured: gating them on a condition
// that is false costs as much as running them). It always returns one
// row (the challenge's columns NULL when there was none), so a grant is
// answered either way.
func takePasskeyAssertionSQL(shape takeShape) string {
	with, grant, facts := "", "NULL::timestamptz, NULL::int", ""
	// The owner is joined only for its facts: a credential cannot outlive
	// its user (the foreign key cascades), so the lean shape reads the
	// credential alone.
	credential := "webauthn_credentials c"
	if shape.reserve {
		with = ",\n\t\treserved AS (" + reserveAttemptSQL(5) + ")"
		grant = "(SELECT window_start FROM reserved), (SELECT failures FROM client_attempts WHERE client_key = $5::text)"
	}
	if shape.facts {
		facts = factsCopyColumns + ",\n\t\t\t"
		credential = "(webauthn_credentials c JOIN users u ON u.id = c.user_id)"
	}
	return `WITH taken AS (` + takeChallengeSQL + `)` + with + `
		SELECT t.expires_at, (SELECT version FROM conditional_access_version), (SELECT epoch FROM webauthn_challenge_epoch), now(),
			COALESCE(fv.version, 0),
			c.id, c.method_id::text, c.user_id::text, c.public_key, c.aaguid::text, c.attestation_format, c.attestation_type,
			c.attestation->>'model', c.backup_eligible, c.backup_state, c.user_verified, c.sign_count, c.clone_suspected,
			c.transports, c.attachment, c.passkey_profile_id, c.last_used_at, ` + facts + grant + `
		FROM (SELECT) one LEFT JOIN taken t ON true
			LEFT JOIN ` + credential + ` ON t.expires_at IS NOT NULL AND c.id = $4
			LEFT JOIN sign_in_facts_versions fv ON fv.user_id = c.user_id`
}

var takePasskeyAssertion = map[takeShape]string{}

func init() {
	for _, reserve := range []bool{false, true} {
		for _, facts := range []bool{false, true} {
			shape := takeShape{reserve: reserve, facts: facts}
			takePasskeyAssertion[shape] = takePasskeyAssertionSQL(shape)
		}
	}
}

// nullableFacts scans factsCopyColumns (copyDest), possibly from the
// nullable side of a LEFT JOIN.
type nullableFacts struct {
	id, upn, name       pgtype.Text
	enabled, emergency  pgtype.Bool
	groups, roles       []string
	pw, pk, totp, push  pgtype.Bool
	risk                pgtype.Text
	validFrom, tapUntil pgtype.Timestamptz
	version             int64
}

func (n *nullableFacts) copyDest() []any {
	return []any{&n.id, &n.upn, &n.name, &n.enabled, &n.emergency, &n.groups, &n.roles, &n.pw, &n.pk, &n.totp, &n.push, &n.risk, &n.tapUntil, &n.validFrom, &n.version}
}

func (n *nullableFacts) facts() signin.Facts {
	return signin.Facts{UserID: n.id.String, UserPrincipalName: n.upn.String, DisplayName: n.name.String, Enabled: n.enabled.Bool,
		IsEmergencyAccess: n.emergency.Bool, GroupIDs: n.groups, RoleTemplateIDs: n.roles, HasPassword: n.pw.Bool, HasPasskey: n.pk.Bool,
		HasTOTP: n.totp.Bool, HasPush: n.push.Bool, UserRiskLevel: n.risk.String, SessionsValidFrom: n.validFrom.Time}
}

// copy is what copyDest scanned, as factsCache keeps it.
func (n *nullableFacts) copy() cachedFacts {
	c := cachedFacts{version: n.version, facts: n.facts()}
	if n.tapUntil.Valid {
		c.tapUntil = n.tapUntil.Time
	}
	return c
}
