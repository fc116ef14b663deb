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
		d.RoleSecurityAdministrator, d.RoleSecurityReader, d.RoleReportsReader, d.RolePrivilegedRoleAdministrator}
	userWriters     = []string{d.RoleUserAdministrator}
	groupWriters    = []string{d.RoleUserAdministrator, d.RoleGroupsAdministrator}
	roleWriters     = []string{d.RolePrivilegedRoleAdministrator}
	sessionRevokers = []string{d.RoleUserAdministrator, d.RolePrivilegedAuthenticationAdministrator, d.RoleAuthenticationAdministrator, d.RoleSecurityAdministrator}
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
