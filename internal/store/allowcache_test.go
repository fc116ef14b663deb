package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/store"
)

// eventually polls f for up to 3 s: a notification crosses servers in
// milliseconds, but the machine may be busy.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("not within 3 s: %s", what)
}

// The allow cache of one server hears every other server's change to
// what a begin answers (a passkey added or deleted, a rename, the
// challenge epoch), sees its own at once, and survives the loss of its
// listener without serving a stale answer for long.
func TestAllowListCacheAcrossServers(t *testing.T) {
	ctx := context.Background()
	a, dsn := openDSN(t)
	b, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u, err := a.Directory().CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "cache@lab.example", DisplayName: "C", AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	allow := func(db *store.DB, upn string) ceremony.Allow {
		t.Helper()
		al, err := db.WebAuthn().AllowList(ctx, upn)
		if err != nil {
			t.Fatal(err)
		}
		return al
	}
	listed := func(db *store.DB, upn string, n int) func() bool {
		return func() bool { return len(allow(db, upn).Credentials) == n }
	}
	cred := func(id byte) ceremony.Credential {
		return ceremony.Credential{ID: []byte{id, 9, 9}, MethodID: uuid.NewString(), UserID: u.ID, PublicKey: []byte{0xa5},
			AAGUID: uuid.NewString(), AttestationFormat: "none", AttestationType: "none", DisplayName: "key"}
	}
	// Let both listeners start, then cache "no passkeys" on a.
	time.Sleep(200 * time.Millisecond)
	if n := len(allow(a, u.UserPrincipalName).Credentials); n != 0 {
		t.Fatalf("%d passkeys before any", n)
	}
	first := cred(1)
	if _, err := b.WebAuthn().CreateCredential(ctx, first); err != nil {
		t.Fatal(err)
	}
	if !listed(b, u.UserPrincipalName, 1)() {
		t.Fatal("the registering server does not list its own new passkey at once")
	}
	eventually(t, "the other server lists the new passkey", listed(a, u.UserPrincipalName, 1))

	// A rename on b: a's cached answer for the old name goes.
	newName := "renamed@lab.example"
	if _, err := b.Directory().UpdateUser(ctx, u.ID, directory.UserPatch{UserPrincipalName: &newName}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old name answers nothing", listed(a, "cache@lab.example", 0))
	if got := allow(a, newName); len(got.Credentials) != 1 || got.UserID != u.ID {
		t.Fatalf("the new name: %+v", got)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// It is a cache: with the trigger off, a change by SQL goes unseen.
	if _, err := conn.Exec(ctx, `ALTER TABLE webauthn_credentials DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	second := cred(2)
	if _, err := conn.Exec(ctx, `INSERT INTO webauthn_credentials (id, method_id, user_id, public_key, aaguid, attestation_format, attestation_type, attestation, attested, trusted, backup_eligible, backup_state, user_verified, sign_count, transports, attachment, display_name, passkey_profile_id)
		VALUES ($1, $2, $3, '\xa5', $4, 'none', 'none', '{}', false, false, false, false, true, 0, '{}', '', 'key', '')`, second.ID, second.MethodID, u.ID, second.AAGUID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if !listed(a, newName, 1)() {
		t.Fatal("the answer was not cached")
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE webauthn_credentials ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE webauthn_credentials SET transports = '{usb}' WHERE id = $1`, second.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a change by SQL is heard", listed(a, newName, 2))

	// The epoch emptied (a restore's TRUNCATE): a new one is drawn and used.
	before := allow(a, newName).Epoch
	if _, err := conn.Exec(ctx, `TRUNCATE webauthn_challenge_epoch`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new epoch after the old one was emptied", func() bool { return allow(a, newName).Epoch != before })

	// The listener's connection killed: a change written meanwhile (by
	// SQL, so no server flushed on its own) is still seen soon.
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rpserver allow-list listener'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM webauthn_credentials WHERE id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted passkey is no longer listed after the listener was lost", listed(a, newName, 1))
	eventually(t, "the listeners are back", func() bool {
		var n int
		return conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rpserver allow-list listener'`).Scan(&n) == nil && n == 2
	})
}

// The sign-in's own writes to a credential (counter, backup state, last
// use) notify nobody: they are on the hot path and change no allow list;
// nor do other writes that change none.
func TestCounterUpdateDoesNotNotify(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	u, c := userWithPasskey(t, db, "quiet@lab.example", ceremony.Credential{ID: []byte{7, 7}, SignCount: 1})
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `LISTEN rpserver_allow_list`); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.WebAuthn().RecordUse(ctx, c.ID, 2, true, time.Now()); err != nil || !ok {
		t.Fatalf("record use: %v %v", ok, err)
	}
	// Nor do writes that change no allow list: a user's other properties,
	// a delete that matches nothing.
	name := "Quiet, renamed"
	if _, err := db.Directory().UpdateUser(ctx, u.ID, directory.UserPatch{DisplayName: &name}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.WebAuthn().DeleteCredentialByMethodID(ctx, u.ID, uuid.NewString()); err == nil {
		t.Fatal("deleted a credential that does not exist")
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if n, err := conn.WaitForNotification(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write that changes no allow list notified: %+v %v", n, err)
	}
}
