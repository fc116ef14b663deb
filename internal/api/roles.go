package api

import (
	"sort"

	d "github.com/rpserver/rpserver/internal/directory"
)

// Least-privilege role sets per kind of call, following Entra's built-in
// role definitions. Global Administrator is admitted everywhere by allow.
var (
	directoryReaders = []string{d.RoleGlobalReader, d.RoleUserAdministrator, d.RoleGroupsAdministrator,
		d.RoleAuthenticationAdministrator, d.RolePrivilegedAuthenticationAdministrator,
		d.RoleAuthenticationPolicyAdministrator, d.RoleConditionalAccessAdministrator,
		d.RoleSecurityAdministrator, d.RoleSecurityReader, d.RoleReportsReader, d.RolePrivilegedRoleAdministrator,
		d.RoleHelpdeskAdministrator, d.RolePasswordAdministrator, d.RoleDirectoryReaders}
	userWriters = []string{d.RoleUserAdministrator}
	// Who may PATCH or DELETE a user at all; which properties of which users
	// each may change is Entra's table (directory.MayActOn).
	userPatchers = []string{d.RoleUserAdministrator, d.RoleAuthenticationAdministrator, d.RoleHelpdeskAdministrator, d.RolePasswordAdministrator, d.RolePrivilegedAuthenticationAdministrator}
	userDeleters = []string{d.RoleUserAdministrator, d.RoleAuthenticationAdministrator, d.RolePrivilegedAuthenticationAdministrator}
	groupWriters = []string{d.RoleUserAdministrator, d.RoleGroupsAdministrator}
	roleWriters  = []string{d.RolePrivilegedRoleAdministrator}
	// Invalidating sessions goes with resetting passwords in Entra's table.
	sessionRevokers = []string{d.RoleUserAdministrator, d.RolePrivilegedAuthenticationAdministrator, d.RoleAuthenticationAdministrator, d.RoleHelpdeskAdministrator}
	roleReaders     = []string{d.RoleGlobalReader, d.RolePrivilegedRoleAdministrator, d.RoleSecurityAdministrator, d.RoleSecurityReader}
)

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
