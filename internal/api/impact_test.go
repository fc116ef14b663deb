package api_test

import (
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
)

// The impact report of a report-only policy counts the sign-ins by result
// and names the users it would block, with why, before it is switched on.
func TestPolicyImpactReportNamesWhoWouldBeBlocked(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	ids := map[string]string{}
	for _, upn := range []string{"fin1@lab.example", "hr1@lab.example"} {
		u := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"`+upn+`","displayName":"`+upn+`","passwordProfile":{"password":"correct horse battery"}}`)
		if u.status != 201 {
			t.Fatal(u.raw)
		}
		ids[upn] = u.body["id"].(string)
	}
	p := e.do("POST", "/v1.0/identity/conditionalAccess/policies", ga, `{"displayName":"CA100-Finance-Block-ReportOnly","state":"enabledForReportingButNotEnforced",
		"conditions":{"users":{"includeUsers":["`+ids["fin1@lab.example"]+`"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["block"]}}`)
	if p.status != 201 {
		t.Fatalf("policy: %d %s", p.status, p.raw)
	}
	policyID := p.body["id"].(string)
	signIn := func(upn string) {
		t.Helper()
		b := &browser{e: e}
		begin := b.post("/signin/begin", `{"userPrincipalName":"`+upn+`"}`)
		if r := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`); str(r.body, "status") != "completed" {
			t.Fatalf("%s: report-only must not block: %s", upn, r.raw)
		}
	}
	signIn("fin1@lab.example")
	signIn("fin1@lab.example")
	signIn("hr1@lab.example")

	reader := e.token(directory.RoleReportsReader)
	r := e.do("GET", "/v1.0/identity/conditionalAccess/policies/"+policyID+"/impact", reader, "")
	if r.status != 200 {
		t.Fatalf("impact: %d %s", r.status, r.raw)
	}
	results := r.body["results"].(map[string]any)
	if r.body["signIns"] != float64(3) || results["reportOnlyFailure"] != float64(2) || results["reportOnlyNotApplied"] != float64(1) || results["success"] != float64(0) {
		t.Fatalf("results: %s", r.raw)
	}
	blocked := r.body["wouldBeBlocked"].([]any)
	if len(blocked) != 1 {
		t.Fatalf("would be blocked: %s", r.raw)
	}
	b := blocked[0].(map[string]any)
	if b["userPrincipalName"] != "fin1@lab.example" || b["signIns"] != float64(2) || len(b["reasons"].([]any)) == 0 {
		t.Fatalf("blocked user: %v", b)
	}
	if s := r.body["series"].([]any); len(s) != 1 {
		t.Fatalf("series: %v", s)
	}

	// A window without those sign-ins is empty; bad windows and unknown
	// parameters are refused, never ignored.
	past := time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	pastEnd := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	if r := e.do("GET", "/v1.0/identity/conditionalAccess/policies/"+policyID+"/impact?startDateTime="+past+"&endDateTime="+pastEnd, reader, ""); r.status != 200 || r.body["signIns"] != float64(0) {
		t.Fatalf("past window: %d %s", r.status, r.raw)
	}
	for _, q := range []string{"?startDateTime=yesterday", "?endDateTime=" + past + "&startDateTime=" + pastEnd, "?$top=5", "?startDateTime=2020-01-01T00:00:00Z"} {
		if r := e.do("GET", "/v1.0/identity/conditionalAccess/policies/"+policyID+"/impact"+q, reader, ""); r.status != 400 {
			t.Errorf("%s: %d %s", q, r.status, r.raw)
		}
	}
	if r := e.do("GET", "/v1.0/identity/conditionalAccess/policies/"+policyID+"/impact", e.token(directory.RoleUserAdministrator), ""); r.status != 403 {
		t.Errorf("a User Administrator read the impact report: %d", r.status)
	}
}
