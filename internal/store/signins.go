package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// SignIns implements signinlog.Store.
type SignIns struct{ db *DB }

// SignIns returns the sign-in log and alert store.
func (db *DB) SignIns() *SignIns { return &SignIns{db: db} }

var _ signinlog.Store = (*SignIns)(nil)

// A batch is ONE round trip and ONE commit: the statements below are sent
// as one pgx batch without BEGIN/COMMIT, which PostgreSQL runs as a single
// implicit transaction (committed at the batch's Sync, rolled back whole
// if any statement fails). Arrays are unnested server side, so a batch of
// any size is one plan per statement.
//
// insertEntries advances each passkey's counter with a conditional update
// (it must still grow, or stay 0 for authenticators without a counter, on a
// credential not flagged as cloned) and inserts the records whose use
// advanced or that carry none; it returns the sign-in ids whose use
// advanced. A use that changes nothing but a last use less than a minute
// old and not ahead of the use (an authenticator without a counter, the
// same backup state; ceremony.Use.Unchanged judges the same) writes no
// row (kept): the credential is only checked, so a busy passkey's row
// is not rewritten, with its WAL, on every sign-in; its lastUsedDateTime
// is then at most a minute behind. ON CONFLICT DO NOTHING makes a retried record (same id, same
// time) a no-op; the key carries the time because the table is partitioned
// by it (migrations/020_log_partitions.sql).
// The alert follows its sign-in, only if the sign-in was stored (sign_in_id
// is unique).
// With claims (signinlog.ChallengeClaim: a sign-in decided on this
// server's copies, without the take's round trip), both statements also
// take each claimed challenge, as the take would (its nonce recorded as
// used while its epoch is current and it has not expired), but only while
// its owner's sign-in facts and the Conditional Access policies are at
// the versions the decision read; a record whose claim did not hold
// stores nothing, advances nothing and leaves its challenge untaken. A
// batch claims each challenge at most once (the writer splits repeats).
//
// Each statement returns (kind, key) rows: the sign-in ids whose use
// advanced (kind 0: the credential written) or was kept (1), for
// insertEntries, or the credential ids, in hex, that passed the check (1),
// for insertCheckedRecords; and the sign-in ids whose claim held (2).
func insertEntriesSQL(claims bool) string {
	cols, params, claimed, onlyClaimed, claimedRows := claimParts(claims, 15)
	return `WITH r AS (
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bool[], $9::text[],
				$10::bool[], $11::bytea[], $12::bigint[], $13::bool[], $14::timestamptz[]` + params + `)
			AS x(id, t, uid, upn, app, code, cas, em, rec, has_use, cred, cnt, bs, used_at` + cols + `)),` + claimed + `
		adv AS (
			UPDATE webauthn_credentials c SET sign_count = r.cnt, backup_state = r.bs, last_used_at = r.used_at
			FROM r WHERE r.has_use AND c.id = r.cred AND NOT c.clone_suspected AND (c.sign_count < r.cnt OR (c.sign_count = 0 AND r.cnt = 0))
				AND NOT (c.sign_count = r.cnt AND c.backup_state = r.bs
					AND COALESCE(c.last_used_at >= r.used_at - interval '1 minute' AND c.last_used_at <= r.used_at, false))` + onlyClaimed + `
			RETURNING r.id),
		kept AS (
			SELECT r.id FROM r JOIN webauthn_credentials c ON c.id = r.cred
			WHERE r.has_use AND NOT c.clone_suspected AND c.sign_count = 0 AND r.cnt = 0
				AND c.backup_state = r.bs AND c.last_used_at >= r.used_at - interval '1 minute' AND c.last_used_at <= r.used_at` + onlyClaimed + `),
		ins AS (
			INSERT INTO signin_logs (id, created_date_time, user_id, user_principal_name, app_id, error_code,
				conditional_access_status, is_emergency_access, record)
			SELECT id::uuid, t, NULLIF(uid, '')::uuid, upn, app, code, cas, em, rec FROM r
			WHERE (NOT r.has_use OR r.id IN (SELECT id FROM adv) OR r.id IN (SELECT id FROM kept))` + onlyClaimed + `
			ON CONFLICT (created_date_time, id) DO NOTHING)
		SELECT 0, id FROM adv UNION ALL SELECT 1, id FROM kept` + claimedRows
}

// heldSQL names the records of r whose claim held: taken now, or taken
// for this very record before (the writer retrying alone a record whose
// batch failed after its commit, e.g. a connection lost after COMMIT:
// migration 030), so a retry is not a refusal.
const heldSQL = `SELECT r.id FROM r WHERE r.nonce IS NOT NULL AND (r.nonce IN (SELECT nonce FROM claimed)
			OR EXISTS (SELECT 1 FROM webauthn_used_challenges u WHERE u.nonce = r.nonce AND u.sign_in_id = r.id::uuid))`

// claimParts are the pieces a statement's claims add (none without):
// r's columns and their arrays (parameters from first on), the CTEs that
// take the challenges, the condition that keeps a record (and its use) to
// a held claim, and the result rows of the held claims.
func claimParts(claims bool, first int) (cols, params, ctes, onlyHeld, heldRows string) {
	if !claims {
		return "", "", "", "", ""
	}
	for i, typ := range []string{"bytea", "timestamptz", "bigint", "bigint", "bigint"} {
		params += fmt.Sprintf(", $%d::%s[]", first+i, typ)
	}
	return ", nonce, nexp, nepoch, fv, cav", params, "\n\t\tclaimed AS (" + claimSQL + "),\n\t\theld AS (" + heldSQL + "),",
		" AND (r.nonce IS NULL OR r.id IN (SELECT id FROM held))", " UNION ALL SELECT 2, id FROM held"
}

// claimSQL takes the claimed challenges of r (see insertEntriesSQL).
const claimSQL = `INSERT INTO webauthn_used_challenges (nonce, expires_at, sign_in_id)
			SELECT r.nonce, r.nexp, r.id::uuid FROM r
			WHERE r.nonce IS NOT NULL AND r.nexp > now() - interval '30 seconds'
				AND EXISTS (SELECT 1 FROM webauthn_challenge_epoch WHERE epoch = r.nepoch)
				AND r.cav = (SELECT version FROM conditional_access_version)
				AND r.fv = COALESCE((SELECT v.version FROM sign_in_facts_versions v WHERE v.user_id = NULLIF(r.uid, '')::uuid), 0)
			ON CONFLICT (nonce) DO NOTHING RETURNING nonce`

// insertCheckedRecordsSQL is insertEntries for a batch whose uses are all
// check-only (signinlog.CredentialUse.CheckOnly: the usual batch of
// passkeys without a counter), without the update and its CTEs, whose
// set-up cost more than the records' insert (a batch of two: about
// 270-320 µs of the backend's CPU against 190-250 µs this way). A record
// with a use ($11) is stored only while its credential ($10) is there,
// unflagged and without a counter, as committed when the statement starts
// (as insertEntries' kept judges it: no row lock, so a flag committed
// meanwhile counts from the next sign-in); the statement returns the
// credential ids that passed, judged apart from the insert, so a retried
// record (ON CONFLICT) is not taken for a refused one.
func insertCheckedRecordsSQL(claims bool) string {
	cols, params, claimed, onlyClaimed, claimedRows := claimParts(claims, 12)
	return `WITH r AS (
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bool[], $9::text[], $10::bytea[], $11::bool[]` + params + `)
			AS x(id, t, uid, upn, app, code, cas, em, rec, cred, has_use` + cols + `)),` + claimed + `
		ok AS (
			SELECT c.id FROM webauthn_credentials c WHERE c.id = ANY($10::bytea[]) AND NOT c.clone_suspected AND c.sign_count = 0),
		ins AS (
			INSERT INTO signin_logs (id, created_date_time, user_id, user_principal_name, app_id, error_code,
				conditional_access_status, is_emergency_access, record)
			SELECT id::uuid, t, NULLIF(uid, '')::uuid, upn, app, code, cas, em, rec FROM r
			WHERE (NOT r.has_use OR r.cred IN (SELECT id FROM ok))` + onlyClaimed + `
			ON CONFLICT (created_date_time, id) DO NOTHING)
		SELECT 1, encode(id, 'hex') FROM ok` + claimedRows
}

var (
	insertEntries        = [2]string{insertEntriesSQL(false), insertEntriesSQL(true)}
	insertCheckedRecords = [2]string{insertCheckedRecordsSQL(false), insertCheckedRecordsSQL(true)}
)

const (
	// insertRecords is insertEntries for a batch without a credential use
	// (TAP, password and refused sign-ins): the records alone.
	insertRecords = `INSERT INTO signin_logs (id, created_date_time, user_id, user_principal_name, app_id, error_code,
			conditional_access_status, is_emergency_access, record)
		SELECT id::uuid, t, NULLIF(uid, '')::uuid, upn, app, code, cas, em, rec
		FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bool[], $9::text[])
			AS x(id, t, uid, upn, app, code, cas, em, rec)
		ON CONFLICT (created_date_time, id) DO NOTHING`
	insertAlerts = `INSERT INTO security_alerts (id, sign_in_id, created_date_time, last_update_date_time, status, severity,
			title, description, user_id, user_principal_name, user_display_name)
		SELECT id::uuid, sid::uuid, t, t, 'new', sev, title, descr, NULLIF(uid, '')::uuid, upn, dn
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
			AS x(id, sid, t, sev, title, descr, uid, upn, dn)
		WHERE EXISTS (SELECT 1 FROM signin_logs WHERE signin_logs.id = sid::uuid)
		ON CONFLICT (sign_in_id) DO NOTHING`
)

// withoutNUL replaces each escaped NUL (\u0000, which encoding/json writes
// for a NUL in a string) with U+FFFD: the record is stored as text
// (migration 028) but read back as jsonb by the impact report, and jsonb
// has no NUL, so one such record would fail every report over its window.
// A "\\u0000" (an escaped backslash, then "u0000") is text, not a NUL, and
// is kept.
func withoutNUL(doc []byte) []byte {
	const nul = `\u0000`
	if !bytes.Contains(doc, []byte(nul)) {
		return doc
	}
	out := make([]byte, 0, len(doc))
	for i := 0; i < len(doc); i++ {
		if doc[i] == '\\' && i+1 < len(doc) {
			if bytes.HasPrefix(doc[i:], []byte(nul)) {
				out = append(out, `\ufffd`...)
				i += len(nul) - 1
				continue
			}
			out = append(out, doc[i], doc[i+1]) // an escape: its second byte is never a new escape's start
			i++
			continue
		}
		out = append(out, doc[i])
	}
	return out
}

// InsertSignIns stores records that carry no credential use.
func (s *SignIns) InsertSignIns(ctx context.Context, recs []signinlog.SignIn) error {
	entries := make([]signinlog.Entry, len(recs))
	for i, r := range recs {
		entries[i].SignIn = r
	}
	_, err := s.InsertEntries(ctx, entries)
	return err
}

// InsertEntries implements signinlog.BatchInserter. Durability does not
// depend on the session: the pool's connections run with
// synchronous_commit on (store.Open), so a server-wide
// synchronous_commit=off cannot turn this commit into a promise.
func (s *SignIns) InsertEntries(ctx context.Context, entries []signinlog.Entry) ([]signinlog.Refusal, error) {
	n := len(entries)
	if n == 0 {
		return nil, nil
	}
	ids, uids, upns, apps, cass, docs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	times, codes, ems := make([]time.Time, n), make([]int32, n), make([]bool, n)
	hasUse, creds, counts, bss, usedAt := make([]bool, n), make([][]byte, n), make([]int64, n), make([]bool, n), make([]time.Time, n)
	var claims *claimArrays
	var alerts []signinlog.Alert
	writes, checks := 0, 0
	for i, e := range entries {
		r := e.SignIn
		doc := e.Doc
		if doc == nil {
			var err error
			if doc, err = r.AppendJSON(nil); err != nil {
				return nil, fmt.Errorf("insert sign-ins: encode %s: %w", r.ID, err)
			}
		}
		doc = withoutNUL(doc)
		ids[i], times[i], uids[i], upns[i], apps[i] = r.ID, r.CreatedDateTime, r.UserID, r.UserPrincipalName, r.AppID
		codes[i], cass[i], ems[i], docs[i] = int32(r.Status.ErrorCode), r.ConditionalAccessStatus, r.IsEmergencyAccess, string(doc)
		creds[i], usedAt[i] = []byte{}, r.CreatedDateTime
		if u := e.Use; u != nil {
			hasUse[i], creds[i], counts[i], bss[i], usedAt[i] = true, u.CredentialID, int64(u.SignCount), u.BackupState, u.At
			if u.CheckOnly {
				checks++
			} else {
				writes++
			}
			if c := u.Claim; c != nil {
				if claims == nil {
					claims = newClaimArrays(n)
				}
				if err := claims.set(i, c); err != nil {
					return nil, fmt.Errorf("insert %d sign-ins: %w", n, err)
				}
			}
		}
		if r.RaisesAlert {
			alerts = append(alerts, signinlog.EmergencyAlert(uuid.NewString(), r))
		}
	}
	b := &pgx.Batch{}
	// advanced: the sign-in ids whose use advanced (insertEntries, true
	// when it wrote the credential), or the credential ids, in hex, that
	// passed the check (insertCheckedRecords); claimed: the sign-in ids
	// whose claim held.
	advanced, claimed := map[string]bool{}, map[string]bool{}
	collect := func(rows pgx.Rows) error {
		for rows.Next() {
			var kind int32
			var key string
			if err := rows.Scan(&kind, &key); err != nil {
				return err
			}
			if kind == 2 {
				claimed[key] = true
			} else {
				advanced[key] = advanced[key] || kind == 0
			}
		}
		return rows.Err()
	}
	shape := 0
	if claims != nil {
		shape = 1
		// PostgreSQL never settles on a generic plan for the statements
		// with claims (their custom plans, which see the arrays' sizes,
		// always look cheaper), so it planned each batch anew: about 300
		// µs of the backend per batch. The generic plan runs as fast; the
		// setting lasts until the batch's implicit transaction ends.
		b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
	}
	switch {
	case writes > 0:
		// Check-only uses ride as uses: kept, in the statement, checks them.
		args := []any{ids, times, uids, upns, apps, codes, cass, ems, docs, hasUse, creds, counts, bss, usedAt}
		b.Queue(insertEntries[shape], claims.append(args)...).Query(collect)
	case checks > 0:
		args := []any{ids, times, uids, upns, apps, codes, cass, ems, docs, creds, hasUse}
		b.Queue(insertCheckedRecords[shape], claims.append(args)...).Query(collect)
	default:
		b.Queue(insertRecords, ids, times, uids, upns, apps, codes, cass, ems, docs)
	}
	if len(alerts) > 0 {
		m := len(alerts)
		aids, sids, sevs, titles, descs, auids, aupns, dns := make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m)
		ats := make([]time.Time, m)
		for i, a := range alerts {
			u := a.Evidence[0].UserAccount
			aids[i], sids[i], ats[i], sevs[i], titles[i], descs[i] = a.ID, a.SignInID, a.CreatedDateTime, a.Severity, a.Title, a.Description
			auids[i], aupns[i], dns[i] = u.AzureADUserID, u.UserPrincipalName, u.DisplayName
		}
		b.Queue(insertAlerts, aids, sids, ats, sevs, titles, descs, auids, aupns, dns)
	}
	// One round trip, one implicit transaction, one commit.
	if err := s.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("insert %d sign-ins: %w", n, err)
	}
	refused := make([]signinlog.Refusal, n)
	for i := range entries {
		switch {
		case !hasUse[i]:
		case claims != nil && claims.nonces[i] != nil && !claimed[ids[i]]:
			refused[i] = signinlog.ClaimRefused
		case writes > 0:
			if _, ok := advanced[ids[i]]; !ok {
				refused[i] = signinlog.NotAdvanced
			}
		default:
			if _, ok := advanced[hex.EncodeToString(creds[i])]; !ok {
				refused[i] = signinlog.NotAdvanced
			}
		}
		// This server's copy of the passkey follows what was committed: a
		// use that wrote it, or one refused (the copy is behind: dropped).
		if u := entries[i].Use; u != nil && (refused[i] == signinlog.NotAdvanced || refused[i] == signinlog.Stored && writes > 0 && advanced[ids[i]]) {
			s.db.facts.noteUse(u.CredentialID, u.SignCount, u.BackupState, u.At, refused[i] == signinlog.NotAdvanced)
		}
	}
	return refused, nil
}

// claimArrays are a batch's challenge claims as the statements' arrays
// (a NULL nonce: no claim).
type claimArrays struct {
	nonces                  [][]byte
	expires                 []time.Time
	epochs, facts, policies []int64
	seen                    map[string]bool
}

func newClaimArrays(n int) *claimArrays {
	return &claimArrays{nonces: make([][]byte, n), expires: make([]time.Time, n), epochs: make([]int64, n), facts: make([]int64, n),
		policies: make([]int64, n), seen: map[string]bool{}}
}

// set records entry i's claim. A challenge claimed twice in one batch is
// an error (the writer then stores each record alone, and the second
// finds the challenge taken): both would pass the statement's test.
func (c *claimArrays) set(i int, cl *signinlog.ChallengeClaim) error {
	if len(cl.Nonce) == 0 {
		return fmt.Errorf("a challenge claim without a nonce")
	}
	if c.seen[string(cl.Nonce)] {
		return fmt.Errorf("one challenge claimed twice in a batch")
	}
	c.seen[string(cl.Nonce)] = true
	c.nonces[i], c.expires[i], c.epochs[i], c.facts[i], c.policies[i] = cl.Nonce, cl.ExpiresAt, cl.Epoch, cl.FactsVersion, cl.PolicyVersion
	return nil
}

// append adds the claims' arrays to a statement's arguments (none: nil c).
func (c *claimArrays) append(args []any) []any {
	if c == nil {
		return args
	}
	return append(args, c.nonces, c.expires, c.epochs, c.facts, c.policies)
}

func errSignInNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "sign-in %q does not exist", id)
}

func (s *SignIns) GetSignIn(ctx context.Context, id string) (signinlog.SignIn, error) {
	var out signinlog.SignIn
	var doc []byte
	if err := s.db.Pool.QueryRow(ctx, `SELECT record FROM signin_logs WHERE id = $1`, id).Scan(&doc); err != nil {
		return out, fmt.Errorf("get sign-in: %w", notFound(err, errSignInNotFound(id)))
	}
	if err := json.Unmarshal(doc, &out); err != nil {
		return out, fmt.Errorf("get sign-in %s: decode: %w", id, err)
	}
	return out, nil
}

// where collects conditions with numbered parameters; values only ever
// travel as parameters.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func keyset(w *where, after *signinlog.Cursor) {
	if after != nil {
		w.add("(created_date_time, id) < (?, ?::uuid)", after.CreatedDateTime, after.ID)
	}
}

func (s *SignIns) ListSignIns(ctx context.Context, f signinlog.Filter, p signinlog.Page) ([]signinlog.SignIn, error) {
	var w where
	if f.UserID != "" {
		w.add("user_id = ?::uuid", f.UserID)
	}
	if f.UserPrincipalName != "" {
		w.add("lower(user_principal_name) = lower(?)", f.UserPrincipalName)
	}
	if f.AppID != "" {
		w.add("app_id = ?", f.AppID)
	}
	if !f.From.IsZero() {
		w.add("created_date_time "+map[bool]string{true: ">", false: ">="}[f.FromExclusive]+" ?", f.From)
	}
	if !f.To.IsZero() {
		w.add("created_date_time "+map[bool]string{true: "<", false: "<="}[f.ToExclusive]+" ?", f.To)
	}
	if f.ErrorCode != nil {
		w.add("error_code "+map[bool]string{true: "<>", false: "="}[f.ErrorCodeNot]+" ?", *f.ErrorCode)
	}
	if f.ConditionalAccessStatus != "" {
		w.add("conditional_access_status = ?", f.ConditionalAccessStatus)
	}
	keyset(&w, p.After)
	q := `SELECT record FROM signin_logs` + w.sql() + ` ORDER BY created_date_time DESC, id DESC LIMIT ` + strconv.Itoa(clampTop(p.Top))
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (signinlog.SignIn, error) {
		var doc []byte
		var si signinlog.SignIn
		if err := r.Scan(&doc); err != nil {
			return si, err
		}
		return si, json.Unmarshal(doc, &si)
	})
	if err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	return out, nil
}

const alertCols = `id::text, COALESCE(sign_in_id::text, ''), created_date_time, last_update_date_time, resolved_date_time, status, severity,
	title, description, COALESCE(user_id::text, ''), user_principal_name, user_display_name`

func scanAlert(row pgx.Row) (signinlog.Alert, error) {
	var a signinlog.Alert
	var u signinlog.UserAccount
	err := row.Scan(&a.ID, &a.SignInID, &a.CreatedDateTime, &a.LastUpdateDateTime, &a.ResolvedDateTime, &a.Status, &a.Severity,
		&a.Title, &a.Description, &u.AzureADUserID, &u.UserPrincipalName, &u.DisplayName)
	if err != nil {
		return a, err
	}
	a.CreatedDateTime = a.CreatedDateTime.UTC()
	a.LastUpdateDateTime = a.LastUpdateDateTime.UTC()
	if a.ResolvedDateTime != nil {
		t := a.ResolvedDateTime.UTC()
		a.ResolvedDateTime = &t
	}
	a.ServiceSource = "azureAdIdentityProtection"
	a.Evidence = []signinlog.AlertEvidence{{ODataType: "#microsoft.graph.security.userEvidence", CreatedDateTime: a.CreatedDateTime, UserAccount: u}}
	return a, nil
}

// InsertAlert stores an alert no sign-in raised (SignInID empty).
func (s *SignIns) InsertAlert(ctx context.Context, a signinlog.Alert) error {
	var user any
	var upn, name string
	if len(a.Evidence) > 0 {
		ua := a.Evidence[0].UserAccount
		if ua.AzureADUserID != "" {
			user = ua.AzureADUserID
		}
		upn, name = ua.UserPrincipalName, ua.DisplayName
	}
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO security_alerts (id, sign_in_id, created_date_time, last_update_date_time, status, severity,
		title, description, user_id, user_principal_name, user_display_name) VALUES ($1, NULL, $2, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.CreatedDateTime, a.Status, a.Severity, a.Title, a.Description, user, upn, name)
	if err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	return nil
}

func errAlertNotFound(id string) *apperr.Error {
	return apperr.NotFound(apperr.CodeNotFound, "alert %q does not exist", id)
}

func (s *SignIns) ListAlerts(ctx context.Context, p signinlog.Page) ([]signinlog.Alert, error) {
	var w where
	keyset(&w, p.After)
	rows, err := s.db.Pool.Query(ctx, `SELECT `+alertCols+` FROM security_alerts`+w.sql()+
		` ORDER BY created_date_time DESC, id DESC LIMIT `+strconv.Itoa(clampTop(p.Top)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (signinlog.Alert, error) { return scanAlert(r) })
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

func (s *SignIns) GetAlert(ctx context.Context, id string) (signinlog.Alert, error) {
	a, err := scanAlert(s.db.Pool.QueryRow(ctx, `SELECT `+alertCols+` FROM security_alerts WHERE id = $1`, id))
	if err != nil {
		return a, fmt.Errorf("get alert: %w", notFound(err, errAlertNotFound(id)))
	}
	return a, nil
}

func (s *SignIns) SetAlertStatus(ctx context.Context, id, status string, now time.Time) (signinlog.Alert, error) {
	if err := signinlog.ValidateAlertStatus(status); err != nil {
		return signinlog.Alert{}, err
	}
	// resolvedDateTime records the first resolution and is cleared when an
	// alert is reopened.
	a, err := scanAlert(s.db.Pool.QueryRow(ctx, `UPDATE security_alerts SET status = $2, last_update_date_time = $3,
			resolved_date_time = CASE WHEN $2 = 'resolved' THEN COALESCE(resolved_date_time, $3) END
		WHERE id = $1 RETURNING `+alertCols, id, status, now))
	if err != nil {
		return a, fmt.Errorf("set alert status: %w", notFound(err, errAlertNotFound(id)))
	}
	return a, nil
}
