package ceremony_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/virtualauthn"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const origin = "http://localhost:8080"

// BenchmarkFinishLoginPostgres is the full finish-sign-in path on real
// PostgreSQL: take the challenge (DELETE ... RETURNING), load the credential
// and the user, verify, advance the counter (conditional UPDATE). Compare
// with BenchmarkFinishLoginCore (same code, storage in memory) and
// BenchmarkECDSAVerifyASN1 from the same run.
func BenchmarkFinishLoginPostgres(b *testing.B) {
	db := testpg.Open(b)
	ctx := context.Background()
	dir := db.Directory()
	u, err := dir.CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "admin1@lab.example", DisplayName: "Admin", AccountEnabled: true}, "")
	if err != nil {
		b.Fatal(err)
	}
	svc, err := ceremony.New(ceremony.Config{RPID: "localhost", RPDisplayName: "lab", Origins: []string{origin}}, db.WebAuthn(), ceremony.DirectoryUsers{Store: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ca, _ := virtualauthn.NewTestCA()
	a, _ := virtualauthn.New(virtualauthn.MicrosoftAuthenticatorIOS(ca))
	creation, err := svc.BeginRegistration(ctx, u.ID, ceremony.RegistrationOptions{})
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(creation)
	resp, err := a.Create(raw, origin)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.FinishRegistration(ctx, u.ID, resp); err != nil {
		b.Fatal(err)
	}
	in := make([][]byte, b.N)
	for i := range in {
		opts, err := svc.BeginLogin(ctx, u.UserPrincipalName)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := json.Marshal(opts)
		if in[i], err = a.Get(raw, origin); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.FinishLogin(ctx, in[i]); err != nil {
			b.Fatal(err)
		}
	}
}
