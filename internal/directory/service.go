package directory

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/methods/password"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Stable codes for bad directory input.
const (
	CodeInvalidUPN          = "invalidUserPrincipalName"
	CodeDuplicateUPN        = "duplicateUserPrincipalName"
	CodeInvalidDisplayName  = "invalidDisplayName"
	CodeInvalidID           = "invalidId"
	CodeUnknownRole         = "unknownRoleDefinition"
	CodeInvalidScope        = "invalidDirectoryScope"
	CodeAlreadyMember       = "alreadyMember"
	CodeDuplicateAssignment = "duplicateRoleAssignment"
)

const maxNameLen = 256

// Service validates directory changes before they reach the Store.
type Service struct {
	Store Store
}

// CreateUser validates and creates a user. A password (Graph's
// passwordProfile; "" for none) must meet the lab's rule and is stored as
// argon2id with the user, in one transaction.
func (s *Service) CreateUser(ctx context.Context, u User, pass string) (User, error) {
	u.UserPrincipalName = strings.TrimSpace(u.UserPrincipalName)
	if err := ValidateUPN(u.UserPrincipalName); err != nil {
		return User{}, err
	}
	if err := validateName("displayName", u.DisplayName); err != nil {
		return User{}, err
	}
	hash := ""
	if pass != "" {
		var err error
		if hash, err = password.Hash(pass); err != nil {
			return User{}, err
		}
	}
	u.ID = uuid.NewString()
	return s.Store.CreateUser(ctx, u, hash)
}

// UpdateUser validates and applies a PATCH; a new password (nil: unchanged)
// is stored in the same transaction.
func (s *Service) UpdateUser(ctx context.Context, id string, p UserPatch, pass *string) (User, error) {
	if err := ValidateID(id); err != nil {
		return User{}, err
	}
	if p.UserPrincipalName != nil {
		v := strings.TrimSpace(*p.UserPrincipalName)
		if err := ValidateUPN(v); err != nil {
			return User{}, err
		}
		p.UserPrincipalName = &v
	}
	if p.DisplayName != nil {
		if err := validateName("displayName", *p.DisplayName); err != nil {
			return User{}, err
		}
	}
	var hash *string
	if pass != nil {
		h, err := password.Hash(*pass)
		if err != nil {
			return User{}, err
		}
		hash = &h
	}
	return s.Store.UpdateUser(ctx, id, p, hash)
}

func (s *Service) CreateGroup(ctx context.Context, g Group) (Group, error) {
	return s.CreateGroupWith(ctx, g, nil, nil)
}

func (s *Service) UpdateGroup(ctx context.Context, id string, p GroupPatch) (Group, error) {
	if err := ValidateID(id); err != nil {
		return Group{}, err
	}
	if p.DisplayName != nil {
		if err := validateName("displayName", *p.DisplayName); err != nil {
			return Group{}, err
		}
	}
	return s.Store.UpdateGroup(ctx, id, p)
}

func (s *Service) AddMember(ctx context.Context, groupID, userID string) error {
	groupID, err := CanonicalID(groupID)
	if err != nil {
		return err
	}
	if userID, err = CanonicalID(userID); err != nil {
		return err
	}
	return s.Store.AddMember(ctx, groupID, userID)
}

// AssignRole accepts a role by template id or by display name, as admins
// type either.
func (s *Service) AssignRole(ctx context.Context, a RoleAssignment) (RoleAssignment, error) {
	var err error
	if a.PrincipalID, err = CanonicalID(a.PrincipalID); err != nil {
		return RoleAssignment{}, err
	}
	role, ok := RoleByID(a.RoleDefinitionID)
	if !ok {
		role, ok = RoleByName(a.RoleDefinitionID)
	}
	if !ok {
		return RoleAssignment{}, apperr.Invalid(CodeUnknownRole, "roleDefinitionId %q is not a built-in role template id", a.RoleDefinitionID).WithTarget("roleDefinitionId")
	}
	a.RoleDefinitionID = role.ID
	if a.DirectoryScopeID == "" {
		a.DirectoryScopeID = "/"
	}
	if a.DirectoryScopeID != "/" {
		return RoleAssignment{}, apperr.Invalid(CodeInvalidScope, "only the tenant-wide scope \"/\" is supported").WithTarget("directoryScopeId")
	}
	a.ID = uuid.NewString()
	return s.Store.CreateRoleAssignment(ctx, a)
}

// RoleNamesOf returns the display names of the roles assigned to a user.
func (s *Service) RoleNamesOf(ctx context.Context, userID string) ([]string, error) {
	as, err := s.Store.ListRoleAssignments(ctx, ByPrincipal(userID))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(as))
	for _, a := range as {
		if r, ok := RoleByID(a.RoleDefinitionID); ok {
			names = append(names, r.DisplayName)
		}
	}
	return names, nil
}

// ValidateUPN checks the shape Entra requires: alias@domain, no spaces, at
// most 113 characters before the @ and 256 in all.
func ValidateUPN(upn string) error {
	at := strings.LastIndexByte(upn, '@')
	switch {
	case upn == "":
		return apperr.Invalid(CodeInvalidUPN, "userPrincipalName is required").WithTarget("userPrincipalName")
	case at <= 0 || at == len(upn)-1 || strings.Count(upn, "@") != 1:
		return apperr.Invalid(CodeInvalidUPN, "userPrincipalName must look like alias@domain").WithTarget("userPrincipalName")
	case at > 113 || len(upn) > 256:
		return apperr.Invalid(CodeInvalidUPN, "userPrincipalName is too long").WithTarget("userPrincipalName")
	case strings.ContainsAny(upn, " \t\r\n\x00\"\\<>()[],;:"):
		return apperr.Invalid(CodeInvalidUPN, "userPrincipalName contains a character Entra does not allow").WithTarget("userPrincipalName")
	case !strings.Contains(upn[at+1:], "."):
		return apperr.Invalid(CodeInvalidUPN, "the domain of userPrincipalName must contain a dot").WithTarget("userPrincipalName")
	}
	return nil
}

// ValidateID checks that an id is a UUID, so a typo is a clear 400 rather
// than a database error.
func ValidateID(id string) error {
	_, err := CanonicalID(id)
	return err
}

// CanonicalID validates id like ValidateID and returns it lower-case, the
// form the database returns: every id a client sends goes through it once
// where it enters, so lockout protection and policies, which compare ids as
// strings, never see another spelling of the same object.
func CanonicalID(id string) (string, error) {
	c, ok := ids.Canonical(id)
	if !ok {
		return id, apperr.Invalid(CodeInvalidID, "%q is not a valid object id (a GUID)", id).WithTarget("id")
	}
	return c, nil
}

func validateName(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return apperr.Invalid(CodeInvalidDisplayName, "%s is required", field).WithTarget(field)
	}
	if utf8.RuneCountInString(v) > maxNameLen || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return apperr.Invalid(CodeInvalidDisplayName, "%s must be valid text of at most %d characters", field, maxNameLen).WithTarget(field)
	}
	return nil
}

// CodeAuthorizationDenied is Graph's code for a caller lacking privileges.
const CodeAuthorizationDenied = "Authorization_RequestDenied"

// Authorize enforces Entra's table of which admin role may perform action
// on a user holding which roles (MayActOn): otherwise a User or
// Authentication Administrator could reset the credentials of, and so take
// over, a Global Reader or a Global Administrator.
func (s *Service) Authorize(ctx context.Context, action UserAction, callerRoles []string, userID string) error {
	roles, err := s.RoleNamesOf(ctx, userID)
	if err != nil {
		return err
	}
	if MayActOn(action, callerRoles, roles) {
		return nil
	}
	if len(roles) == 0 {
		return apperr.Forbidden(CodeAuthorizationDenied, "this change (%s) needs one of the roles %s", action, strings.Join(ActorsFor(action), ", "))
	}
	return apperr.Forbidden(CodeAuthorizationDenied, "the user holds the role(s) %s; none of your roles may make this change (%s) to their account (Entra's \"who can reset passwords\" rules)", strings.Join(roles, ", "), action)
}

// CodeInvalidProperty refuses a profile property value Graph would refuse.
const CodeInvalidProperty = "invalidPropertyValue"

// profileLimits are Graph's documented maximum lengths of user profile
// strings (the user resource's property table); the others get maxNameLen.
var profileLimits = map[string]int{"givenName": 64, "surname": 64, "jobTitle": 128, "department": 64, "companyName": 64,
	"employeeId": 16, "mailNickname": 64, "city": 128, "state": 128, "country": 128, "streetAddress": 1024, "postalCode": 40}

// ValidateProfile checks profile properties given as JSON members (a
// create's or a PATCH's): strings within Graph's lengths, usageLocation a
// two-letter country code, mail an address, at most one business phone
// (Graph: "Only one number can be set for this property").
func ValidateProfile(p map[string]any) error {
	for k, v := range p {
		if v == nil {
			continue
		}
		if k == "businessPhones" {
			list, ok := v.([]any)
			if !ok || len(list) > 1 {
				return apperr.Invalid(CodeInvalidProperty, "businessPhones takes at most one phone number").WithTarget(k)
			}
			for _, ph := range list {
				if s, ok := ph.(string); !ok || s == "" || len(s) > 64 {
					return apperr.Invalid(CodeInvalidProperty, "businessPhones entries are phone numbers of at most 64 characters").WithTarget(k)
				}
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return apperr.Invalid(CodeInvalidProperty, "%s must be a string or null", k).WithTarget(k)
		}
		limit := profileLimits[k]
		if limit == 0 {
			limit = maxNameLen
		}
		if utf8.RuneCountInString(s) > limit || !utf8.ValidString(s) {
			return apperr.Invalid(CodeInvalidProperty, "%s must be valid text of at most %d characters", k, limit).WithTarget(k)
		}
		switch k {
		case "usageLocation":
			if len(s) != 2 || strings.ToUpper(s) != s || strings.ContainsAny(s, "0123456789") {
				return apperr.Invalid(CodeInvalidProperty, "usageLocation is a two-letter country code (ISO 3166), such as US").WithTarget(k)
			}
		case "mail":
			if ValidateUPN(s) != nil {
				return apperr.Invalid(CodeInvalidProperty, "mail must be an address such as alias@domain.example").WithTarget(k)
			}
		}
	}
	return nil
}

// CreateGroupWith validates and creates a group with its first members and
// owners (Graph's members@odata.bind / owners@odata.bind, at most 20 in
// all, as Graph documents for group creation).
func (s *Service) CreateGroupWith(ctx context.Context, g Group, members, owners []string) (Group, error) {
	if len(members)+len(owners) > 20 {
		return Group{}, apperr.Invalid(CodeInvalidProperty, "at most 20 members and owners can be bound when a group is created").WithTarget("members@odata.bind")
	}
	for _, id := range append(append([]string{}, members...), owners...) {
		if err := ValidateID(id); err != nil {
			return Group{}, err
		}
	}
	if err := validateName("displayName", g.DisplayName); err != nil {
		return Group{}, err
	}
	if g.MailNickname == "" {
		g.MailNickname = strings.ReplaceAll(g.DisplayName, " ", "")
	}
	g.SecurityEnabled = true
	g.MailEnabled = false
	g.GroupTypes = []string{}
	g.ID = uuid.NewString()
	return s.Store.CreateGroupWith(ctx, g, members, owners)
}
