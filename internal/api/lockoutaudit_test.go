package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// A forced override of lockout protection is in the audit log, in the
// change's own request and transaction: a record of its own naming the
// findings, next to the change's record with the same correlation id. A
// refused save and a save with nothing to override leave no such record.
func TestLockoutOverrideIsAudited(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	if r := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"breakglass1@lab.example","displayName":"BG","isEmergencyAccess":true}`); r.status != 201 {
		t.Fatal(r.raw)
	}
	const path = "/v1.0/identity/conditionalAccess/policies"
	body := func(state string) string {
		return `{"displayName":"CA-All-MFA","state":"` + state + `","conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
			"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`
	}
	overrides := func() []map[string]any {
		t.Helper()
		r := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("activityDisplayName eq '"+audit.ActivityLockoutOverride+"'"), ga, "")
		if r.status != 200 {
			t.Fatalf("audits: %d %s", r.status, r.raw)
		}
		var out []map[string]any
		for _, v := range r.body["value"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}

	if r := e.do("POST", path, ga, body(policy.StateEnabled)); r.status != 409 || r.code() != policy.CodeEmergencyAccountNotExcluded {
		t.Fatalf("unforced: %d %s", r.status, r.raw)
	}
	ro := e.do("POST", path+"?force=true", ga, body(policy.StateReportOnly)) // nothing to override
	if ro.status != 201 {
		t.Fatalf("report-only: %d %s", ro.status, ro.raw)
	}
	if got := overrides(); len(got) != 0 {
		t.Fatalf("override records without an override: %v", got)
	}

	// Switching it on with force: one override record, with the change's
	// correlation id and the finding.
	id := ro.body["id"].(string)
	if r := e.do("PATCH", path+"/"+id+"?force=true", ga, `{"state":"enabled"}`); r.status != 200 && r.status != 204 {
		t.Fatalf("forced on: %d %s", r.status, r.raw)
	}
	got := overrides()
	if len(got) != 1 {
		t.Fatalf("override records: %v", got)
	}
	o := got[0]
	target := o["targetResources"].([]any)[0].(map[string]any)
	props := target["modifiedProperties"].([]any)
	if target["id"] != id || target["displayName"] != "CA-All-MFA" || len(props) != 1 ||
		!strings.Contains(props[0].(map[string]any)["newValue"].(string), policy.CodeEmergencyAccountNotExcluded) {
		t.Fatalf("override record: %v", o)
	}
	change := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("correlationId eq '"+o["correlationId"].(string)+"'"), ga, "")
	if n := len(change.body["value"].([]any)); n != 2 || !strings.Contains(change.raw, "Update conditional access policy") {
		t.Fatalf("records of the forced request (%d): %s", n, change.raw)
	}

	// A forced create of an enabled policy: recorded too.
	if r := e.do("POST", path+"?force=true", ga, strings.Replace(body(policy.StateEnabled), "CA-All-MFA", "CA-All-MFA-2", 1)); r.status != 201 {
		t.Fatalf("forced create: %d %s", r.status, r.raw)
	}
	if got := overrides(); len(got) != 2 {
		t.Fatalf("override records after a forced create: %d", len(got))
	}
}

// TestForcedDirectoryChangeIsAudited: a directory change forced past
// lockout protection (here: the emergency account out of its excluded
// group) gets its override record in the change's transaction, with the
// change's correlation id; an unforced or refused change gets none.
func TestForcedDirectoryChangeIsAudited(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	bg := e.mustCreateUser("bg-dir@lab.example", true)
	group := e.mustCreate("/v1.0/groups", ga, `{"displayName":"Emergency access"}`)
	ref := `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/` + bg + `"}`
	if r := e.do("POST", "/v1.0/groups/"+group+"/members/$ref", ga, ref); r.status != 204 {
		t.Fatal(r.raw)
	}
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, caBody("MFA for all", "enabled",
		`{"includeUsers":["All"],"excludeGroups":["`+group+`"]}`, `{"operator":"OR","builtInControls":["mfa"]}`))
	overrides := func() []any {
		t.Helper()
		r := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("activityDisplayName eq '"+audit.ActivityLockoutOverride+"'"), ga, "")
		if r.status != 200 {
			t.Fatalf("audits: %d %s", r.status, r.raw)
		}
		return r.body["value"].([]any)
	}
	remove := "/v1.0/groups/" + group + "/members/" + bg + "/$ref"
	if r := e.do("DELETE", remove, ga, ""); r.status != 409 {
		t.Fatalf("unforced removal: %d %s", r.status, r.raw)
	}
	if got := overrides(); len(got) != 0 {
		t.Fatalf("override record for a refused change: %v", got)
	}
	if r := e.do("DELETE", remove+"?force=true", ga, ""); r.status != 204 {
		t.Fatalf("forced removal: %d %s", r.status, r.raw)
	}
	got := overrides()
	if len(got) != 1 {
		t.Fatalf("override records: %v", got)
	}
	o := got[0].(map[string]any)
	target := o["targetResources"].([]any)[0].(map[string]any)
	if o["category"] != "GroupManagement" || target["id"] != group || target["type"] != "Group" ||
		!strings.Contains(target["modifiedProperties"].([]any)[0].(map[string]any)["newValue"].(string), policy.CodeEmergencyAccountNotExcluded) {
		t.Fatalf("override record: %v", o)
	}
	change := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("correlationId eq '"+o["correlationId"].(string)+"'"), ga, "")
	if n := len(change.body["value"].([]any)); n != 2 {
		t.Fatalf("records of the forced request (%d): %s", n, change.raw)
	}
	// A forced request with nothing to override: no record.
	if r := e.do("POST", "/v1.0/groups/"+group+"/members/$ref?force=true", ga, ref); r.status != 204 {
		t.Fatalf("re-add: %d %s", r.status, r.raw)
	}
	if got := overrides(); len(got) != 1 {
		t.Fatalf("override records after a forced change with no findings: %d", len(got))
	}
}
