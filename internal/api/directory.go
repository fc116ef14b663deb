package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/methods/password"
)

// idParam reads a path id and checks it is a GUID.
func idParam(r *http.Request, name string) (string, error) {
	id := pathParam(r, name)
	return id, directory.ValidateID(id)
}

type createUserRequest struct {
	UserPrincipalName string           `json:"userPrincipalName"`
	DisplayName       string           `json:"displayName"`
	AccountEnabled    *bool            `json:"accountEnabled"`
	IsEmergencyAccess bool             `json:"isEmergencyAccess"`
	PasswordProfile   *passwordProfile `json:"passwordProfile"`
	directory.UserProfile
}

// passwordProfile is Graph's passwordProfile; the password is hashed with
// argon2id and never returned.
type passwordProfile struct {
	Password                      string `json:"password"`
	ForceChangePasswordNextSignIn bool   `json:"forceChangePasswordNextSignIn"` // accepted; the lab does not force changes
}

// passwordOf is the password a request sets, nil for none.
func (p *passwordProfile) passwordOf() *string {
	if p == nil {
		return nil
	}
	return &p.Password
}

// profileMembers picks the profile properties out of a decoded body.
func profileMembers(raw []byte) (map[string]any, error) {
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, apperr.Invalid(CodeBadJSON, "the request body is not valid JSON: %v", err)
	}
	out := map[string]any{}
	for _, k := range append([]string{"businessPhones"}, directory.ProfileStringProperties...) {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out, directory.ValidateProfile(out)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	var req createUserRequest
	raw, err := decodeGraphPatch(r, "user", &req)
	if err == nil {
		_, err = profileMembers(raw)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	enabled := req.AccountEnabled == nil || *req.AccountEnabled
	if req.IsEmergencyAccess && enabled {
		err = s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{SetEmergency: &conditionalaccess.EmergencyFlag{UserID: "(the new user " + req.UserPrincipalName + ")", On: true, New: true}})
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	pass := ""
	if req.PasswordProfile != nil {
		pass = req.PasswordProfile.Password
	}
	u, err := s.deps.Directory.CreateUser(r.Context(), directory.User{
		UserPrincipalName: req.UserPrincipalName, DisplayName: req.DisplayName,
		AccountEnabled: enabled, IsEmergencyAccess: req.IsEmergencyAccess, UserProfile: req.UserProfile,
	}, pass)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, u.ID, u, "users")
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, usersRes)
	if !ok {
		return
	}
	dq, err := dirQueryOf(q)
	var users []directory.User
	var n int
	if err == nil {
		users, n, err = s.deps.Directory.Store.ListUsers(r.Context(), dq)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, users, q, listOut{context: "users", next: nextToken(dq, len(users), lastUserID(users)), count: countOf(q, n)})
}

func lastUserID(us []directory.User) string {
	if len(us) == 0 {
		return ""
	}
	return us[len(us)-1].ID
}

// userByKey reads a user by id or by userPrincipalName, as Graph's
// /users/{id | userPrincipalName} does.
func (s *Server) userByKey(r *http.Request, key string) (directory.User, error) {
	if strings.Contains(key, "@") {
		return s.deps.Directory.Store.GetUserByUPN(r.Context(), key)
	}
	if err := directory.ValidateID(key); err != nil {
		return directory.User{}, err
	}
	return s.deps.Directory.Store.GetUser(r.Context(), key)
}

// userIDParam resolves the {id} segment, which may be a UPN, to an id.
func (s *Server) userIDParam(r *http.Request, name string) (string, error) {
	key := pathParam(r, name)
	if !strings.Contains(key, "@") {
		return key, directory.ValidateID(key)
	}
	u, err := s.deps.Directory.Store.GetUserByUPN(r.Context(), key)
	return u.ID, err
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.userByKey(r, pathParam(r, "id"))
	s.getEntity(w, r, u, err, "users")
}

type updateUserRequest struct {
	UserPrincipalName *string          `json:"userPrincipalName"`
	DisplayName       *string          `json:"displayName"`
	AccountEnabled    *bool            `json:"accountEnabled"`
	IsEmergencyAccess *bool            `json:"isEmergencyAccess"`
	PasswordProfile   *passwordProfile `json:"passwordProfile"`
	directory.UserProfile
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	id, err := s.userIDParam(r, "id")
	var req updateUserRequest
	var raw []byte
	if err == nil {
		raw, err = decodeGraphPatch(r, "user", &req)
	}
	var profile map[string]any
	if err == nil {
		profile, err = profileMembers(raw)
	}
	if err == nil && req.PasswordProfile != nil {
		// A password that breaks the rule is a bad request whoever sends it,
		// so say so before asking whether the caller may reset it.
		err = password.Validate(req.PasswordProfile.Password)
	}
	if err == nil {
		err = s.authorizeUserPatch(r, id, req, len(profile) > 0)
	}
	if err == nil {
		err = s.guardLockout(r, &hold, userPatchChanges(id, req)...)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.deps.Directory.UpdateUser(r.Context(), id, directory.UserPatch{
		UserPrincipalName: req.UserPrincipalName, DisplayName: req.DisplayName,
		AccountEnabled: req.AccountEnabled, IsEmergencyAccess: req.IsEmergencyAccess, Profile: profile,
	}, req.PasswordProfile.passwordOf())
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, u, "users")
}

// userPatchChanges lists what a user PATCH changes that lockout
// protection must judge: the emergency flag, and disabling the account.
func userPatchChanges(id string, req updateUserRequest) []conditionalaccess.DirectoryChange {
	var out []conditionalaccess.DirectoryChange
	if req.IsEmergencyAccess != nil {
		out = append(out, conditionalaccess.DirectoryChange{SetEmergency: &conditionalaccess.EmergencyFlag{UserID: id, On: *req.IsEmergencyAccess}})
	}
	if req.AccountEnabled != nil && !*req.AccountEnabled {
		out = append(out, conditionalaccess.DirectoryChange{DisableUser: id})
	}
	return out
}

// authorizeUserPatch checks each kind of change the PATCH makes against
// Entra's table: a password is a reset, every other property a sensitive
// action.
func (s *Server) authorizeUserPatch(r *http.Request, id string, req updateUserRequest, profile bool) error {
	roles := claimsOf(r.Context()).Roles
	if req.PasswordProfile != nil {
		if err := s.deps.Directory.Authorize(r.Context(), directory.ActionResetPassword, roles, id); err != nil {
			return err
		}
	}
	if profile || req.UserPrincipalName != nil || req.DisplayName != nil || req.AccountEnabled != nil || req.IsEmergencyAccess != nil {
		return s.deps.Directory.Authorize(r.Context(), directory.ActionSensitive, roles, id)
	}
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	id, err := s.userIDParam(r, "id")
	if err == nil {
		err = s.deps.Directory.Authorize(r.Context(), directory.ActionSensitive, claimsOf(r.Context()).Roles, id)
	}
	if err == nil {
		err = s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{DisableUser: id})
	}
	if err == nil {
		err = s.deps.Directory.Store.DeleteUser(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// memberOf lists the user's groups (all directory objects the lab has a
// user in are groups, so the cast segment /microsoft.graph.group gives the
// same list).
func (s *Server) memberOf(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, memberOfRes)
	if !ok {
		return
	}
	id, err := s.userIDParam(r, "id")
	if err == nil {
		_, err = s.deps.Directory.Store.GetUser(r.Context(), id)
	}
	var ids []string
	if err == nil {
		ids, err = s.deps.Directory.Store.GroupIDsOf(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	groups := make([]directory.Group, 0, len(ids))
	for _, gid := range ids {
		g, err := s.deps.Directory.Store.GetGroup(r.Context(), gid)
		if err != nil {
			writeError(w, r, err)
			return
		}
		groups = append(groups, g)
	}
	page, next, n, err := pageInMemory(groups, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := "directoryObjects"
	if strings.HasSuffix(r.URL.Path, "graph.group") {
		ctx = "groups"
	}
	s.writeList(w, r, page, q, listOut{context: ctx, odataType: "group", next: next, count: countOf(q, n)})
}

type createGroupRequest struct {
	DisplayName        string   `json:"displayName"`
	Description        string   `json:"description"`
	MailNickname       string   `json:"mailNickname"`
	SecurityEnabled    *bool    `json:"securityEnabled"`
	MailEnabled        *bool    `json:"mailEnabled"`
	GroupTypes         []string `json:"groupTypes"`
	IsAssignableToRole bool     `json:"isAssignableToRole"`
	MembersBind        []string `json:"members@odata.bind"`
	OwnersBind         []string `json:"owners@odata.bind"`
}

// boundIDs reads the object ids of @odata.bind references such as
// https://graph.microsoft.com/v1.0/users/{id} or .../directoryObjects/{id}.
func boundIDs(refs []string, prop string) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		id, err := refID(ref)
		if err != nil {
			return nil, err.WithTarget(prop)
		}
		out = append(out, id)
	}
	return out, nil
}

// refID is the object id at the end of a reference URL.
func refID(ref string) (string, *apperr.Error) {
	ref = strings.TrimRight(ref, "/")
	id, err := directory.CanonicalID(ref[strings.LastIndexByte(ref, '/')+1:])
	if err != nil {
		return "", apperr.Invalid(directory.CodeInvalidID, "%q must name a user by id (a GUID), e.g. https://graph.microsoft.com/v1.0/directoryObjects/{id}", ref)
	}
	return id, nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var req createGroupRequest
	if err := decodeGraph(r, "group", &req); err != nil {
		writeError(w, r, err)
		return
	}
	if (req.SecurityEnabled != nil && !*req.SecurityEnabled) || (req.MailEnabled != nil && *req.MailEnabled) || len(req.GroupTypes) > 0 {
		writeError(w, r, apperr.Invalid("unsupportedGroupType", "the lab supports security groups with assigned membership only: securityEnabled true, mailEnabled false, groupTypes []"))
		return
	}
	members, err := boundIDs(req.MembersBind, "members@odata.bind")
	var owners []string
	if err == nil {
		owners, err = boundIDs(req.OwnersBind, "owners@odata.bind")
	}
	var g directory.Group
	if err == nil {
		g, err = s.deps.Directory.CreateGroupWith(r.Context(), directory.Group{DisplayName: req.DisplayName, Description: req.Description,
			MailNickname: req.MailNickname, IsAssignableToRole: req.IsAssignableToRole}, members, owners)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, g.ID, g, "groups")
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, groupsRes)
	if !ok {
		return
	}
	dq, err := dirQueryOf(q)
	var groups []directory.Group
	var n int
	if err == nil {
		groups, n, err = s.deps.Directory.Store.ListGroups(r.Context(), dq)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	last := ""
	if len(groups) > 0 {
		last = groups[len(groups)-1].ID
	}
	s.writeList(w, r, groups, q, listOut{context: "groups", next: nextToken(dq, len(groups), last), count: countOf(q, n)})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var g directory.Group
	if err == nil {
		g, err = s.deps.Directory.Store.GetGroup(r.Context(), id)
	}
	s.getEntity(w, r, g, err, "groups")
}

type updateGroupRequest struct {
	DisplayName  *string `json:"displayName"`
	Description  *string `json:"description"`
	MailNickname *string `json:"mailNickname"`
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var req updateGroupRequest
	if err == nil {
		err = decodeGraph(r, "group", &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	g, err := s.deps.Directory.UpdateGroup(r.Context(), id, directory.GroupPatch(req))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, g, "groups")
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	id, err := idParam(r, "id")
	if err == nil {
		err = s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{DeleteGroup: id})
	}
	if err == nil {
		err = s.deps.Directory.Store.DeleteGroup(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listMembers serves /members and /owners, with or without the cast
// segment /microsoft.graph.user (the lab's members are all users). Items
// carry @odata.type, as Graph's directoryObject collections do.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, membersRes)
	if !ok {
		return
	}
	id, err := idParam(r, "id")
	var dq directory.Query
	if err == nil {
		dq, err = dirQueryOf(q)
	}
	list := s.deps.Directory.Store.ListMembers
	if strings.Contains(r.URL.Path, "/owners") {
		list = s.deps.Directory.Store.ListOwners
	}
	var users []directory.User
	var n int
	if err == nil {
		users, n, err = list(r.Context(), id, dq)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := "directoryObjects"
	if strings.HasSuffix(r.URL.Path, "graph.user") {
		ctx = "users"
	}
	s.writeList(w, r, users, q, listOut{context: ctx, odataType: "user", next: nextToken(dq, len(users), lastUserID(users)), count: countOf(q, n)})
}

// refRequest is Graph's reference body: {"@odata.id": ".../directoryObjects/{id}"}.
type refRequest struct {
	ODataID string `json:"@odata.id"`
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	gid, err := idParam(r, "id")
	var req refRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	uid, rerr := refID(req.ODataID)
	if rerr != nil {
		writeError(w, r, rerr.WithTarget("@odata.id"))
		return
	}
	if strings.Contains(r.URL.Path, "/owners/") {
		err = s.deps.Directory.Store.AddOwner(r.Context(), gid, uid)
	} else if err = s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{AddMember: &conditionalaccess.Membership{GroupID: gid, UserID: uid}}); err == nil {
		err = s.deps.Directory.AddMember(r.Context(), gid, uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	gid, err := idParam(r, "id")
	var uid string
	if err == nil {
		uid, err = idParam(r, "memberId")
	}
	if err == nil {
		if strings.Contains(r.URL.Path, "/owners/") {
			err = s.deps.Directory.Store.RemoveOwner(r.Context(), gid, uid)
		} else if err = s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{RemoveMember: &conditionalaccess.Membership{GroupID: gid, UserID: uid}}); err == nil {
			err = s.deps.Directory.Store.RemoveMember(r.Context(), gid, uid)
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listRoleDefinitions(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, roleDefinitionsRes)
	if !ok {
		return
	}
	page, _, _, err := pageInMemory(directory.BuiltInRoles, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: "roleManagement/directory/roleDefinitions"})
}

func (s *Server) getRoleDefinition(w http.ResponseWriter, r *http.Request) {
	role, ok := directory.RoleByID(strings.ToLower(pathParam(r, "id")))
	var err error
	if !ok {
		err = apperr.NotFound(apperr.CodeNotFound, "role definition %q does not exist", pathParam(r, "id"))
	}
	s.getEntity(w, r, role, err, "roleManagement/directory/roleDefinitions")
}

// roleAssignmentOut is a unifiedRoleAssignment with the navigation
// properties $expand asks for.
type roleAssignmentOut struct {
	directory.RoleAssignment
	Principal      *directory.User `json:"principal,omitempty"`
	RoleDefinition *directory.Role `json:"roleDefinition,omitempty"`
}

// expandAssignments resolves $expand=principal,roleDefinition. Principals
// are read one by one: an assignment page holds few distinct users.
func (s *Server) expandAssignments(r *http.Request, list []directory.RoleAssignment, expand []string) ([]roleAssignmentOut, error) {
	out := make([]roleAssignmentOut, len(list))
	users := map[string]*directory.User{}
	for i, a := range list {
		out[i].RoleAssignment = a
		for _, e := range expand {
			switch e {
			case "roleDefinition":
				if role, ok := directory.RoleByID(a.RoleDefinitionID); ok {
					out[i].RoleDefinition = &role
				}
			case "principal":
				u, seen := users[a.PrincipalID]
				if !seen {
					got, err := s.deps.Directory.Store.GetUser(r.Context(), a.PrincipalID)
					if err != nil {
						return nil, err
					}
					u = &got
					users[a.PrincipalID] = u
				}
				out[i].Principal = u
			}
		}
	}
	return out, nil
}

func (s *Server) listRoleAssignments(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, roleAssignmentsRes)
	if !ok {
		return
	}
	dq, err := dirQueryOf(q)
	var list []directory.RoleAssignment
	if err == nil {
		list, err = s.deps.Directory.Store.ListRoleAssignments(r.Context(), dq)
	}
	var out []roleAssignmentOut
	if err == nil {
		out, err = s.expandAssignments(r, list, q.Expand)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	last := ""
	if len(list) > 0 {
		last = list[len(list)-1].ID
	}
	s.writeList(w, r, out, q, listOut{context: "roleManagement/directory/roleAssignments", next: nextToken(dq, len(list), last)})
}

type createAssignmentRequest struct {
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

func (s *Server) createRoleAssignment(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	var req createAssignmentRequest
	if err := decodeGraph(r, "unifiedRoleAssignment", &req); err != nil {
		writeError(w, r, err)
		return
	}
	// Canonical before the guard, which compares it with the caller's id.
	req.PrincipalID = ids.Lower(req.PrincipalID)
	err := s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{AssignRole: &conditionalaccess.RoleChange{UserID: req.PrincipalID, RoleTemplateID: roleTemplateOf(req.RoleDefinitionID)}})
	var a directory.RoleAssignment
	if err == nil {
		a, err = s.deps.Directory.AssignRole(r.Context(), directory.RoleAssignment{PrincipalID: req.PrincipalID, RoleDefinitionID: req.RoleDefinitionID, DirectoryScopeID: req.DirectoryScopeID})
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, a.ID, a, "roleManagement/directory/roleAssignments")
}

// roleTemplateOf is the template id of a role given by id or display name,
// as AssignRole accepts it; an unknown role is returned as given (AssignRole
// refuses it).
func roleTemplateOf(idOrName string) string {
	role, ok := directory.RoleByID(idOrName)
	if !ok {
		role, ok = directory.RoleByName(idOrName)
	}
	if !ok {
		return idOrName
	}
	return role.TemplateID
}

func (s *Server) getRoleAssignment(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, roleAssignmentRes)
	if !ok {
		return
	}
	id, err := idParam(r, "id")
	var a directory.RoleAssignment
	if err == nil {
		a, err = s.deps.Directory.Store.GetRoleAssignment(r.Context(), id)
	}
	var out []roleAssignmentOut
	if err == nil {
		out, err = s.expandAssignments(r, []directory.RoleAssignment{a}, q.Expand)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeEntity(w, r, http.StatusOK, out[0], "roleManagement/directory/roleAssignments", q.Select)
}

func (s *Server) deleteRoleAssignment(w http.ResponseWriter, r *http.Request) {
	var hold lockoutHold // the change lock, if the lockout check takes it
	defer hold.release()
	id, err := idParam(r, "id")
	var a directory.RoleAssignment
	if err == nil {
		a, err = s.deps.Directory.Store.GetRoleAssignment(r.Context(), id)
	}
	if err == nil {
		err = s.guardLockout(r, &hold, conditionalaccess.DirectoryChange{UnassignRole: &conditionalaccess.RoleChange{UserID: a.PrincipalID, RoleTemplateID: roleTemplateOf(a.RoleDefinitionID)}})
	}
	if err == nil {
		err = s.deps.Directory.Store.DeleteRoleAssignment(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
