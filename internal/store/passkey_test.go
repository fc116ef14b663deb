package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

// The passkey sign-in's two round trips: the challenge taken with the
// credential, facts and policy version; then the counter committed with the
// record, which is stored only while the counter advances.
func TestPasskeySignInRoundTrips(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	u, cred := userWithPasskey(t, db, "pk@lab.example", ceremony.Credential{ID: []byte{1, 2, 3, 4}, SignCount: 5})
	allow, err := db.WebAuthn().AllowList(ctx, u.UserPrincipalName)
	if err != nil || len(allow.Credentials) != 1 || allow.UserID != u.ID {
		t.Fatalf("begin: %+v %v", allow, err)
	}
	// The challenge as opened from its seal (ceremony.ParseAssertion).
	challenge := func(nonce string) ceremony.Challenge {
		return ceremony.Challenge{Hash: []byte(nonce), Kind: ceremony.KindAuthentication, UserID: u.ID, ExpiresAt: time.Now().Add(time.Minute), Epoch: allow.Epoch}
	}
	a, err := db.Factors().TakePasskeyAssertion(ctx, challenge("pk-h"), cred.ID, nil)
	if err != nil || a.Challenge.UserID != u.ID || a.Credential == nil || a.Credential.SignCount != 5 || a.PolicyVersion < 0 ||
		a.Facts.UserID != u.ID || a.Facts.UserPrincipalName != "pk@lab.example" || !a.Facts.Enabled || !a.Facts.HasPasskey {
		t.Fatalf("take: %+v %v", a, err)
	}
	_, err = db.Factors().TakePasskeyAssertion(ctx, challenge("pk-h"), cred.ID, nil)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound || a.Grant != nil {
		t.Fatalf("second take: %v", err)
	}

	// With a claim the same statement reserves the limiter's attempt.
	one := &ratelimit.Claim{Key: "198.51.100.1", Now: time.Now(), Window: time.Minute, Max: 1}
	a, err = db.Factors().TakePasskeyAssertion(ctx, challenge("pk-r1"), cred.ID, one)
	if err != nil || a.Grant == nil || !a.Grant.Granted || a.Grant.WindowStart.IsZero() || a.Credential == nil {
		t.Fatalf("take reserving: %+v %v", a, err)
	}
	a, err = db.Factors().TakePasskeyAssertion(ctx, challenge("pk-r2"), cred.ID, one)
	if err != nil || a.Grant == nil || a.Grant.Granted || a.Grant.Failures != 0 {
		t.Fatalf("a second attempt with one in flight and a limit of one: %+v %v", a.Grant, err)
	}
	a, err = db.Factors().TakePasskeyAssertion(ctx, challenge("pk-r1"), cred.ID, &ratelimit.Claim{Key: "198.51.100.2", Now: time.Now(), Window: time.Minute, Max: 1})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound || a.Grant == nil || !a.Grant.Granted || a.Credential != nil {
		t.Fatalf("take reserving with a used challenge: %v", err)
	}

	// A crash or failover empties the unlogged epoch and used nonces: a new
	// epoch is drawn, and a challenge sealed under the old one is refused
	// even though its nonce record is gone.
	truncate(t, dsn, "webauthn_challenge_epoch", "webauthn_used_challenges")
	after, err := db.WebAuthn().AllowList(ctx, u.UserPrincipalName)
	if err != nil || after.Epoch == allow.Epoch {
		t.Fatalf("epoch after the tables were emptied: %d (was %d) %v", after.Epoch, allow.Epoch, err)
	}
	_, err = db.Factors().TakePasskeyAssertion(ctx, challenge("pk-h"), cred.ID, nil)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound {
		t.Fatalf("a challenge of the lost epoch: %v", err)
	}

	// Used nonces go a minute past their expiry, on PostgreSQL's clock.
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO webauthn_used_challenges (nonce, expires_at) VALUES ('old', now() - interval '61 seconds'), ('recent', now() - interval '50 seconds')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.WebAuthn().PurgeExpiredChallenges(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := conn.QueryRow(ctx, `SELECT array_agg(convert_from(nonce, 'UTF8') ORDER BY nonce) FROM webauthn_used_challenges WHERE nonce IN ('old', 'recent')`).Scan(&left); err != nil || len(left) != 1 || left[0] != "recent" {
		t.Fatalf("after the purge: %v %v, want only the nonce within a minute of its expiry", left, err)
	}

	w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	defer w.Close(ctx)
	at := time.Now()
	if err := w.WriteUse(ctx, signIn("pk@lab.example"), &signinlog.CredentialUse{CredentialID: cred.ID, SignCount: 6, BackupState: true, At: at}); err != nil {
		t.Fatal(err)
	}
	got, err := db.WebAuthn().GetCredential(ctx, cred.ID)
	if err != nil || got.SignCount != 6 || !got.BackupState || got.LastUsedAt == nil {
		t.Fatalf("counter not advanced with the record: %+v %v", got, err)
	}
	before := countRows(t, dsn, "signin_logs")
	err = w.WriteUse(ctx, signIn("pk@lab.example"), &signinlog.CredentialUse{CredentialID: cred.ID, SignCount: 6, At: at})
	if !errors.Is(err, signinlog.ErrCounterNotAdvanced) {
		t.Fatalf("replayed counter: %v", err)
	}
	if n := countRows(t, dsn, "signin_logs"); n != before {
		t.Fatalf("a refused use stored its record: %d rows, want %d", n, before)
	}
}

// userWithPasskey creates an enabled user named upn and a passkey for it:
// cred with what it leaves empty filled in (owner, ids, a dummy key, "none"
// attestation).
func userWithPasskey(t testing.TB, db *store.DB, upn string, cred ceremony.Credential) (directory.User, ceremony.Credential) {
	t.Helper()
	ctx := context.Background()
	u, err := db.Directory().CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: upn, DisplayName: upn, AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	cred.UserID = u.ID
	if cred.MethodID == "" {
		cred.MethodID = uuid.NewString()
	}
	if cred.AAGUID == "" {
		cred.AAGUID = uuid.NewString()
	}
	if cred.PublicKey == nil {
		cred.PublicKey = []byte{0xa5}
	}
	if cred.AttestationFormat == "" {
		cred.AttestationFormat, cred.AttestationType = "none", "none"
	}
	if cred.DisplayName == "" {
		cred.DisplayName = "key"
	}
	if _, err := db.WebAuthn().CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	return u, cred
}

// connect is a connection of the test's own to dsn, closed at its end.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// execer runs statements on conn for a test's set-up, failing it on error.
func execer(t testing.TB, conn *pgx.Conn) func(sql string, args ...any) {
	return func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// truncate empties tables as a crash empties unlogged ones.
func truncate(t testing.TB, dsn string, tables ...string) {
	t.Helper()
	if _, err := connect(t, dsn).Exec(context.Background(), "TRUNCATE "+strings.Join(tables, ", ")); err != nil {
		t.Fatal(err)
	}
}

// An authenticator without a counter (always 0) signs in without its row
// being rewritten while nothing but a last use under a minute old would
// change; its record is still stored only while the passkey is not
// flagged, and a new backup state or an older last use is written.
func TestCounterlessUseWritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	_, cred := userWithPasskey(t, db, "synced@lab.example", ceremony.Credential{ID: []byte("synced-cred"), BackupEligible: true, BackupState: true})
	conn := connect(t, dsn)
	rowVersion := func() (xmin string, lastUsed *time.Time) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT xmin::text, last_used_at FROM webauthn_credentials WHERE id = $1`, cred.ID).Scan(&xmin, &lastUsed); err != nil {
			t.Fatal(err)
		}
		return xmin, lastUsed
	}
	w := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	defer w.Close(ctx)
	use := func(at time.Time, backup bool) error {
		return w.WriteUse(ctx, signIn("synced@lab.example"), &signinlog.CredentialUse{CredentialID: cred.ID, SignCount: 0, BackupState: backup, At: at})
	}
	now := time.Now()
	if err := use(now, true); err != nil {
		t.Fatal(err)
	}
	first, lastUsed := rowVersion()
	if lastUsed == nil {
		t.Fatal("the first use was not written")
	}
	// The take reads the last use, so the sign-in can tell an unchanged
	// use (ceremony.Use.Unchanged) and write only its record.
	allow, err := db.WebAuthn().AllowList(ctx, "synced@lab.example")
	if err != nil {
		t.Fatal(err)
	}
	ch := ceremony.Challenge{Hash: []byte("last-use"), Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute), Epoch: allow.Epoch}
	if a, err := db.Factors().TakePasskeyAssertion(ctx, ch, cred.ID, nil); err != nil || a.Credential == nil || a.Credential.LastUsedAt == nil || !a.Credential.LastUsedAt.Equal(*lastUsed) {
		t.Fatalf("take: %+v %v, want the last use %v", a.Credential, err, lastUsed)
	}
	records := countRows(t, dsn, "signin_logs")
	if err := use(now.Add(20*time.Second), true); err != nil {
		t.Fatal(err)
	}
	if again, _ := rowVersion(); again != first {
		t.Fatalf("a use 20 s later with nothing else new rewrote the row (xmin %s -> %s)", first, again)
	}
	if n := countRows(t, dsn, "signin_logs"); n != records+1 {
		t.Fatalf("its record: %d rows, want %d", n, records+1)
	}
	if err := use(now.Add(30*time.Second), false); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.WebAuthn().GetCredential(ctx, cred.ID); got.BackupState {
		t.Fatal("a new backup state was not written")
	}
	if err := use(now.Add(2*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if _, at := rowVersion(); at == nil || at.Before(now.Add(2*time.Minute).Add(-time.Second)) {
		t.Fatalf("a use over a minute after the last was not written: %v", at)
	}
	if _, err := conn.Exec(ctx, `UPDATE webauthn_credentials SET clone_suspected = true WHERE id = $1`, cred.ID); err != nil {
		t.Fatal(err)
	}
	records = countRows(t, dsn, "signin_logs")
	if err := use(now.Add(2*time.Minute+10*time.Second), false); !errors.Is(err, signinlog.ErrCounterNotAdvanced) {
		t.Fatalf("a use of a flagged passkey: %v", err)
	}
	if n := countRows(t, dsn, "signin_logs"); n != records {
		t.Fatalf("a flagged passkey's use stored its record")
	}
}

// TestCheckOnlyUseIsCheckedAtCommit: a use that changes nothing
// (signinlog.CredentialUse.CheckOnly) writes only its record, and only
// while the credential is there, unflagged and without a counter; a
// retried record is not taken for a refused one; in a batch with a use
// that writes, it is checked by that statement instead.
func TestCheckOnlyUseIsCheckedAtCommit(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	conn := connect(t, dsn)
	exec := execer(t, conn)
	now := time.Now()
	_, cred := userWithPasskey(t, db, "check@lab.example", ceremony.Credential{ID: []byte("check-cred")})
	_, other := userWithPasskey(t, db, "write@lab.example", ceremony.Credential{ID: []byte("write-cred")})
	exec(`UPDATE webauthn_credentials SET last_used_at = $1`, now)
	xmin := func(id []byte) string {
		t.Helper()
		var x string
		if err := conn.QueryRow(ctx, `SELECT xmin::text FROM webauthn_credentials WHERE id = $1`, id).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	checkOnly := func(id []byte) signinlog.Entry {
		return signinlog.Entry{SignIn: signIn("check@lab.example"), Use: &signinlog.CredentialUse{CredentialID: id, At: now, CheckOnly: true}}
	}
	insert := func(entries ...signinlog.Entry) []bool {
		t.Helper()
		refused, err := db.SignIns().InsertEntries(ctx, entries)
		if err != nil {
			t.Fatal(err)
		}
		na := make([]bool, len(refused))
		for i, r := range refused {
			na[i] = r != signinlog.Stored
		}
		return na
	}
	stored := func(id string) bool {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM signin_logs WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	before := xmin(cred.ID)
	plain := signinlog.Entry{SignIn: signIn("tap@lab.example")}
	ok := checkOnly(cred.ID)
	if na := insert(plain, ok); na[0] || na[1] || !stored(plain.SignIn.ID) || !stored(ok.SignIn.ID) {
		t.Fatalf("a check-only use and a record without one: not advanced %v", na)
	}
	if xmin(cred.ID) != before {
		t.Fatal("a check-only use rewrote its credential")
	}
	if na := insert(ok); na[0] {
		t.Fatal("a retried record with a check-only use was refused")
	}

	// With a use that writes in the same batch, the statement with the
	// update checks it (kept).
	mixed := checkOnly(cred.ID)
	write := signinlog.Entry{SignIn: signIn("write@lab.example"), Use: &signinlog.CredentialUse{CredentialID: other.ID, SignCount: 0, BackupState: true, At: now}}
	if na := insert(mixed, write); na[0] || na[1] || !stored(mixed.SignIn.ID) || !stored(write.SignIn.ID) {
		t.Fatalf("a mixed batch: not advanced %v", na)
	}

	for name, change := range map[string]string{
		"flagged":  `UPDATE webauthn_credentials SET clone_suspected = true WHERE id = $1`,
		"counting": `UPDATE webauthn_credentials SET sign_count = 5 WHERE id = $1`,
		"deleted":  `DELETE FROM webauthn_credentials WHERE id = $1`,
	} {
		t.Run(name, func(t *testing.T) {
			_, c := userWithPasskey(t, db, name+"@lab.example", ceremony.Credential{ID: []byte(name + "-cred")})
			exec(change, c.ID)
			e, fine := checkOnly(c.ID), checkOnly(cred.ID)
			if na := insert(e, fine); !na[0] || na[1] {
				t.Fatalf("not advanced %v, want the %s credential's use refused and the other's kept", na, name)
			}
			if stored(e.SignIn.ID) || !stored(fine.SignIn.ID) {
				t.Fatalf("the %s credential's record was stored, or its neighbour's was not", name)
			}
		})
	}
}

// TestUseAheadOfTheClockIsRewritten: a stored last use ahead of the use
// (written by a server whose clock ran ahead) is not "under a minute
// old": the use writes the row, so lastUsedDateTime does not stand in the
// future (ceremony.Use.Unchanged judges the same).
func TestUseAheadOfTheClockIsRewritten(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	conn := connect(t, dsn)
	_, cred := userWithPasskey(t, db, "ahead@lab.example", ceremony.Credential{ID: []byte("ahead-cred")})
	now := time.Now()
	if _, err := conn.Exec(ctx, `UPDATE webauthn_credentials SET last_used_at = $2 WHERE id = $1`, cred.ID, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	e := signinlog.Entry{SignIn: signIn("ahead@lab.example"), Use: &signinlog.CredentialUse{CredentialID: cred.ID, At: now}}
	if na, err := db.SignIns().InsertEntries(ctx, []signinlog.Entry{e}); err != nil || na[0] != signinlog.Stored {
		t.Fatalf("not advanced %v, %v", na, err)
	}
	var at time.Time
	if err := conn.QueryRow(ctx, `SELECT last_used_at FROM webauthn_credentials WHERE id = $1`, cred.ID).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if at.After(now.Add(time.Second)) {
		t.Fatalf("the last use stayed ahead of the clock: %v (use at %v)", at, now)
	}
}

// TestChallengeClaimInTheCommit: a use with a claim (a sign-in decided on
// this server's copies) takes its challenge in the record's commit, only
// while the epoch is current, the challenge unexpired and unused, and the
// owner's facts and the policies at the versions the decision read;
// otherwise nothing is stored, nothing advanced and the challenge is left
// untaken (ClaimRefused), and a claim that held but whose counter did not
// advance still used its challenge.
func TestChallengeClaimInTheCommit(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	conn := connect(t, dsn)
	exec := execer(t, conn)
	scalar := func(sql string, args ...any) int64 {
		t.Helper()
		var v int64
		if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	now := time.Now()
	user, cred := userWithPasskey(t, db, "claim@lab.example", ceremony.Credential{ID: []byte("claim-cred")})
	_, counting := userWithPasskey(t, db, "count@lab.example", ceremony.Credential{ID: []byte("count-cred"), SignCount: 3})
	exec(`UPDATE webauthn_credentials SET last_used_at = $1`, now)
	exec(`INSERT INTO webauthn_challenge_epoch (epoch) VALUES (42) ON CONFLICT DO NOTHING`)
	epoch := scalar(`SELECT epoch FROM webauthn_challenge_epoch`)
	policies := scalar(`SELECT version FROM conditional_access_version`)
	factsOf := func(uid string) int64 {
		return scalar(`SELECT COALESCE((SELECT version FROM sign_in_facts_versions WHERE user_id = $1), 0)`, uid)
	}
	nonceN := 0
	claim := func(uid string) *signinlog.ChallengeClaim {
		nonceN++
		return &signinlog.ChallengeClaim{Nonce: []byte(fmt.Sprintf("nonce-%d", nonceN)), ExpiresAt: now.Add(time.Minute), Epoch: epoch,
			FactsVersion: factsOf(uid), PolicyVersion: policies}
	}
	entry := func(c ceremony.Credential, uid string, cl *signinlog.ChallengeClaim, count uint32, checkOnly bool) signinlog.Entry {
		rec := signIn("claim@lab.example")
		rec.UserID = uid
		return signinlog.Entry{SignIn: rec, Use: &signinlog.CredentialUse{CredentialID: c.ID, SignCount: count, At: now, CheckOnly: checkOnly, Claim: cl}}
	}
	insert := func(entries ...signinlog.Entry) []signinlog.Refusal {
		t.Helper()
		refused, err := db.SignIns().InsertEntries(ctx, entries)
		if err != nil {
			t.Fatal(err)
		}
		return refused
	}
	stored := func(e signinlog.Entry) bool {
		return scalar(`SELECT count(*) FROM signin_logs WHERE id = $1`, e.SignIn.ID) == 1
	}
	taken := func(cl *signinlog.ChallengeClaim) bool {
		return scalar(`SELECT count(*) FROM webauthn_used_challenges WHERE nonce = $1`, cl.Nonce) == 1
	}
	const (
		refusedClaim, notAdvanced = signinlog.ClaimRefused, signinlog.NotAdvanced
	)

	// Check-only and writing statements alike, beside a record without a claim.
	for _, checkOnly := range []bool{true, false} {
		cl := claim(user.ID)
		good, plain := entry(cred, user.ID, cl, 0, checkOnly), entry(cred, user.ID, nil, 0, checkOnly)
		plain.Use.CredentialID = []byte("no such credential") // refused as not advanced, claim or none
		if r := insert(good, plain); r[0] != signinlog.Stored || r[1] != notAdvanced || !stored(good) || !taken(cl) {
			t.Fatalf("check-only %v: a claim that holds: %v, stored %v, taken %v", checkOnly, r, stored(good), taken(cl))
		}
		// The same record retried (its first commit's answer was lost).
		if r := insert(good); r[0] != signinlog.Stored {
			t.Fatalf("check-only %v: a retried record whose claim held: %v", checkOnly, r)
		}
		again := entry(cred, user.ID, cl, 0, checkOnly)
		if r := insert(again); r[0] != refusedClaim || stored(again) {
			t.Fatalf("check-only %v: the same challenge again: %v, stored %v", checkOnly, r, stored(again))
		}
	}

	for name, spoil := range map[string]func(*signinlog.ChallengeClaim){
		"epoch":    func(c *signinlog.ChallengeClaim) { c.Epoch++ },
		"expired":  func(c *signinlog.ChallengeClaim) { c.ExpiresAt = now.Add(-time.Minute) },
		"policies": func(c *signinlog.ChallengeClaim) { c.PolicyVersion-- },
		"facts":    func(c *signinlog.ChallengeClaim) { exec(`SELECT bump_sign_in_facts_version($1)`, user.ID) },
	} {
		cl := claim(user.ID)
		spoil(cl)
		e := entry(cred, user.ID, cl, 0, true)
		if r := insert(e); r[0] != refusedClaim || stored(e) || taken(cl) {
			t.Fatalf("%s moved: %v, stored %v, taken %v (want refused, nothing stored or taken)", name, r, stored(e), taken(cl))
		}
	}

	// A counter: a refused claim advances nothing; a claim that holds with
	// a counter that does not advance used its challenge.
	cl := claim(counting.UserID)
	cl.PolicyVersion--
	if r := insert(entry(counting, counting.UserID, cl, 9, false)); r[0] != refusedClaim || scalar(`SELECT sign_count FROM webauthn_credentials WHERE id = $1`, counting.ID) != 3 {
		t.Fatalf("a refused claim with a counter: %v", r)
	}
	cl = claim(counting.UserID)
	if r := insert(entry(counting, counting.UserID, cl, 2, false)); r[0] != notAdvanced || !taken(cl) {
		t.Fatalf("a claim that held with a counter that went back: %v, taken %v", r, taken(cl))
	}
	cl = claim(counting.UserID)
	if r := insert(entry(counting, counting.UserID, cl, 9, false)); r[0] != signinlog.Stored || scalar(`SELECT sign_count FROM webauthn_credentials WHERE id = $1`, counting.ID) != 9 {
		t.Fatalf("a claim that held with a counter that advanced: %v", r)
	}

	// One challenge twice in a batch is refused whole (the writer splits
	// repeats; alone, the second finds it taken).
	cl = claim(user.ID)
	if _, err := db.SignIns().InsertEntries(ctx, []signinlog.Entry{entry(cred, user.ID, cl, 0, true), entry(counting, counting.UserID, cl, 10, false)}); err == nil || taken(cl) {
		t.Fatalf("one challenge claimed twice in a batch: %v, taken %v", err, taken(cl))
	}
}

// TestClaimBatchesRunOnAGenericPlan: left alone, PostgreSQL plans every
// batch with claims anew (their custom plans always look cheaper), about
// 300 µs of the backend per batch; the batch asks for the generic plan,
// for its own transaction only.
func TestClaimBatchesRunOnAGenericPlan(t *testing.T) {
	ctx := context.Background()
	dsn := testpg.NewDatabase(t)
	db, err := store.Open(ctx, dsn+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	user, cred := userWithPasskey(t, db, "plan@lab.example", ceremony.Credential{ID: []byte("plan-cred")})
	var policies, epoch int64
	if _, err := db.Pool.Exec(ctx, `INSERT INTO webauthn_challenge_epoch (epoch) VALUES (7) ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	var facts int64
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT version FROM conditional_access_version), (SELECT epoch FROM webauthn_challenge_epoch),
		COALESCE((SELECT version FROM sign_in_facts_versions WHERE user_id = $1), 0)`, user.ID).Scan(&policies, &epoch, &facts); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		rec := signIn("plan@lab.example")
		rec.UserID = user.ID
		e := signinlog.Entry{SignIn: rec, Use: &signinlog.CredentialUse{CredentialID: cred.ID, At: time.Now(), CheckOnly: true,
			Claim: &signinlog.ChallengeClaim{Nonce: []byte(fmt.Sprint("plan-", i)), ExpiresAt: time.Now().Add(time.Minute), Epoch: epoch, FactsVersion: facts, PolicyVersion: policies}}}
		if r, err := db.SignIns().InsertEntries(ctx, []signinlog.Entry{e}); err != nil || r[0] != signinlog.Stored {
			t.Fatalf("batch %d: %v %v", i, r, err)
		}
	}
	var custom int64
	var mode string
	if err := db.Pool.QueryRow(ctx, `SELECT COALESCE(sum(custom_plans) FILTER (WHERE statement LIKE '%claimed AS%'), -1), current_setting('plan_cache_mode')
		FROM pg_prepared_statements`).Scan(&custom, &mode); err != nil {
		t.Fatal(err)
	}
	if custom != 0 || mode != "auto" {
		t.Fatalf("custom plans of the claims' statement: %d (want 0); plan_cache_mode after the batches: %s (want auto)", custom, mode)
	}
}
