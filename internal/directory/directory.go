package directory

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/odata"
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
	UserProfile
}

// UserProfile holds the optional profile properties of Graph's user that
// the lab stores, returns and filters on but never acts on (names and
// types from microsoft.graph.user in Graph's v1.0 CSDL; null when unset, as
// Graph returns them).
type UserProfile struct {
	BusinessPhones    []string `json:"businessPhones"`
	GivenName         *string  `json:"givenName"`
	Surname           *string  `json:"surname"`
	Mail              *string  `json:"mail"`
	MailNickname      *string  `json:"mailNickname"`
	JobTitle          *string  `json:"jobTitle"`
	Department        *string  `json:"department"`
	CompanyName       *string  `json:"companyName"`
	EmployeeID        *string  `json:"employeeId"`
	EmployeeType      *string  `json:"employeeType"`
	UsageLocation     *string  `json:"usageLocation"`
	MobilePhone       *string  `json:"mobilePhone"`
	OfficeLocation    *string  `json:"officeLocation"`
	PreferredLanguage *string  `json:"preferredLanguage"`
	City              *string  `json:"city"`
	State             *string  `json:"state"`
	Country           *string  `json:"country"`
	StreetAddress     *string  `json:"streetAddress"`
	PostalCode        *string  `json:"postalCode"`
}

// ProfileStringProperties are the string members of UserProfile, the ones
// $filter may compare (eq, ne, startsWith, in).
var ProfileStringProperties = []string{"givenName", "surname", "mail", "mailNickname", "jobTitle", "department", "companyName",
	"employeeId", "employeeType", "usageLocation", "mobilePhone", "officeLocation", "preferredLanguage", "city", "state", "country",
	"streetAddress", "postalCode"}

// Group is Graph's group resource for security groups with assigned
// membership.
type Group struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description"`
	MailNickname    string   `json:"mailNickname"`
	SecurityEnabled bool     `json:"securityEnabled"`
	MailEnabled     bool     `json:"mailEnabled"`
	GroupTypes      []string `json:"groupTypes"`
	// IsAssignableToRole is fixed at creation, as in Entra: only such
	// groups may hold directory roles.
	IsAssignableToRole bool      `json:"isAssignableToRole"`
	CreatedDateTime    time.Time `json:"createdDateTime"`
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

// Query asks for one page of a filtered, searched, ordered listing, with
// its options already validated by odata.Parse. Keyset paging (After) is
// used when the order is by id; with OrderBy the page starts at Offset.
type Query struct {
	Filter  odata.Expr
	Search  []odata.Search
	OrderBy []odata.OrderBy
	Page
	Offset int
	Count  bool // also count every match (Graph's @odata.count)
}

// ByPrincipal lists the role assignments of one principal.
func ByPrincipal(id string) Query {
	return Query{Filter: &odata.Compare{Prop: "principalId", Op: odata.Eq, Value: id}, Page: Page{Top: 999}}
}

// UserPatch holds the properties a PATCH may change; nil means unchanged.
type UserPatch struct {
	UserPrincipalName *string
	DisplayName       *string
	AccountEnabled    *bool
	IsEmergencyAccess *bool
	// Profile holds the profile properties the PATCH names, as JSON
	// members (null clears one); nil leaves them all.
	Profile map[string]any
}

// GroupPatch holds the properties a PATCH may change; nil means unchanged.
type GroupPatch struct {
	DisplayName  *string `json:"displayName"`
	Description  *string `json:"description"`
	MailNickname *string `json:"mailNickname"`
}

// Store persists the directory. Implementations return apperr errors:
// NotFound for unknown ids, Conflict for duplicates.
type Store interface {
	// CreateUser stores u and, unless passwordHash is empty, its password
	// (argon2id), atomically.
	CreateUser(ctx context.Context, u User, passwordHash string) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByUPN(ctx context.Context, upn string) (User, error)
	// List methods return the page and, when q.Count, the number of all
	// matches (-1 otherwise).
	ListUsers(ctx context.Context, q Query) ([]User, int, error)
	// UpdateUser applies patch and, unless passwordHash is nil, replaces
	// the password, atomically.
	UpdateUser(ctx context.Context, id string, patch UserPatch, passwordHash *string) (User, error)
	DeleteUser(ctx context.Context, id string) error

	CreateGroup(ctx context.Context, g Group) (Group, error)
	GetGroup(ctx context.Context, id string) (Group, error)
	ListGroups(ctx context.Context, q Query) ([]Group, int, error)
	UpdateGroup(ctx context.Context, id string, patch GroupPatch) (Group, error)
	DeleteGroup(ctx context.Context, id string) error

	// CreateGroupWith creates a group with its first members and owners in
	// one transaction: an unknown member leaves no group behind.
	CreateGroupWith(ctx context.Context, g Group, members, owners []string) (Group, error)
	AddMember(ctx context.Context, groupID, userID string) error
	RemoveMember(ctx context.Context, groupID, userID string) error
	ListMembers(ctx context.Context, groupID string, q Query) ([]User, int, error)
	ListOwners(ctx context.Context, groupID string, q Query) ([]User, int, error)
	AddOwner(ctx context.Context, groupID, userID string) error
	RemoveOwner(ctx context.Context, groupID, userID string) error
	// GroupIDsOf returns the ids of the groups the user is a direct member of.
	GroupIDsOf(ctx context.Context, userID string) ([]string, error)

	CreateRoleAssignment(ctx context.Context, a RoleAssignment) (RoleAssignment, error)
	GetRoleAssignment(ctx context.Context, id string) (RoleAssignment, error)
	ListRoleAssignments(ctx context.Context, q Query) ([]RoleAssignment, error)
	DeleteRoleAssignment(ctx context.Context, id string) error
}
