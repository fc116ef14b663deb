package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// The passkey sign-in's two round trips: the challenge taken with the
// credential, facts and policy version; then the counter committed with the
// record, which is stored only while the counter advances.
func TestPasskeySignInRoundTrips(t *testing.T) {
	ctx := context.Background()
	db, dsn := openDSN(t)
	u, err := db.Directory().CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "pk@lab.example", DisplayName: "PK", AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	cred := ceremony.Credential{ID: []byte{1, 2, 3, 4}, MethodID: uuid.NewString(), UserID: u.ID, PublicKey: []byte{0xa5}, AAGUID: uuid.NewString(),
		AttestationFormat: "none", AttestationType: "none", DisplayName: "key", SignCount: 5}
	if _, err := db.WebAuthn().CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	refs, err := db.WebAuthn().BeginAssertion(ctx, u.UserPrincipalName, ceremony.Challenge{Hash: []byte("pk-h"), Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute)})
	if err != nil || len(refs) != 1 {
		t.Fatalf("begin: %+v %v", refs, err)
	}
	a, err := db.Factors().TakePasskeyAssertion(ctx, []byte("pk-h"), cred.ID, nil)
	if err != nil || a.Challenge.UserID != u.ID || a.Credential == nil || a.Credential.SignCount != 5 || a.PolicyVersion < 0 ||
		a.Facts.UserID != u.ID || a.Facts.UserPrincipalName != "pk@lab.example" || !a.Facts.Enabled || !a.Facts.HasPasskey {
		t.Fatalf("take: %+v %v", a, err)
	}
	_, err = db.Factors().TakePasskeyAssertion(ctx, []byte("pk-h"), cred.ID, nil)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound || a.Grant != nil {
		t.Fatalf("second take: %v", err)
	}

	// With a claim the same statement reserves the limiter's attempt.
	begin := func(h string) {
		if _, err := db.WebAuthn().BeginAssertion(ctx, u.UserPrincipalName, ceremony.Challenge{Hash: []byte(h), Kind: ceremony.KindAuthentication, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	one := &ratelimit.Claim{Key: "198.51.100.1", Now: time.Now(), Window: time.Minute, Max: 1}
	begin("pk-r1")
	a, err = db.Factors().TakePasskeyAssertion(ctx, []byte("pk-r1"), cred.ID, one)
	if err != nil || a.Grant == nil || !a.Grant.Granted || a.Grant.WindowStart.IsZero() || a.Credential == nil {
		t.Fatalf("take reserving: %+v %v", a, err)
	}
	begin("pk-r2")
	a, err = db.Factors().TakePasskeyAssertion(ctx, []byte("pk-r2"), cred.ID, one)
	if err != nil || a.Grant == nil || a.Grant.Granted || a.Grant.Failures != 0 {
		t.Fatalf("a second attempt with one in flight and a limit of one: %+v %v", a.Grant, err)
	}
	a, err = db.Factors().TakePasskeyAssertion(ctx, []byte("no such challenge"), cred.ID, &ratelimit.Claim{Key: "198.51.100.2", Now: time.Now(), Window: time.Minute, Max: 1})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound || a.Grant == nil || !a.Grant.Granted || a.Credential != nil {
		t.Fatalf("take reserving without a challenge: %v", err)
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
