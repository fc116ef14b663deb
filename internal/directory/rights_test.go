package directory

import "testing"

// TestMayActOnFollowsEntrasTable checks rows of Microsoft's "Who can reset
// passwords" and "Who can perform sensitive actions" tables cell by cell.
func TestMayActOnFollowsEntrasTable(t *testing.T) {
	const (
		pwd  = ActionResetPassword
		sens = ActionSensitive
		meth = ActionAuthenticationMethods
	)
	none := []string(nil)
	for _, c := range []struct {
		action UserAction
		caller string
		target []string
		want   bool
	}{
		// Users without an admin role: every column of both tables.
		{pwd, RolePasswordAdministrator, none, true},
		{pwd, RoleHelpdeskAdministrator, none, true},
		{pwd, RoleAuthenticationAdministrator, none, true},
		{pwd, RoleUserAdministrator, none, true},
		{sens, RoleAuthenticationAdministrator, none, true},
		{sens, RoleUserAdministrator, none, true},
		{meth, RoleAuthenticationAdministrator, none, true},
		// Only roles with the permission act at all.
		{sens, RoleHelpdeskAdministrator, none, false},
		{sens, RolePasswordAdministrator, none, false},
		{meth, RoleUserAdministrator, none, false},
		{meth, RoleHelpdeskAdministrator, none, false},
		{pwd, RoleSecurityAdministrator, none, false},
		{pwd, RoleGroupsAdministrator, none, false},
		// The probe's findings: roles outside the low list are admins.
		{meth, RoleAuthenticationAdministrator, []string{RoleGlobalReader}, false},
		{meth, RoleAuthenticationAdministrator, []string{RoleSecurityReader}, false},
		{meth, RoleAuthenticationAdministrator, []string{RoleGroupsAdministrator}, false},
		{pwd, RoleUserAdministrator, []string{RoleGlobalReader}, false},
		{pwd, RoleUserAdministrator, []string{RoleSecurityReader}, false},
		{pwd, RoleUserAdministrator, []string{RoleGroupsAdministrator}, true},
		// Row "Auth Admin": Auth Admin, Privileged Auth Admin, Global Admin.
		{pwd, RoleAuthenticationAdministrator, []string{RoleAuthenticationAdministrator}, true},
		{pwd, RoleUserAdministrator, []string{RoleAuthenticationAdministrator}, false},
		{pwd, RoleHelpdeskAdministrator, []string{RoleAuthenticationAdministrator}, false},
		{sens, RoleAuthenticationAdministrator, []string{RoleAuthenticationAdministrator}, true},
		// Row "Helpdesk Admin": Helpdesk, User Admin, PAA, GA.
		{pwd, RoleHelpdeskAdministrator, []string{RoleHelpdeskAdministrator}, true},
		{pwd, RoleAuthenticationAdministrator, []string{RoleHelpdeskAdministrator}, false},
		{pwd, RolePasswordAdministrator, []string{RoleHelpdeskAdministrator}, false},
		{sens, RoleAuthenticationAdministrator, []string{RoleHelpdeskAdministrator}, false},
		{sens, RoleUserAdministrator, []string{RoleHelpdeskAdministrator}, true},
		// Row "Password Admin": every column.
		{pwd, RolePasswordAdministrator, []string{RolePasswordAdministrator}, true},
		{sens, RoleAuthenticationAdministrator, []string{RolePasswordAdministrator}, true},
		// Rows "Reports Reader", "Message Center Reader": all but Password Admin.
		{pwd, RolePasswordAdministrator, []string{RoleReportsReader}, false},
		{pwd, RoleHelpdeskAdministrator, []string{RoleReportsReader}, true},
		{pwd, RoleAuthenticationAdministrator, []string{RoleMessageCenterReader}, true},
		// Rows "Directory Readers", "Guest Inviter": every column.
		{pwd, RolePasswordAdministrator, []string{RoleDirectoryReaders, RoleGuestInviter}, true},
		// Row "User Admin": User Admin, PAA, GA.
		{pwd, RoleUserAdministrator, []string{RoleUserAdministrator}, true},
		{pwd, RoleHelpdeskAdministrator, []string{RoleUserAdministrator}, false},
		{sens, RoleAuthenticationAdministrator, []string{RoleUserAdministrator}, false},
		// Rows "Global Admin", "Privileged Auth Admin", "Privileged Role Admin" and
		// all other roles: Privileged Auth Admin and Global Admin only.
		{pwd, RoleUserAdministrator, []string{RoleGlobalAdministrator}, false},
		{pwd, RoleAuthenticationAdministrator, []string{RolePrivilegedAuthenticationAdministrator}, false},
		{sens, RoleUserAdministrator, []string{RolePrivilegedRoleAdministrator}, false},
		{pwd, RolePrivilegedAuthenticationAdministrator, []string{RoleGlobalAdministrator}, true},
		{meth, RolePrivilegedAuthenticationAdministrator, []string{RoleGlobalAdministrator}, true},
		{sens, RoleGlobalAdministrator, []string{RoleGlobalAdministrator}, true},
		{pwd, RoleUserAdministrator, []string{RoleConditionalAccessAdministrator}, false},
		{pwd, RoleUserAdministrator, []string{RoleAuthenticationPolicyAdministrator}, false},
		{pwd, RoleUserAdministrator, []string{RoleSecurityAdministrator}, false},
		// A target holding several roles: every one must be reachable.
		{pwd, RoleHelpdeskAdministrator, []string{RoleReportsReader, RoleGlobalReader}, false},
		{pwd, RoleHelpdeskAdministrator, []string{RoleReportsReader, RoleHelpdeskAdministrator}, true},
	} {
		if got := MayActOn(c.action, []string{c.caller}, c.target); got != c.want {
			t.Errorf("%s by %s on %v = %v, want %v", c.action, c.caller, c.target, got, c.want)
		}
	}
	// Several caller roles: one of them must cover the whole target.
	if !MayActOn(pwd, []string{RolePasswordAdministrator, RoleUserAdministrator}, []string{RoleGroupsAdministrator}) {
		t.Error("a Password + User Administrator may reset a Groups Administrator's password")
	}
	if MayActOn(pwd, nil, nil) {
		t.Error("a caller without roles acted")
	}
}

// TestEveryTableRoleIsBuiltIn: a typo in the table would silently deny.
func TestEveryTableRoleIsBuiltIn(t *testing.T) {
	for action, cols := range userActionRights {
		for actor, targets := range cols {
			if _, ok := RoleByName(actor); !ok {
				t.Errorf("%s: actor %q is not a built-in role", action, actor)
			}
			for _, r := range targets {
				if _, ok := RoleByName(r); !ok && r != noRole && r != anyRole {
					t.Errorf("%s by %s: target %q is not a built-in role", action, actor, r)
				}
			}
		}
	}
}
