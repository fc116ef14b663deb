package directory

import (
	"context"
	"time"
)

// User is Graph's user resource, reduced to the lab's needs, plus the
// emergency-access flag (no Graph property exists: Entra admins mark
// break-glass accounts by convention; isEmergencyAccess makes it explicit).
type User struct {
	ID                string    `json:"id"`
	UserPrincipalName string    `json:"userPrincipalName"`
	DisplayName       string    `json:"displayName"`
	AccountEnabled    bool      `json:"accountEnabled"`
	IsEmergencyAccess bool      `json:"isEmergencyAccess"`
	CreatedDateTime   time.Time `json:"createdDateTime"`
}

// Group is Graph's group resource for security groups with assigned
// membership.
type Group struct {
	ID              string    `json:"id"`
	DisplayName     string    `json:"displayName"`
	Description     string    `json:"description"`
	MailNickname    string    `json:"mailNickname"`
	SecurityEnabled bool      `json:"securityEnabled"`
	MailEnabled     bool      `json:"mailEnabled"`
	GroupTypes      []string  `json:"groupTypes"`
	CreatedDateTime time.Time `json:"createdDateTime"`
}

// RoleAssignment is Graph's unifiedRoleAssignment.
type RoleAssignment struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

// Page asks for one page of a listing. After is the last id of the previous
// page (Graph's $skiptoken); Top is the page size.
type Page struct {
	Top   int
	After string
}

// UserPatch holds the properties a PATCH may change; nil means unchanged.
type UserPatch struct {
	UserPrincipalName *string
	DisplayName       *string
	AccountEnabled    *bool
	IsEmergencyAccess *bool
}

// GroupPatch holds the properties a PATCH may change; nil means unchanged.
type GroupPatch struct {
	DisplayName  *string
	Description  *string
	MailNickname *string
}

// Store persists the directory. Implementations return apperr errors:
// NotFound for unknown ids, Conflict for duplicates.
type Store interface {
	// CreateUser stores u and, unless passwordHash is empty, its password
	// (argon2id), atomically.
	CreateUser(ctx context.Context, u User, passwordHash string) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByUPN(ctx context.Context, upn string) (User, error)
	ListUsers(ctx context.Context, p Page) ([]User, error)
	// UpdateUser applies patch and, unless passwordHash is nil, replaces
	// the password, atomically.
	UpdateUser(ctx context.Context, id string, patch UserPatch, passwordHash *string) (User, error)
	DeleteUser(ctx context.Context, id string) error

	CreateGroup(ctx context.Context, g Group) (Group, error)
	GetGroup(ctx context.Context, id string) (Group, error)
	ListGroups(ctx context.Context, p Page) ([]Group, error)
	UpdateGroup(ctx context.Context, id string, patch GroupPatch) (Group, error)
	DeleteGroup(ctx context.Context, id string) error

	AddMember(ctx context.Context, groupID, userID string) error
	RemoveMember(ctx context.Context, groupID, userID string) error
	ListMembers(ctx context.Context, groupID string, p Page) ([]User, error)
	// GroupIDsOf returns the ids of the groups the user is a direct member of.
	GroupIDsOf(ctx context.Context, userID string) ([]string, error)

	CreateRoleAssignment(ctx context.Context, a RoleAssignment) (RoleAssignment, error)
	GetRoleAssignment(ctx context.Context, id string) (RoleAssignment, error)
	ListRoleAssignments(ctx context.Context, principalID string, p Page) ([]RoleAssignment, error)
	DeleteRoleAssignment(ctx context.Context, id string) error
}
