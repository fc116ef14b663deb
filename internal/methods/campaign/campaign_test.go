package campaign

import (
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/methods/targeting"
)

func TestTargetedAndDecide(t *testing.T) {
	c := Default().AuthenticationMethodsRegistrationCampaign
	c.State, c.SnoozeDurationInDays = StateEnabled, 2
	c.ExcludeTargets = []ExcludeTarget{{ID: "g-excluded", TargetType: targeting.Group}}
	in := targeting.Subject{UserID: "u1"}
	out := targeting.Subject{UserID: "u2", GroupIDs: []string{"G-EXCLUDED"}}
	if m, ok := c.Targeted(in); !ok || m != MicrosoftAuthenticator {
		t.Fatal("included user not targeted")
	}
	if _, ok := c.Targeted(out); ok {
		t.Fatal("excluded user targeted")
	}
	off := c
	off.State = StateDefault
	if _, ok := off.Targeted(in); ok {
		t.Fatal("default state nudges")
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		sn        Snoozes
		enforce   bool
		nudged    bool
		remaining int
		canSnooze bool
	}{
		{"never snoozed", Snoozes{}, true, true, 3, true},
		{"within window", Snoozes{Count: 1, LastAt: now.Add(-47 * time.Hour)}, true, false, 0, false},
		{"window over", Snoozes{Count: 1, LastAt: now.Add(-48 * time.Hour)}, true, true, 2, true},
		{"snoozes used up", Snoozes{Count: 3, LastAt: now.Add(-72 * time.Hour)}, true, true, 0, false},
		{"no enforcement", Snoozes{Count: 9, LastAt: now.Add(-72 * time.Hour)}, false, true, -1, true},
	} {
		c.EnforceRegistrationAfterAllowedSnoozes = tc.enforce
		n := c.Decide(MicrosoftAuthenticator, tc.sn, now)
		if (n != nil) != tc.nudged || (n != nil && (n.SnoozesRemaining != tc.remaining || n.CanSnooze != tc.canSnooze)) {
			t.Errorf("%s: %+v", tc.name, n)
		}
	}
}
