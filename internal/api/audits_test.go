package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

// Every admin change lands in /auditLogs/directoryAudits with who made it
// and the old and new values; changes that are nobody's admin action (a
// TAP redeemed at sign-in) and changes that failed are not there; secrets
// never are.
func TestDirectoryAuditsRecordEveryAdminChange(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	u := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"ava@lab.example","displayName":"Ava"}`)
	if u.status != 201 {
		t.Fatal(u.raw)
	}
	userID := u.body["id"].(string)
	if r := e.do("PATCH", "/v1.0/users/"+userID, ga, `{"displayName":"Ava Lindqvist"}`); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	g := e.do("POST", "/v1.0/groups", ga, `{"displayName":"GRP-Pilot","mailEnabled":false,"mailNickname":"pilot","securityEnabled":true}`)
	if g.status != 201 {
		t.Fatal(g.raw)
	}
	groupID := g.body["id"].(string)
	if r := e.do("POST", "/v1.0/groups/"+groupID+"/members/$ref", ga, `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+userID+`"}`); r.status != 204 {
		t.Fatalf("add member: %d %s", r.status, r.raw)
	}
	// A change that fails is not audited: it never happened.
	if r := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"ava@lab.example","displayName":"Again"}`); r.status != 409 && r.status != 400 {
		t.Fatalf("duplicate UPN: %d %s", r.status, r.raw)
	}
	// A TAP: issuing it is an admin change; its secret must not be logged,
	// and redeeming it at sign-in is not an admin change.
	e.do("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", ga,
		`{"state":"enabled","includeTargets":[{"id":"all_users","targetType":"group","isRegistrationRequired":false}]}`)
	tap := e.do("POST", "/v1.0/users/"+userID+"/authentication/temporaryAccessPassMethods", ga, `{}`)
	pass, _ := tap.body["temporaryAccessPass"].(string)
	if tap.status != 201 || pass == "" {
		t.Fatalf("TAP: %d %s", tap.status, tap.raw)
	}
	if r := e.do("POST", "/signin/tap", "", `{"userPrincipalName":"ava@lab.example","temporaryAccessPass":"`+pass+`"}`); r.status != 200 {
		t.Fatalf("TAP sign-in: %d %s", r.status, r.raw)
	}

	reader := e.token(directory.RoleReportsReader)
	all := e.do("GET", "/v1.0/auditLogs/directoryAudits?$top=999", reader, "")
	if all.status != 200 {
		t.Fatalf("list: %d %s", all.status, all.raw)
	}
	if strings.Contains(all.raw, pass) || strings.Contains(strings.ToLower(all.raw), "secrethash") || strings.Contains(strings.ToLower(all.raw), "$argon2") {
		t.Fatalf("a secret reached the audit log: %s", all.raw)
	}
	activities := map[string]map[string]any{}
	for _, v := range all.body["value"].([]any) {
		rec := v.(map[string]any)
		activities[rec["activityDisplayName"].(string)] = rec
		if by := rec["initiatedBy"].(map[string]any)["user"].(map[string]any); by["userPrincipalName"] != "admin@lab.example" {
			t.Errorf("%s initiated by %v, want the admin", rec["activityDisplayName"], by)
		}
		if rec["correlationId"] == "" || rec["result"] != "success" || rec["loggedByService"] != "Core Directory" {
			t.Errorf("record shape: %v", rec)
		}
	}
	for _, want := range []string{"Add user", "Update user", "Add group", "Add member to group", "Update authentication methods policy", "Admin registered security info"} {
		if activities[want] == nil {
			t.Errorf("no %q record; have %v", want, keys(activities))
		}
	}
	if n := len(all.body["value"].([]any)); n != 6 {
		t.Errorf("%d records, want exactly the 6 admin changes (a failed change and a TAP redemption are not admin changes): %v", n, keys(activities))
	}
	// The update shows the old and the new value of what changed, and only that.
	upd := activities["Update user"]["targetResources"].([]any)[0].(map[string]any)
	props := upd["modifiedProperties"].([]any)
	if upd["id"] != userID || len(props) != 1 {
		t.Fatalf("update user target: %v", upd)
	}
	p := props[0].(map[string]any)
	if p["displayName"] != "DisplayName" || p["oldValue"] != `"Ava"` || p["newValue"] != `"Ava Lindqvist"` {
		t.Fatalf("modified property: %v", p)
	}

	// $filter by category and initiator, the lab's targetId, and refusals.
	byCategory := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("category eq 'GroupManagement'"), reader, "")
	if n := len(byCategory.body["value"].([]any)); byCategory.status != 200 || n != 2 {
		t.Fatalf("category filter: %d records: %s", n, byCategory.raw)
	}
	byTarget := e.do("GET", "/v1.0/auditLogs/directoryAudits?targetId="+userID, reader, "")
	if n := len(byTarget.body["value"].([]any)); byTarget.status != 200 || n != 4 { // add, update, member added, TAP issued
		t.Fatalf("targetId: %d records: %s", n, byTarget.raw)
	}
	byUPN := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("initiatedBy/user/userPrincipalName eq 'someone@lab.example'"), reader, "")
	if n := len(byUPN.body["value"].([]any)); byUPN.status != 200 || n != 0 {
		t.Fatalf("initiator filter: %s", byUPN.raw)
	}
	for _, bad := range []string{"displayName eq 'x'", "targetResources/any(t: t/id eq '" + userID + "')", "category eq 'a' or category eq 'b'"} {
		if r := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape(bad), reader, ""); r.status != 400 {
			t.Errorf("$filter=%s: %d %s", bad, r.status, r.raw)
		}
	}
	if r := e.do("GET", "/v1.0/auditLogs/directoryAudits", e.token(directory.RoleUserAdministrator), ""); r.status != 403 {
		t.Errorf("a User Administrator read the audit log: %d", r.status)
	}
	id := activities["Add user"]["id"].(string)
	if r := e.do("GET", "/v1.0/auditLogs/directoryAudits/"+id, reader, ""); r.status != 200 || r.body["id"] != id {
		t.Fatalf("get one: %d %s", r.status, r.raw)
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// An app secret's record names the credential (keyId) and never holds the
// secret or its hash.
func TestDirectoryAuditOfAnAppSecretNamesItWithoutTheSecret(t *testing.T) {
	e := newEnv(t)
	admin := e.token(directory.RoleApplicationAdministrator)
	app := e.do("POST", "/v1.0/applications", admin, `{"displayName":"Audited app"}`)
	if app.status != 201 {
		t.Fatal(app.raw)
	}
	pw := e.do("POST", "/v1.0/applications/"+app.body["id"].(string)+"/addPassword", admin, `{"passwordCredential":{"displayName":"ci"}}`)
	secret, _ := pw.body["secretText"].(string)
	if pw.status != 200 || secret == "" {
		t.Fatal(pw.raw)
	}
	r := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("category eq 'ApplicationManagement'"), e.token(directory.RoleReportsReader), "")
	if r.status != 200 || strings.Contains(r.raw, secret) || strings.Contains(r.raw, "argon2") || !strings.Contains(r.raw, `"KeyId"`) || !strings.Contains(r.raw, pw.body["keyId"].(string)) {
		t.Fatalf("app secret audit: %s", r.raw)
	}
}

func TestDirectoryAuditRecordsNamedLocations(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	r := e.do("POST", "/v1.0/identity/conditionalAccess/namedLocations", ga, `{"@odata.type":"#microsoft.graph.ipNamedLocation","displayName":"HQ","isTrusted":true,
		"ipRanges":[{"@odata.type":"#microsoft.graph.iPv4CidrRange","cidrAddress":"203.0.113.0/24"}]}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	list := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("activityDisplayName eq 'Add named location'"), ga, "")
	if n := len(list.body["value"].([]any)); list.status != 200 || n != 1 || !strings.Contains(list.raw, "203.0.113.0/24") {
		t.Fatalf("named location audit: %s", list.raw)
	}
}
