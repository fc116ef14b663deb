package conditionalaccess_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// newService's users could perform every method: these tests are about
// storage and caching, not about which methods a user registered.
func newService(db *store.DB) *conditionalaccess.Service {
	everything := func(context.Context, string) (policy.ModeSet, error) { return ^policy.ModeSet(0), nil }
	return conditionalaccess.New(db.ConditionalAccess(), db.Directory(), everything)
}

func mustUser(tb testing.TB, db *store.DB) string {
	tb.Helper()
	u, err := db.Directory().CreateUser(context.Background(), directory.User{ID: uuid.NewString(), UserPrincipalName: uuid.NewString() + "@lab.example", DisplayName: "u", AccountEnabled: true}, "")
	if err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

func requireStrengthFor(userID, state string) policy.ConditionalAccessPolicy {
	return policy.ConditionalAccessPolicy{
		DisplayName: "require phishing-resistant MFA", State: state,
		Conditions: policy.ConditionalAccessConditionSet{
			Users:        policy.ConditionalAccessUsers{IncludeUsers: []string{userID}},
			Applications: policy.ConditionalAccessApplications{IncludeApplications: []string{policy.KeywordAll}},
		},
		GrantControls: &policy.ConditionalAccessGrantControls{Operator: policy.OperatorOR,
			AuthenticationStrength: &policy.AuthenticationStrengthPolicy{ID: policy.StrengthIDPhishingResistant}},
	}
}

// Two servers on one database: a change made through one is what the
// other's next Compiled evaluates, without restarts or notifications.
func TestCompiledFollowsChangesFromAnotherInstance(t *testing.T) {
	ctx := context.Background()
	db := testpg.Open(t)
	signIn, admin := newService(db), newService(db)
	user := mustUser(t, db)
	passwordOnly := &policy.SignInContext{UserID: user, ApplicationID: "app", ClientAppType: "browser",
		Methods: []policy.SatisfiedMethod{{Mode: "password"}}, RegisteredMethods: policy.ModeSet(policy.ModeFido2)}

	cp, err := signIn.Compiled(ctx)
	if err != nil || cp.Len() != 0 {
		t.Fatalf("empty tenant: %v %v", cp, err)
	}
	again, _ := signIn.Compiled(ctx)
	if again != cp {
		t.Fatal("an unchanged version must reuse the compiled policies")
	}

	p, err := admin.CreatePolicy(ctx, conditionalaccess.Caller{}, requireStrengthFor(user, policy.StateReportOnly), false)
	if err != nil {
		t.Fatal(err)
	}
	cp, err = signIn.Compiled(ctx)
	if err != nil || cp.Len() != 1 {
		t.Fatalf("after create elsewhere: %v", err)
	}
	if ev := cp.Evaluate(passwordOnly); ev.Decision != policy.DecisionAllow || ev.AppliedConditionalAccessPolicies[0].Result != policy.ResultReportOnlyInterrupted {
		t.Fatalf("report-only: %+v", ev)
	}

	if _, err := admin.UpdatePolicy(ctx, conditionalaccess.Caller{}, p.ID, []byte(`{"state":"enabled"}`), false); err != nil {
		t.Fatal(err)
	}
	cp, _ = signIn.Compiled(ctx)
	if ev := cp.Evaluate(passwordOnly); ev.Decision != policy.DecisionStepUpRequired {
		t.Fatalf("enabled elsewhere: %+v", ev)
	}

	// A custom strength changed elsewhere changes what the policy demands.
	st, err := admin.CreateStrength(ctx, policy.AuthenticationStrengthPolicy{DisplayName: "password is fine", AllowedCombinations: []string{"password"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdatePolicy(ctx, conditionalaccess.Caller{}, p.ID, []byte(`{"grantControls":{"authenticationStrength":{"id":"`+st.ID+`"}}}`), false); err != nil {
		t.Fatal(err)
	}
	cp, _ = signIn.Compiled(ctx)
	if ev := cp.Evaluate(passwordOnly); ev.Decision != policy.DecisionAllow {
		t.Fatalf("custom strength: %+v", ev)
	}
	lookup, err := signIn.Strengths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := lookup(st.ID); !ok || got.DisplayName != "password is fine" {
		t.Fatalf("custom strength lookup: %+v %v", got, ok)
	}
	if got, ok := lookup(policy.StrengthIDPhishingResistant); !ok || got.PolicyType != policy.PolicyTypeBuiltIn {
		t.Fatalf("built-in lookup: %+v %v", got, ok)
	}

	if err := admin.DeletePolicy(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if cp, _ = signIn.Compiled(ctx); cp.Len() != 0 {
		t.Fatalf("after delete elsewhere: %d policies", cp.Len())
	}
}

// Compiled under concurrent sign-ins and writes: the race detector checks
// the cache, and every result must be one whole generation.
func TestCompiledConcurrentUse(t *testing.T) {
	ctx := context.Background()
	db := testpg.Open(t)
	signIn, admin := newService(db), newService(db)
	user := mustUser(t, db)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				cp, err := signIn.Compiled(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				_ = cp.Evaluate(&policy.SignInContext{UserID: user, ApplicationID: "app"})
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if _, err := admin.CreatePolicy(ctx, conditionalaccess.Caller{}, requireStrengthFor(user, policy.StateReportOnly), false); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if cp, _ := signIn.Compiled(ctx); cp.Len() != 5 {
		t.Fatalf("want 5 policies, got %d", cp.Len())
	}
}

// BenchmarkCompiledWarm is the sign-in path's cost of asking for the
// policies when nothing changed: one single-row version query.
func BenchmarkCompiledWarm(b *testing.B) {
	ctx := context.Background()
	db := testpg.Open(b)
	s := newService(db)
	user := mustUser(b, db)
	for i := 0; i < 20; i++ {
		if _, err := s.CreatePolicy(ctx, conditionalaccess.Caller{}, requireStrengthFor(user, policy.StateReportOnly), false); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Compiled(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Compiled(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
