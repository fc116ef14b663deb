package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
)

// Apps runs the apps.Store conformance suite; newStore must return an empty
// store (built-in service principals aside) each call.
func Apps(t *testing.T, newStore func(t *testing.T) apps.Store) {
	ctx := context.Background()
	newApp := func(t *testing.T, s apps.Store, name string) apps.Application {
		t.Helper()
		a, err := s.CreateApplication(ctx, apps.Application{ID: uuid.NewString(), AppID: uuid.NewString(), DisplayName: name, SignInAudience: "AzureADMyOrg",
			Web: apps.WebApplication{RedirectURIs: []string{"https://a.example/cb"}}, Spa: apps.SpaApplication{RedirectURIs: []string{}},
			PublicClient: apps.PublicClientApplication{RedirectURIs: []string{}}, RequiredResourceAccess: []apps.RequiredResourceAccess{}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	t.Run("round trip by id and appId", func(t *testing.T) {
		s := newStore(t)
		a := newApp(t, s, "one")
		got, err := s.ApplicationByAppID(ctx, a.AppID)
		if err != nil || got.ID != a.ID || len(got.Web.RedirectURIs) != 1 || got.PasswordCredentials == nil || got.CreatedDateTime.IsZero() {
			t.Fatalf("by appId: %+v %v", got, err)
		}
		_, err = s.GetApplication(ctx, uuid.NewString())
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("passwords: limit, hashes only by appId, remove", func(t *testing.T) {
		s := newStore(t)
		a := newApp(t, s, "two")
		now := time.Now().UTC().Truncate(time.Microsecond)
		for i := 0; i < 2; i++ {
			if err := s.AddPassword(ctx, a.ID, apps.PasswordCredential{KeyID: uuid.NewString(), Hint: "abc", SecretHash: "h", StartDateTime: now, EndDateTime: now.Add(time.Hour)}, 2); err != nil {
				t.Fatal(err)
			}
		}
		err := s.AddPassword(ctx, a.ID, apps.PasswordCredential{KeyID: uuid.NewString(), Hint: "abc", SecretHash: "h", StartDateTime: now, EndDateTime: now.Add(time.Hour)}, 2)
		wantCode(t, err, apperr.KindInvalid, apps.CodeTooManyCredentials)
		hashes, err := s.PasswordHashes(ctx, a.AppID)
		if err != nil || len(hashes) != 2 || hashes[0].SecretHash != "h" {
			t.Fatalf("hashes: %+v %v", hashes, err)
		}
		got, _ := s.GetApplication(ctx, a.ID)
		if len(got.PasswordCredentials) != 2 || got.PasswordCredentials[0].SecretHash != "" {
			t.Fatalf("read exposes hashes or misses credentials: %+v", got.PasswordCredentials)
		}
		if err := s.RemovePassword(ctx, a.ID, hashes[0].KeyID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.RemovePassword(ctx, a.ID, hashes[0].KeyID), apperr.KindNotFound)
		wantKind(t, s.AddPassword(ctx, uuid.NewString(), apps.PasswordCredential{KeyID: uuid.NewString()}, 2), apperr.KindNotFound)
	})

	t.Run("service principal follows its application", func(t *testing.T) {
		s := newStore(t)
		a := newApp(t, s, "three")
		sp, err := s.CreateServicePrincipal(ctx, apps.ServicePrincipal{ID: uuid.NewString(), AppID: a.AppID, AccountEnabled: true, Tags: []string{}})
		if err != nil || sp.DisplayName != "three" || len(sp.ReplyURLs) != 1 {
			t.Fatalf("create: %+v %v", sp, err)
		}
		_, err = s.CreateServicePrincipal(ctx, apps.ServicePrincipal{ID: uuid.NewString(), AppID: a.AppID, Tags: []string{}})
		wantCode(t, err, apperr.KindConflict, apps.CodeDuplicateAppID)
		name := "renamed"
		if _, err := s.UpdateApplication(ctx, a.ID, apps.ApplicationPatch{DisplayName: &name}); err != nil {
			t.Fatal(err)
		}
		no := false
		sp, err = s.UpdateServicePrincipal(ctx, sp.ID, apps.ServicePrincipalPatch{AccountEnabled: &no})
		if err != nil || sp.DisplayName != "renamed" || sp.AccountEnabled {
			t.Fatalf("update: %+v %v", sp, err)
		}
		if err := s.DeleteApplication(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.ServicePrincipalByAppID(ctx, a.AppID)
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("built-in principals exist", func(t *testing.T) {
		s := newStore(t)
		sp, err := s.ServicePrincipalByAppID(ctx, "00000003-0000-0000-c000-000000000000")
		if err != nil || sp.DisplayName != "Microsoft Graph" || !sp.AccountEnabled {
			t.Fatalf("Microsoft Graph: %+v %v", sp, err)
		}
		list, err := s.ListServicePrincipals(ctx, apps.Page{Top: 2})
		if err != nil || len(list) != 2 {
			t.Fatalf("paging: %d %v", len(list), err)
		}
		next, err := s.ListServicePrincipals(ctx, apps.Page{Top: 100, After: list[1].ID})
		if err != nil || len(next) == 0 || next[0].ID <= list[1].ID {
			t.Fatalf("next page: %+v %v", next, err)
		}
	})
}
