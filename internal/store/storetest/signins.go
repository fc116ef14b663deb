package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// SignInLog runs the signinlog.Store conformance suite; newStore must
// return an empty store each call.
func SignInLog(t *testing.T, newStore func(t *testing.T) signinlog.Store) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	alice, bob := uuid.NewString(), uuid.NewString()

	// rec makes the i-th record: alice on even i, bob on odd; every third fails.
	rec := func(i int) signinlog.SignIn {
		s := signinlog.SignIn{ID: uuid.NewString(), CreatedDateTime: base.Add(time.Duration(i) * time.Minute),
			UserID: alice, UserPrincipalName: "Alice@Lab.Example", AppID: "portal", AppDisplayName: "Lab portal",
			ConditionalAccessStatus: "success", Status: signinlog.SignInStatus{ErrorCode: 0},
			AppliedConditionalAccessPolicies: []policy.AppliedConditionalAccessPolicy{{ID: uuid.NewString(), DisplayName: "CA001", Result: "reportOnlySuccess"}},
			AuthenticationDetails: []signinlog.AuthenticationDetail{{AuthenticationMethod: "Passkey (device-bound)", Succeeded: true,
				AuthenticationStepResultDetail: "MFA successfully completed", AuthenticationStepRequirement: "Primary authentication"}},
			AuthenticationMethodsUsed: []string{"Passkey (device-bound)"}}
		if i%2 == 1 {
			s.UserID, s.UserPrincipalName, s.AppID = bob, "bob@lab.example", "ssh"
		}
		if i%3 == 0 {
			s.Status = signinlog.SignInStatus{ErrorCode: 53003, FailureReason: "Blocked by Conditional Access"}
			s.ConditionalAccessStatus = "failure"
		}
		if err := signinlog.Normalize(&s, base); err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("round trip keeps the Graph record", func(t *testing.T) {
		s := newStore(t)
		r := rec(1)
		if err := s.InsertSignIns(ctx, []signinlog.SignIn{r}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSignIn(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", r) {
			t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, r)
		}
		_, err = s.GetSignIn(ctx, uuid.NewString())
		wantCode(t, err, apperr.KindNotFound, apperr.CodeNotFound)
	})

	t.Run("a retried id is skipped, not duplicated nor refused", func(t *testing.T) {
		s := newStore(t)
		r := rec(2)
		for range 2 {
			if err := s.InsertSignIns(ctx, []signinlog.SignIn{r, r}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.ListSignIns(ctx, signinlog.Filter{}, signinlog.Page{})
		if err != nil || len(list) != 1 {
			t.Fatalf("want 1 record, got %d %v", len(list), err)
		}
	})

	t.Run("filters and keyset paging, newest first", func(t *testing.T) {
		s := newStore(t)
		var all []signinlog.SignIn
		for i := range 12 {
			all = append(all, rec(i))
		}
		// Two records at the same instant: the id breaks the tie.
		twin := rec(11)
		twin.ID = uuid.NewString()
		all = append(all, twin)
		if err := s.InsertSignIns(ctx, all); err != nil {
			t.Fatal(err)
		}
		count := func(f signinlog.Filter) int {
			t.Helper()
			n := 0
			var after *signinlog.Cursor
			var last *signinlog.SignIn
			for {
				page, err := s.ListSignIns(ctx, f, signinlog.Page{Top: 5, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for i := range page {
					if last != nil && (page[i].CreatedDateTime.After(last.CreatedDateTime) ||
						page[i].CreatedDateTime.Equal(last.CreatedDateTime) && page[i].ID >= last.ID) {
						t.Fatalf("order broken: %v/%s after %v/%s", page[i].CreatedDateTime, page[i].ID, last.CreatedDateTime, last.ID)
					}
					last = &page[i]
				}
				n += len(page)
				if len(page) < 5 {
					return n
				}
				c := signinlog.CursorAfter(last.CreatedDateTime, last.ID)
				after = &c
			}
		}
		zero := 0
		cases := []struct {
			name string
			f    signinlog.Filter
			want int
		}{
			{"all", signinlog.Filter{}, 13},
			{"userId", signinlog.Filter{UserID: alice}, 6},
			{"UPN any case", signinlog.Filter{UserPrincipalName: "ALICE@lab.example"}, 6},
			{"appId", signinlog.Filter{AppID: "ssh"}, 7},
			{"failures", signinlog.Filter{ErrorCode: &zero, ErrorCodeNot: true}, 4},
			{"successes", signinlog.Filter{ErrorCode: &zero}, 9},
			{"CA status", signinlog.Filter{ConditionalAccessStatus: "failure"}, 4},
			{"from, inclusive", signinlog.Filter{From: base.Add(10 * time.Minute)}, 3},
			{"from, exclusive", signinlog.Filter{From: base.Add(10 * time.Minute), FromExclusive: true}, 2},
			{"to, inclusive", signinlog.Filter{To: base.Add(2 * time.Minute)}, 3},
			{"to, exclusive", signinlog.Filter{To: base.Add(2 * time.Minute), ToExclusive: true}, 2},
			{"combined", signinlog.Filter{UserID: bob, ErrorCode: &zero, ErrorCodeNot: true, From: base.Add(time.Minute)}, 2},
		}
		for _, c := range cases {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: got %d records, want %d", c.name, got, c.want)
			}
		}
	})

	t.Run("a sign-in that raises an alert raises one, in the same write", func(t *testing.T) {
		s := newStore(t)
		r := rec(4)
		r.IsEmergencyAccess, r.RaisesAlert, r.UserPrincipalName, r.IPAddress = true, true, "bg1@lab.example", "192.0.2.7"
		if err := s.InsertSignIns(ctx, []signinlog.SignIn{rec(5), r}); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertSignIns(ctx, []signinlog.SignIn{r}); err != nil { // retry: no second alert
			t.Fatal(err)
		}
		alerts, err := s.ListAlerts(ctx, signinlog.Page{})
		if err != nil || len(alerts) != 1 {
			t.Fatalf("want 1 alert, got %d %v", len(alerts), err)
		}
		a := alerts[0]
		if a.SignInID != r.ID || a.Status != "new" || a.Severity != "high" || a.Title != signinlog.AlertTitleEmergencySignIn ||
			a.Evidence[0].UserAccount.UserPrincipalName != "bg1@lab.example" || a.ResolvedDateTime != nil {
			t.Fatalf("alert: %+v", a)
		}
		got, err := s.SetAlertStatus(ctx, a.ID, "resolved", base.Add(time.Hour))
		if err != nil || got.Status != "resolved" || got.ResolvedDateTime == nil || !got.LastUpdateDateTime.Equal(base.Add(time.Hour)) {
			t.Fatalf("resolve: %+v %v", got, err)
		}
		_, err = s.SetAlertStatus(ctx, a.ID, "closed", base)
		wantCode(t, err, apperr.KindInvalid, signinlog.CodeInvalidAlertStatus)
		_, err = s.SetAlertStatus(ctx, uuid.NewString(), "resolved", base)
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.GetAlert(ctx, uuid.NewString())
		wantKind(t, err, apperr.KindNotFound)
	})

	t.Run("a failed batch writes nothing", func(t *testing.T) {
		s := newStore(t)
		good, bad := rec(1), rec(2)
		bad.UserID = "not-a-uuid" // bypasses Normalize, as a buggy implementation might
		if err := s.InsertSignIns(ctx, []signinlog.SignIn{good, bad}); err == nil {
			t.Fatal("a batch with a malformed record must fail")
		}
		if list, _ := s.ListSignIns(ctx, signinlog.Filter{}, signinlog.Page{}); len(list) != 0 {
			t.Fatalf("half a batch was committed: %d rows", len(list))
		}
	})
}
