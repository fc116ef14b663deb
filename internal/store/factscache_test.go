package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/store"
)

// A server keeps a copy of each passkey owner's sign-in facts and the take
// leaves their subqueries out while the owner's facts version is the
// copy's. Every change to anything the facts are made of, by another
// server (here: plain SQL on a connection of its own), must reach the
// very next take on this one: the version moves in the change's own
// transaction. The copy is also shown to be used: a change made with the
// version's trigger disabled is not seen until something moves the
// version.
func TestSignInFactsCopyFollowsEveryChange(t *testing.T) {
	ctx := context.Background()
	writer, dsn := openDSN(t) // "server A": creates the user
	reader, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	u, cred := userWithPasskey(t, writer, "facts@lab.example", ceremony.Credential{ID: []byte("facts-cred")})
	allow, err := reader.WebAuthn().AllowList(ctx, u.UserPrincipalName)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	exec := execer(t, conn)
	n := 0
	take := func() signin.Facts {
		t.Helper()
		n++
		ch := ceremony.Challenge{Hash: []byte(fmt.Sprintf("facts-%d", n)), Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute), Epoch: allow.Epoch}
		a, err := reader.Factors().TakePasskeyAssertion(ctx, ch, cred.ID, nil)
		if err != nil || a.Credential == nil {
			t.Fatalf("take: %+v %v", a, err)
		}
		return a.Facts
	}
	if f := take(); f.UserID != u.ID || !f.Enabled || !f.HasPasskey || len(f.GroupIDs) != 0 || f.HasTAP || f.UserRiskLevel != "none" {
		t.Fatalf("first take (the copy is made): %+v", f)
	}
	group, role := uuid.NewString(), uuid.NewString()
	exec(`INSERT INTO groups (id, display_name) VALUES ($1, 'Pilot')`, group)

	// The copy is what the take answers while the version stands still.
	exec(`ALTER TABLE group_members DISABLE TRIGGER group_members_facts_version_insert_delete`)
	exec(`INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)`, group, u.ID)
	exec(`ALTER TABLE group_members ENABLE ALWAYS TRIGGER group_members_facts_version_insert_delete`)
	if f := take(); len(f.GroupIDs) != 0 {
		t.Fatalf("a change that moved no version was seen: the take did not use its copy (%v)", f.GroupIDs)
	}
	// Another database history (a promoted standby, a restore) draws a
	// new challenge epoch: a copy read under the old one is read again,
	// though no version moved.
	truncate(t, dsn, "webauthn_challenge_epoch", "webauthn_used_challenges")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		next, err := reader.WebAuthn().AllowList(ctx, u.UserPrincipalName)
		if err != nil {
			t.Fatal(err)
		}
		if next.Epoch != allow.Epoch {
			allow = next
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new epoch after the epoch table was emptied")
		}
	}
	if f := take(); !slices.Equal(f.GroupIDs, []string{group}) {
		t.Fatalf("under a new epoch the old copy was used: %v", f.GroupIDs)
	}
	exec(`DELETE FROM group_members WHERE user_id = $1`, u.ID)
	if f := take(); len(f.GroupIDs) != 0 {
		t.Fatalf("after the membership went: %v", f.GroupIDs)
	}

	steps := []struct {
		name  string
		sql   string
		args  []any
		check func(signin.Facts) bool
	}{
		{"added to a group", `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)`, []any{group, u.ID}, func(f signin.Facts) bool { return slices.Equal(f.GroupIDs, []string{group}) }},
		{"removed from the group", `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, []any{group, u.ID}, func(f signin.Facts) bool { return len(f.GroupIDs) == 0 }},
		{"given a role", `INSERT INTO role_assignments (id, principal_id, role_definition_id) VALUES (gen_random_uuid(), $1, $2)`, []any{u.ID, role}, func(f signin.Facts) bool { return slices.Equal(f.RoleTemplateIDs, []string{role}) }},
		{"the role removed", `DELETE FROM role_assignments WHERE principal_id = $1`, []any{u.ID}, func(f signin.Facts) bool { return len(f.RoleTemplateIDs) == 0 }},
		{"disabled", `UPDATE users SET account_enabled = false WHERE id = $1`, []any{u.ID}, func(f signin.Facts) bool { return !f.Enabled }},
		{"enabled", `UPDATE users SET account_enabled = true WHERE id = $1`, []any{u.ID}, func(f signin.Facts) bool { return f.Enabled }},
		{"renamed", `UPDATE users SET user_principal_name = 'facts2@lab.example', display_name = 'Facts 2' WHERE id = $1`, []any{u.ID},
			func(f signin.Facts) bool {
				return f.UserPrincipalName == "facts2@lab.example" && f.DisplayName == "Facts 2"
			}},
		{"flagged emergency access", `UPDATE users SET is_emergency_access = true WHERE id = $1`, []any{u.ID}, func(f signin.Facts) bool { return f.IsEmergencyAccess }},
		{"sessions revoked", `UPDATE users SET sign_in_sessions_valid_from = '2026-06-01T00:00:00Z' WHERE id = $1`, []any{u.ID},
			func(f signin.Facts) bool {
				return f.SessionsValidFrom.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
			}},
		{"at risk", `INSERT INTO risky_users (user_id, user_principal_name, user_display_name, risk_level, risk_state, risk_detail, risk_last_updated_date_time)
			VALUES ($1, 'facts2@lab.example', 'Facts 2', 'high', 'atRisk', 'adminGeneratedTemporaryPassword', now())`, []any{u.ID}, func(f signin.Facts) bool { return f.UserRiskLevel == "high" }},
		{"risk dismissed", `UPDATE risky_users SET risk_state = 'dismissed', risk_level = 'none' WHERE user_id = $1`, []any{u.ID}, func(f signin.Facts) bool { return f.UserRiskLevel == "none" }},
		{"a password set", `INSERT INTO password_credentials (user_id, hash) VALUES ($1, 'x')`, []any{u.ID}, func(f signin.Facts) bool { return f.HasPassword }},
		{"a TOTP registered", `INSERT INTO totp_methods (id, user_id, sealed_secret) VALUES (gen_random_uuid(), $1, '\x00')`, []any{u.ID}, func(f signin.Facts) bool { return f.HasTOTP }},
		{"the TOTP deleted", `DELETE FROM totp_methods WHERE user_id = $1`, []any{u.ID}, func(f signin.Facts) bool { return !f.HasTOTP }},
		{"a TAP issued", `INSERT INTO temporary_access_passes (id, user_id, secret_hash, created_at, start_at, lifetime_minutes, is_usable_once)
			VALUES (gen_random_uuid(), $1, 'x', now(), now(), 60, true)`, []any{u.ID}, func(f signin.Facts) bool { return f.HasTAP }},
		{"the one-time TAP used", `UPDATE temporary_access_passes SET last_used_at = now() WHERE user_id = $1`, []any{u.ID}, func(f signin.Facts) bool { return !f.HasTAP }},
		{"the passkey suspected cloned", `UPDATE webauthn_credentials SET clone_suspected = true WHERE id = $1`, []any{cred.ID}, func(f signin.Facts) bool { return !f.HasPasskey }},
		{"the suspicion cleared", `UPDATE webauthn_credentials SET clone_suspected = false WHERE id = $1`, []any{cred.ID}, func(f signin.Facts) bool { return f.HasPasskey }},
	}
	for _, s := range steps {
		exec(s.sql, s.args...)
		if f := take(); !s.check(f) {
			t.Fatalf("%s: the next take answered %+v", s.name, f)
		}
		if f := take(); !s.check(f) { // and its copy, made or refreshed by that take
			t.Fatalf("%s: the take after answered %+v", s.name, f)
		}
	}

	// The hot path's own write (counter, backup state, last use) and
	// changes to what the facts are not made of move no version.
	var before, after int64
	version := func() int64 {
		var v int64
		if err := conn.QueryRow(ctx, `SELECT COALESCE((SELECT version FROM sign_in_facts_versions WHERE user_id = $1), 0)`, u.ID).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before = version()
	exec(`UPDATE webauthn_credentials SET sign_count = 9, backup_state = true, last_used_at = now() WHERE id = $1`, cred.ID)
	exec(`UPDATE users SET profile = '{"jobTitle": "Pilot"}', account_enabled = true WHERE id = $1`, u.ID)
	exec(`UPDATE group_members SET user_id = user_id WHERE false`)
	if after = version(); after != before {
		t.Fatalf("writes that change no fact moved the version from %d to %d", before, after)
	}
	// TRUNCATE fires no row trigger; its statement trigger moves every
	// user's version, a user's without a row too.
	exec(`INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)`, group, u.ID)
	_ = take()
	exec(`TRUNCATE group_members`)
	if f := take(); len(f.GroupIDs) != 0 {
		t.Fatalf("after TRUNCATE: %v", f.GroupIDs)
	}
	before = version()
	exec(`TRUNCATE users CASCADE`)
	if after = version(); after <= before {
		t.Fatalf("TRUNCATE users CASCADE left the version at %d (was %d)", after, before)
	}
}

// A pass's usability depends on the clock, not only on data: the copy
// keeps the pass's end and the take's now() decides.
func TestSignInFactsCopyTAPEndsOnTime(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	u, cred := userWithPasskey(t, db, "tapclock@lab.example", ceremony.Credential{ID: []byte("tapclock-cred")})
	conn := connect(t, dsn)
	// A 1-minute pass that started 58.5 s ago: usable for 1.5 s more.
	if _, err := conn.Exec(ctx, `INSERT INTO temporary_access_passes (id, user_id, secret_hash, created_at, start_at, lifetime_minutes, is_usable_once)
		VALUES (gen_random_uuid(), $1, 'x', now(), now() - interval '58.5 seconds', 1, false)`, u.ID); err != nil {
		t.Fatal(err)
	}
	allow, err := db.WebAuthn().AllowList(ctx, u.UserPrincipalName)
	if err != nil {
		t.Fatal(err)
	}
	take := func(nonce string) signin.Facts {
		t.Helper()
		ch := ceremony.Challenge{Hash: []byte(nonce), Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute), Epoch: allow.Epoch}
		a, err := db.Factors().TakePasskeyAssertion(ctx, ch, cred.ID, nil)
		if err != nil || a.Credential == nil {
			t.Fatalf("take: %+v %v", a, err)
		}
		return a.Facts
	}
	if f := take("t1"); !f.HasTAP {
		t.Fatalf("a pass in its lifetime: %+v", f)
	}
	if f := take("t2"); !f.HasTAP {
		t.Fatalf("from the copy, a pass in its lifetime: %+v", f)
	}
	time.Sleep(2 * time.Second)
	if f := take("t3"); f.HasTAP {
		t.Fatalf("from the copy, a pass past its lifetime still counted: %+v", f)
	}
}
