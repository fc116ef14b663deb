package directory

// UserAction is a kind of change an administrator makes to another user's
// credentials or account. Entra decides each by a published table of which
// admin role may act on holders of which role.
type UserAction string

const (
	// ActionResetPassword: set or reset the password, and invalidate the
	// user's sessions (revokeSignInSessions).
	ActionResetPassword UserAction = "resetPassword"
	// ActionSensitive: the sensitive actions (enable or disable, change the
	// userPrincipalName, delete) and, in the lab, every other property of
	// the user (displayName, isEmergencyAccess).
	ActionSensitive UserAction = "sensitive"
	// ActionAuthenticationMethods: issue or delete a Temporary Access Pass,
	// rename or delete a passkey of another user.
	ActionAuthenticationMethods UserAction = "authenticationMethods"
)

// noRole stands for a user who holds no admin role.
const noRole = ""

// anyRole marks an actor that may act on holders of any role.
const anyRole = "*"

// userActionRights is Entra's "Who can reset passwords" and "Who can perform
// sensitive actions" tables (Microsoft Learn, "Privileged roles and
// permissions in Microsoft Entra ID",
// https://learn.microsoft.com/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-reset-passwords),
// for roles assigned at tenant scope: for each action, the admin roles that
// may perform it and the roles their targets may hold. A target holding any
// role outside the actor's list (Global Reader, Security Reader, Security
// Administrator, Conditional Access Administrator, ...: the table's "all
// other built-in and custom roles") is out of reach for that actor; only a
// Privileged Authentication Administrator or Global Administrator may act on
// everyone. Authentication methods follow the password table's
// Authentication Administrator column, as Entra's "Compare authentication
// roles" says, and only the roles that hold authentication-method
// permissions may act on them at all.
var userActionRights = map[UserAction]map[string][]string{
	ActionResetPassword: {
		RolePasswordAdministrator: {noRole, RoleDirectoryReaders, RoleGuestInviter, RolePasswordAdministrator},
		RoleHelpdeskAdministrator: {noRole, RoleDirectoryReaders, RoleGuestInviter, RoleHelpdeskAdministrator,
			RoleMessageCenterReader, RolePasswordAdministrator, RoleReportsReader},
		RoleAuthenticationAdministrator: {noRole, RoleAuthenticationAdministrator, RoleDirectoryReaders, RoleGuestInviter,
			RoleMessageCenterReader, RolePasswordAdministrator, RoleReportsReader},
		RoleUserAdministrator: {noRole, RoleDirectoryReaders, RoleGroupsAdministrator, RoleGuestInviter, RoleHelpdeskAdministrator,
			RoleMessageCenterReader, RolePasswordAdministrator, RoleReportsReader, RoleUserAdministrator},
		RolePrivilegedAuthenticationAdministrator: {anyRole},
		RoleGlobalAdministrator:                   {anyRole},
	},
	ActionSensitive: {
		RoleAuthenticationAdministrator: {noRole, RoleAuthenticationAdministrator, RoleDirectoryReaders, RoleGuestInviter,
			RoleMessageCenterReader, RolePasswordAdministrator, RoleReportsReader},
		RoleUserAdministrator: {noRole, RoleDirectoryReaders, RoleGroupsAdministrator, RoleGuestInviter, RoleHelpdeskAdministrator,
			RoleMessageCenterReader, RolePasswordAdministrator, RoleReportsReader, RoleUserAdministrator},
		RolePrivilegedAuthenticationAdministrator: {anyRole},
		RoleGlobalAdministrator:                   {anyRole},
	},
	ActionAuthenticationMethods: {
		RoleAuthenticationAdministrator: {noRole, RoleAuthenticationAdministrator, RoleDirectoryReaders, RoleGuestInviter,
			RoleMessageCenterReader, RolePasswordAdministrator, RoleReportsReader},
		RolePrivilegedAuthenticationAdministrator: {anyRole},
		RoleGlobalAdministrator:                   {anyRole},
	},
}

// MayActOn decides whether a caller holding callerRoles may perform action
// on a user holding targetRoles (display names; none for a user without an
// admin role): one of the caller's roles must allow the action on every
// role the target holds.
func MayActOn(action UserAction, callerRoles, targetRoles []string) bool {
	for _, c := range callerRoles {
		allowed, ok := userActionRights[action][c]
		if !ok {
			continue
		}
		if covers(allowed, targetRoles) {
			return true
		}
	}
	return false
}

func covers(allowed, targets []string) bool {
	set := make(map[string]bool, len(allowed))
	for _, a := range allowed {
		if a == anyRole {
			return true
		}
		set[a] = true
	}
	if len(targets) == 0 {
		return set[noRole]
	}
	for _, t := range targets {
		if !set[t] {
			return false
		}
	}
	return true
}

// ActorsFor lists the roles that may perform action on someone, for error
// messages.
func ActorsFor(action UserAction) []string {
	out := make([]string, 0, len(userActionRights[action]))
	for _, r := range BuiltInRoles {
		if _, ok := userActionRights[action][r.DisplayName]; ok {
			out = append(out, r.DisplayName)
		}
	}
	return out
}
