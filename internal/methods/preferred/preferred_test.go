package preferred

import (
	"errors"
	"testing"

	"github.com/rpserver/rpserver/internal/methods/targeting"
)

func TestApplies(t *testing.T) {
	alice := targeting.Subject{UserID: "u-alice", GroupIDs: []string{"g-pilot"}}
	for _, tc := range []struct {
		name string
		p    Preferences
		want bool
	}{
		{"default: Microsoft-managed, on for all users", Default(), true},
		{"enabled for all", Preferences{State: StateEnabled, IncludeTargets: []Target{{targeting.AllUsers, targeting.Group}}}, true},
		{"disabled", Preferences{State: StateDisabled, IncludeTargets: []Target{{targeting.AllUsers, targeting.Group}}}, false},
		{"included by group", Preferences{State: StateEnabled, IncludeTargets: []Target{{"g-pilot", targeting.Group}}}, true},
		{"included by user id, other case", Preferences{State: StateEnabled, IncludeTargets: []Target{{"U-ALICE", targeting.User}}}, true},
		{"not included", Preferences{State: StateEnabled, IncludeTargets: []Target{{"g-other", targeting.Group}}}, false},
		{"no include targets", Preferences{State: StateEnabled}, false},
		{"exclusion wins", Preferences{State: StateEnabled, IncludeTargets: []Target{{targeting.AllUsers, targeting.Group}}, ExcludeTargets: []Target{{"g-pilot", targeting.Group}}}, false},
		{"a user id is not a group", Preferences{State: StateEnabled, IncludeTargets: []Target{{"u-alice", targeting.Group}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Applies(alice); got != tc.want {
				t.Errorf("Applies = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	many := make([]Target, maxTargets+1)
	for i := range many {
		many[i] = Target{"g", targeting.Group}
	}
	for _, tc := range []struct {
		name   string
		p      Preferences
		code   targeting.Code
		target string
	}{
		{"default is valid", Default(), "", ""},
		{"unknown state", Preferences{State: "on"}, CodeInvalidState, "systemCredentialPreferences.state"},
		{"empty state", Preferences{}, CodeInvalidState, "systemCredentialPreferences.state"},
		{"bad target type", Preferences{State: StateEnabled, IncludeTargets: []Target{{"x", "role"}}}, CodeInvalidTarget, "systemCredentialPreferences.includeTargets[0].targetType"},
		{"empty exclude id", Preferences{State: StateEnabled, ExcludeTargets: []Target{{" ", targeting.User}}}, CodeInvalidTarget, "systemCredentialPreferences.excludeTargets[0].id"},
		{"too many", Preferences{State: StateEnabled, IncludeTargets: many}, CodeTooManyTargets, "systemCredentialPreferences"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			var v *targeting.ValidationError
			if !errors.As(err, &v) || v.Code != tc.code || v.Target != tc.target {
				t.Fatalf("err = %v, want %s at %s", err, tc.code, tc.target)
			}
		})
	}
}
