package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/apps"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/risk"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/store/storetest"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func TestDirectoryConformance(t *testing.T) {
	storetest.Directory(t, func(t *testing.T) directory.Store { return testpg.Open(t).Directory() })
}

func TestMethodsConformance(t *testing.T) {
	storetest.Methods(t, func(t *testing.T) storetest.MethodsStores {
		db := testpg.Open(t)
		return storetest.MethodsStores{Configs: db.Methods(), TAPs: db.Methods(), Creds: db.WebAuthn(), Directory: db.Directory(), WebAuthn: db.WebAuthn()}
	})
}

func TestConditionalAccessConformance(t *testing.T) {
	storetest.ConditionalAccess(t, func(t *testing.T) conditionalaccess.Store { return testpg.Open(t).ConditionalAccess() })
}

func TestEmergencyAccessUsers(t *testing.T) {
	storetest.EmergencyAccess(t, func(t *testing.T) storetest.EmergencyDirectory { return testpg.Open(t).Directory() })
}

func TestSignInLogConformance(t *testing.T) {
	storetest.SignInLog(t, func(t *testing.T) signinlog.Store { return testpg.Open(t).SignIns() })
}

func TestRiskyUsersConformance(t *testing.T) {
	storetest.RiskyUsers(t, func(t *testing.T) (risk.Store, directory.Store) {
		db := testpg.Open(t)
		return db.RiskyUsers(), db.Directory()
	})
}

func TestWebAuthnConformance(t *testing.T) {
	storetest.WebAuthn(t, func(t *testing.T) (ceremony.Store, directory.Store) {
		db := testpg.Open(t)
		return db.WebAuthn(), db.Directory()
	})
}

func TestFactorsConformance(t *testing.T) {
	storetest.Factors(t, func(t *testing.T) (storetest.FactorStore, directory.Store) {
		db := testpg.Open(t)
		return db.Factors(), db.Directory()
	})
}

func TestAppsConformance(t *testing.T) {
	storetest.Apps(t, func(t *testing.T) apps.Store { return testpg.Open(t).Apps() })
}

// A DATABASE_URL sizing the pool (pool_max_conns) migrates and opens:
// the pool's settings are not sent to the server as run-time parameters.
func TestURLWithPoolSettings(t *testing.T) {
	dsn := testpg.NewEmptyDatabase(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "pool_max_conns=2"
	ctx := context.Background()
	if _, _, err := store.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.Pool.Config().MaxConns; n != 2 {
		t.Fatalf("pool of %d connections, want 2", n)
	}
}
