package directory

import "github.com/rpserver/rpserver/internal/ids"

// Role is an Entra built-in directory role: Graph's unifiedRoleDefinition,
// reduced to what the lab needs.
type Role struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
	IsEnabled   bool   `json:"isEnabled"`
}

// Built-in role names, as they appear in admin tokens' roles claim.
const (
	RoleGlobalAdministrator                   = "Global Administrator"
	RoleGlobalReader                          = "Global Reader"
	RoleAuthenticationPolicyAdministrator     = "Authentication Policy Administrator"
	RoleAuthenticationAdministrator           = "Authentication Administrator"
	RolePrivilegedAuthenticationAdministrator = "Privileged Authentication Administrator"
	RoleConditionalAccessAdministrator        = "Conditional Access Administrator"
	RoleSecurityAdministrator                 = "Security Administrator"
	RoleSecurityReader                        = "Security Reader"
	RoleReportsReader                         = "Reports Reader"
	RoleUserAdministrator                     = "User Administrator"
	RoleGroupsAdministrator                   = "Groups Administrator"
	RolePrivilegedRoleAdministrator           = "Privileged Role Administrator"
	RoleHelpdeskAdministrator                 = "Helpdesk Administrator"
	RolePasswordAdministrator                 = "Password Administrator"
	RoleDirectoryReaders                      = "Directory Readers"
	RoleGuestInviter                          = "Guest Inviter"
	RoleMessageCenterReader                   = "Message Center Reader"
	RoleApplicationAdministrator              = "Application Administrator"
	RoleCloudApplicationAdministrator         = "Cloud Application Administrator"
)

// BuiltInRoles lists the roles the lab knows, with Entra's template ids (from
// Microsoft's "Microsoft Entra built-in roles" reference), so role assignments
// made here carry the same roleDefinitionId as in a real tenant.
var BuiltInRoles = []Role{
	builtIn("62e90394-69f5-4237-9190-012177145e10", RoleGlobalAdministrator, "Can manage all aspects of the lab tenant."),
	builtIn("f2ef992c-3afb-46b9-b7cf-a126ee74c451", RoleGlobalReader, "Can read everything that a Global Administrator can, but not update anything."),
	builtIn("0526716b-113d-4c15-b2c8-68e3c22b9f80", RoleAuthenticationPolicyAdministrator, "Can create and manage the authentication methods policy, passkey profiles and authentication strengths."),
	builtIn("c4e39bd9-1100-46d3-8c65-fb160da0071f", RoleAuthenticationAdministrator, "Can view, set and reset authentication method information (including Temporary Access Passes) for non-admin users."),
	builtIn("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", RolePrivilegedAuthenticationAdministrator, "Can view, set and reset authentication method information for any user (admin or non-admin)."),
	builtIn("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", RoleConditionalAccessAdministrator, "Can manage Conditional Access capabilities."),
	builtIn("194ae4cb-b126-40b2-bd5b-6091b380977d", RoleSecurityAdministrator, "Can read security information and reports, and manage risky users and Conditional Access."),
	builtIn("5d6b6bb7-de71-4623-b4af-96380a352509", RoleSecurityReader, "Can read security information and reports."),
	builtIn("4a5d8f65-41da-4de4-8968-e035b65339cf", RoleReportsReader, "Can read sign-in and audit reports."),
	builtIn("fe930be7-5e62-47db-91af-98c3a49a38b1", RoleUserAdministrator, "Can manage all aspects of users and groups."),
	builtIn("fdd7a751-b60b-444a-984c-02652fe8fa1c", RoleGroupsAdministrator, "Can create and manage groups and their membership."),
	builtIn("e8611ab8-c189-46e8-94e1-60213ab1f814", RolePrivilegedRoleAdministrator, "Can manage role assignments."),
	builtIn("729827e3-9c14-49f7-bb1b-9608f156bbb8", RoleHelpdeskAdministrator, "Can reset passwords for non-administrators and Helpdesk Administrators."),
	builtIn("966707d0-3269-4727-9be2-8c3a10f19b9d", RolePasswordAdministrator, "Can reset passwords for non-administrators and Password Administrators."),
	builtIn("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", RoleDirectoryReaders, "Can read basic directory information."),
	builtIn("95e79109-95c0-4d8e-aee3-d01accf2d47b", RoleGuestInviter, "Can invite guest users independent of the 'members can invite guests' setting."),
	builtIn("790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b", RoleMessageCenterReader, "Can read messages and updates for their organization in Message Center only."),
	builtIn("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", RoleApplicationAdministrator, "Can create and manage all aspects of app registrations and enterprise apps."),
	builtIn("158c047a-c907-4556-b7ef-446551a6b5f7", RoleCloudApplicationAdministrator, "Can create and manage all aspects of app registrations and enterprise apps except App Proxy."),
}

func builtIn(id, name, desc string) Role {
	return Role{ID: id, TemplateID: id, DisplayName: name, Description: desc, IsBuiltIn: true, IsEnabled: true}
}

var (
	rolesByID   = map[string]Role{}
	rolesByName = map[string]Role{}
)

func init() {
	for _, r := range BuiltInRoles {
		rolesByID[r.ID] = r
		rolesByName[r.DisplayName] = r
	}
}

// RoleByID finds a built-in role by its template id.
func RoleByID(id string) (Role, bool) { r, ok := rolesByID[ids.Lower(id)]; return r, ok }

// RoleByName finds a built-in role by its display name.
func RoleByName(name string) (Role, bool) { r, ok := rolesByName[name]; return r, ok }
