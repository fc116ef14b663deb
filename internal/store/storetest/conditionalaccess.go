package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// EmergencyDirectory is a directory store that can list emergency-access
// accounts (what Conditional Access lockout protection reads).
type EmergencyDirectory interface {
	directory.Store
	EmergencyAccessUserIDs(ctx context.Context) ([]string, error)
}

// EmergencyAccess checks EmergencyAccessUserIDs; newStore must return an
// empty store each call.
func EmergencyAccess(t *testing.T, newStore func(t *testing.T) EmergencyDirectory) {
	ctx := context.Background()
	s := newStore(t)
	if ids, err := s.EmergencyAccessUserIDs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("empty directory: %v %v", ids, err)
	}
	mustUser(t, s, "ordinary@lab.example")
	bg1 := mustUser(t, s, "bg1@lab.example")
	bg2 := mustUser(t, s, "bg2@lab.example")
	yes, no := true, false
	for _, id := range []string{bg1.ID, bg2.ID} {
		if _, err := s.UpdateUser(ctx, id, directory.UserPatch{IsEmergencyAccess: &yes}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.EmergencyAccessUserIDs(ctx)
	if err != nil || len(ids) != 2 || !(ids[0] == bg1.ID && ids[1] == bg2.ID || ids[0] == bg2.ID && ids[1] == bg1.ID) {
		t.Fatalf("want %s and %s, got %v %v", bg1.ID, bg2.ID, ids, err)
	}
	if _, err := s.UpdateUser(ctx, bg2.ID, directory.UserPatch{IsEmergencyAccess: &no}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, bg1.ID); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.EmergencyAccessUserIDs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("after unflag and delete: %v %v", ids, err)
	}
}

func caPolicy(name, strengthID string) policy.ConditionalAccessPolicy {
	return policy.ConditionalAccessPolicy{
		ID: uuid.NewString(), DisplayName: name, State: policy.StateReportOnly,
		Conditions: policy.ConditionalAccessConditionSet{
			Users:          policy.ConditionalAccessUsers{IncludeGroups: []string{uuid.NewString()}},
			Applications:   policy.ConditionalAccessApplications{IncludeApplications: []string{policy.KeywordAll}},
			ClientAppTypes: []string{"all"},
		},
		GrantControls: &policy.ConditionalAccessGrantControls{Operator: policy.OperatorOR,
			AuthenticationStrength: &policy.AuthenticationStrengthPolicy{ID: strengthID}},
	}
}

func customStrength(name string) policy.AuthenticationStrengthPolicy {
	return policy.AuthenticationStrengthPolicy{ID: uuid.NewString(), DisplayName: name, PolicyType: policy.PolicyTypeCustom,
		RequirementsSatisfied: policy.RequirementsSatisfiedMFA, AllowedCombinations: []string{"fido2"},
		CombinationConfigurations: []policy.CombinationConfiguration{}}
}

// ConditionalAccess runs the conditionalaccess.Store conformance suite;
// newStore must return an empty store each call.
func ConditionalAccess(t *testing.T, newStore func(t *testing.T) conditionalaccess.Store) {
	ctx := context.Background()
	version := func(t *testing.T, s conditionalaccess.Store) int64 {
		t.Helper()
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("policy round trip, paging and version bumps", func(t *testing.T) {
		s := newStore(t)
		v0 := version(t, s)
		p := caPolicy("CA001-Admins-AllApps-RequirePhishingResistant_MFA-P2", policy.StrengthIDPhishingResistant)
		p.Conditions.Users.ExcludeGroups = []string{uuid.NewString()}
		got, err := s.CreatePolicy(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p.ID || got.CreatedDateTime.IsZero() || !got.ModifiedDateTime.IsZero() || got.State != policy.StateReportOnly ||
			got.GrantControls.AuthenticationStrength.ID != policy.StrengthIDPhishingResistant || got.Conditions.Users.ExcludeGroups[0] != p.Conditions.Users.ExcludeGroups[0] {
			t.Fatalf("create: %+v", got)
		}
		if v := version(t, s); v <= v0 {
			t.Fatalf("create did not bump the version: %d -> %d", v0, v)
		}
		again, err := s.GetPolicy(ctx, p.ID)
		if err != nil || again.DisplayName != p.DisplayName || !again.CreatedDateTime.Equal(got.CreatedDateTime) {
			t.Fatalf("get: %+v %v", again, err)
		}
		for i := 0; i < 4; i++ {
			if _, err := s.CreatePolicy(ctx, caPolicy("p", policy.StrengthIDMultifactor)); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		page := directory.Page{Top: 2}
		for {
			ps, err := s.ListPolicies(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if seen[p.ID] {
					t.Fatalf("policy %s listed twice", p.ID)
				}
				seen[p.ID] = true
			}
			if len(ps) < page.Top {
				break
			}
			page.After = ps[len(ps)-1].ID
		}
		if len(seen) != 5 {
			t.Fatalf("paging saw %d policies, want 5", len(seen))
		}
		snap, err := s.Snapshot(ctx)
		if err != nil || len(snap.Policies) != 5 || snap.Policies[0].ID != p.ID || snap.Version != version(t, s) {
			t.Fatalf("snapshot: %d policies, version %d, %v", len(snap.Policies), snap.Version, err)
		}
	})

	t.Run("unknown ids are NotFound and do not bump", func(t *testing.T) {
		s := newStore(t)
		v0 := version(t, s)
		id := uuid.NewString()
		_, err := s.GetPolicy(ctx, id)
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.UpdatePolicy(ctx, id, func(p policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) { return p, nil })
		wantKind(t, err, apperr.KindNotFound)
		wantKind(t, s.DeletePolicy(ctx, id), apperr.KindNotFound)
		_, err = s.GetStrength(ctx, id)
		wantKind(t, err, apperr.KindNotFound)
		wantKind(t, s.DeleteStrength(ctx, id), apperr.KindNotFound)
		if v := version(t, s); v != v0 {
			t.Fatalf("failed writes moved the version %d -> %d", v0, v)
		}
	})

	t.Run("update is all or nothing", func(t *testing.T) {
		s := newStore(t)
		p, err := s.CreatePolicy(ctx, caPolicy("before", policy.StrengthIDMultifactor))
		if err != nil {
			t.Fatal(err)
		}
		v0 := version(t, s)
		refused := apperr.Invalid("nope", "refused")
		_, err = s.UpdatePolicy(ctx, p.ID, func(cur policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) {
			cur.DisplayName = "half written"
			return cur, refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("want fn's error, got %v", err)
		}
		if got, _ := s.GetPolicy(ctx, p.ID); got.DisplayName != "before" || version(t, s) != v0 {
			t.Fatalf("refused update left %q, version %d -> %d", got.DisplayName, v0, version(t, s))
		}
		got, err := s.UpdatePolicy(ctx, p.ID, func(cur policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) {
			cur.DisplayName, cur.State = "after", policy.StateEnabled
			return cur, nil
		})
		if err != nil || got.DisplayName != "after" || got.State != policy.StateEnabled || got.ModifiedDateTime.IsZero() || version(t, s) <= v0 {
			t.Fatalf("update: %+v %v", got, err)
		}
	})

	t.Run("concurrent updates do not lose each other", func(t *testing.T) {
		s := newStore(t)
		p, err := s.CreatePolicy(ctx, caPolicy("busy", policy.StrengthIDMultifactor))
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.UpdatePolicy(ctx, p.ID, func(cur policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) {
					cur.Conditions.Users.ExcludeUsers = append(cur.Conditions.Users.ExcludeUsers, uuid.NewString())
					return cur, nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.GetPolicy(ctx, p.ID)
		if len(got.Conditions.Users.ExcludeUsers) != n {
			t.Fatalf("want %d exclusions, got %d", n, len(got.Conditions.Users.ExcludeUsers))
		}
	})

	t.Run("strengths: round trip, unique names, in-use refusal", func(t *testing.T) {
		s := newStore(t)
		st, err := s.CreateStrength(ctx, customStrength("Passkeys only"))
		if err != nil || st.CreatedDateTime.IsZero() || st.AllowedCombinations[0] != "fido2" {
			t.Fatalf("create: %+v %v", st, err)
		}
		_, err = s.CreateStrength(ctx, customStrength("PASSKEYS ONLY"))
		wantCode(t, err, apperr.KindConflict, conditionalaccess.CodeDuplicateStrengthName)

		missing := caPolicy("needs a deleted strength", uuid.NewString())
		_, err = s.CreatePolicy(ctx, missing)
		wantCode(t, err, apperr.KindInvalid, policy.CodeAuthenticationStrengthNotFound)

		p, err := s.CreatePolicy(ctx, caPolicy("uses custom", st.ID))
		if err != nil {
			t.Fatal(err)
		}
		v0 := version(t, s)
		wantCode(t, s.DeleteStrength(ctx, st.ID), apperr.KindConflict, conditionalaccess.CodeStrengthInUse)
		if version(t, s) != v0 {
			t.Fatal("refused delete moved the version")
		}
		upd, err := s.UpdateStrength(ctx, st.ID, func(cur policy.AuthenticationStrengthPolicy) (policy.AuthenticationStrengthPolicy, error) {
			cur.AllowedCombinations = append(cur.AllowedCombinations, "windowsHelloForBusiness")
			return cur, nil
		})
		if err != nil || len(upd.AllowedCombinations) != 2 || upd.ModifiedDateTime.IsZero() || version(t, s) <= v0 {
			t.Fatalf("update strength: %+v %v", upd, err)
		}
		snap, err := s.Snapshot(ctx)
		if err != nil || len(snap.Strengths) != 1 || len(snap.Strengths[0].AllowedCombinations) != 2 {
			t.Fatalf("snapshot strengths: %+v %v", snap.Strengths, err)
		}
		// Moving the policy to a built-in releases the strength.
		if _, err := s.UpdatePolicy(ctx, p.ID, func(cur policy.ConditionalAccessPolicy) (policy.ConditionalAccessPolicy, error) {
			cur.GrantControls.AuthenticationStrength = &policy.AuthenticationStrengthPolicy{ID: policy.StrengthIDPhishingResistant}
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteStrength(ctx, st.ID); err != nil {
			t.Fatalf("delete unused strength: %v", err)
		}
		list, err := s.ListStrengths(ctx, directory.Page{Top: 10})
		if err != nil || len(list) != 0 {
			t.Fatalf("list after delete: %v %v", list, err)
		}
	})
}
