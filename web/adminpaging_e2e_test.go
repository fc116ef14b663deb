package web_test

import (
	"fmt"
	"testing"
)

// The admin pages read whole lists: past Graph's page of 999 they follow
// @odata.nextLink, so a tenant of more than 999 users is listed whole.
func TestBrowserAdminListsPagePastOnePage(t *testing.T) {
	b := newBrowser(t)
	l := newLab(t)
	b.origin = l.origin
	const extra = 1003
	for i := 0; i < extra; i++ {
		l.call("POST", "/v1.0/users", fmt.Sprintf(`{"userPrincipalName":"bulk%04d@lab.example","displayName":"Bulk %d"}`, i, i), 201)
	}
	b.adminSignsIn(l)
	b.goTo("/admin/users", formSel("create-user"))
	want := extra + 1
	b.waitFor("every user listed", fmt.Sprintf(`document.querySelectorAll('tr[data-user]').length === %d`, want))
	if !b.exists(`tr[data-user="bulk1002@lab.example"]`) || b.exists(`#view p.note`) {
		t.Fatalf("the users page did not list the last page's users, or said it was cut short")
	}
}
