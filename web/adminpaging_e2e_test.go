package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// The admin pages read whole lists: past Graph's page of 999 they follow
// @odata.nextLink, so a tenant of more than 999 users is listed whole.
func TestBrowserAdminListsPagePastOnePage(t *testing.T) {
	b := newBrowser(t)
	l := newLab(t)
	b.origin = l.origin
	l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
	adminID, adminPass := l.userWithTAP("admin@lab.example", "Lab Admin")
	l.call("POST", "/v1.0/roleManagement/directory/roleAssignments",
		fmt.Sprintf(`{"principalId":%q,"roleDefinitionId":"Global Administrator","directoryScopeId":"/"}`, adminID), 201)
	const extra = 1003
	for i := 0; i < extra; i++ {
		l.call("POST", "/v1.0/users", fmt.Sprintf(`{"userPrincipalName":"bulk%04d@lab.example","displayName":"Bulk %d"}`, i, i), 201)
	}
	b.signInWithTAP("admin@lab.example", adminPass)
	b.goTo("/admin", "#get-token")
	b.do("use my session", chromedp.Click(chromedp.ID("get-token")))
	b.waitFor("overview tiles", `document.querySelectorAll('#view .tiles li').length >= 7`)
	b.goTo("/admin/users", formSel("create-user"))
	want := extra + 1
	b.waitFor("every user listed", fmt.Sprintf(`document.querySelectorAll('tr[data-user]').length === %d`, want))
	if !b.exists(`tr[data-user="bulk1002@lab.example"]`) || b.exists(`#view p.note`) {
		t.Fatalf("the users page did not list the last page's users, or said it was cut short")
	}
}
