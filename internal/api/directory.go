package api

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods/password"
)

// idParam reads a path id and checks it is a GUID.
func idParam(r *http.Request, name string) (string, error) {
	id := chi.URLParam(r, name)
	return id, directory.ValidateID(id)
}

type createUserRequest struct {
	UserPrincipalName string           `json:"userPrincipalName"`
	DisplayName       string           `json:"displayName"`
	AccountEnabled    *bool            `json:"accountEnabled"`
	IsEmergencyAccess bool             `json:"isEmergencyAccess"`
	MailNickname      string           `json:"mailNickname"` // accepted for Graph compatibility; not stored
	PasswordProfile   *passwordProfile `json:"passwordProfile"`
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

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	enabled := req.AccountEnabled == nil || *req.AccountEnabled
	pass := ""
	if req.PasswordProfile != nil {
		pass = req.PasswordProfile.Password
	}
	u, err := s.deps.Directory.CreateUser(r.Context(), directory.User{
		UserPrincipalName: req.UserPrincipalName, DisplayName: req.DisplayName,
		AccountEnabled: enabled, IsEmergencyAccess: req.IsEmergencyAccess,
	}, pass)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+u.ID)
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	users, err := s.deps.Directory.Store.ListUsers(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, users, p, func(u directory.User) string { return u.ID })
}

// getUser accepts an id or a userPrincipalName, as Graph does.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "id")
	var u directory.User
	var err error
	if strings.Contains(key, "@") {
		u, err = s.deps.Directory.Store.GetUserByUPN(r.Context(), key)
	} else if err = directory.ValidateID(key); err == nil {
		u, err = s.deps.Directory.Store.GetUser(r.Context(), key)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

type updateUserRequest struct {
	UserPrincipalName *string          `json:"userPrincipalName"`
	DisplayName       *string          `json:"displayName"`
	AccountEnabled    *bool            `json:"accountEnabled"`
	IsEmergencyAccess *bool            `json:"isEmergencyAccess"`
	PasswordProfile   *passwordProfile `json:"passwordProfile"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var req updateUserRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if req.PasswordProfile != nil {
		// A password that breaks the rule is a bad request whoever sends it,
		// so say so before asking whether the caller may reset it.
		if err := password.Validate(req.PasswordProfile.Password); err != nil {
			writeError(w, r, err)
			return
		}
	}
	if err := s.authorizeUserPatch(r, id, req); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.deps.Directory.UpdateUser(r.Context(), id, directory.UserPatch{
		UserPrincipalName: req.UserPrincipalName, DisplayName: req.DisplayName,
		AccountEnabled: req.AccountEnabled, IsEmergencyAccess: req.IsEmergencyAccess,
	}, req.PasswordProfile.passwordOf())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// authorizeUserPatch checks each kind of change the PATCH makes against
// Entra's table: a password is a reset, every other property a sensitive
// action.
func (s *Server) authorizeUserPatch(r *http.Request, id string, req updateUserRequest) error {
	roles := claimsOf(r.Context()).Roles
	if req.PasswordProfile != nil {
		if err := s.deps.Directory.Authorize(r.Context(), directory.ActionResetPassword, roles, id); err != nil {
			return err
		}
	}
	if req.UserPrincipalName != nil || req.DisplayName != nil || req.AccountEnabled != nil || req.IsEmergencyAccess != nil {
		return s.deps.Directory.Authorize(r.Context(), directory.ActionSensitive, roles, id)
	}
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err == nil {
		err = s.deps.Directory.Authorize(r.Context(), directory.ActionSensitive, claimsOf(r.Context()).Roles, id)
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

func (s *Server) memberOf(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
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
	writeJSON(w, http.StatusOK, collection[directory.Group]{Value: groups})
}

type createGroupRequest struct {
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description"`
	MailNickname    string   `json:"mailNickname"`
	SecurityEnabled *bool    `json:"securityEnabled"`
	MailEnabled     *bool    `json:"mailEnabled"`
	GroupTypes      []string `json:"groupTypes"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var req createGroupRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if (req.SecurityEnabled != nil && !*req.SecurityEnabled) || (req.MailEnabled != nil && *req.MailEnabled) || len(req.GroupTypes) > 0 {
		writeError(w, r, apperr.Invalid("unsupportedGroupType", "the lab supports security groups with assigned membership only: securityEnabled true, mailEnabled false, groupTypes []"))
		return
	}
	g, err := s.deps.Directory.CreateGroup(r.Context(), directory.Group{DisplayName: req.DisplayName, Description: req.Description, MailNickname: req.MailNickname})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+g.ID)
	writeJSON(w, http.StatusCreated, g)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	groups, err := s.deps.Directory.Store.ListGroups(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, groups, p, func(g directory.Group) string { return g.ID })
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var g directory.Group
	if err == nil {
		g, err = s.deps.Directory.Store.GetGroup(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, g)
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
		err = decodeJSON(r, &req)
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
	writeJSON(w, http.StatusOK, g)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err == nil {
		err = s.deps.Directory.Store.DeleteGroup(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	p, perr := pageOf(r)
	if err == nil {
		err = perr
	}
	var users []directory.User
	if err == nil {
		users, err = s.deps.Directory.Store.ListMembers(r.Context(), id, p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, users, p, func(u directory.User) string { return u.ID })
}

// refRequest is Graph's reference body: {"@odata.id": ".../directoryObjects/{id}"}.
type refRequest struct {
	ODataID string `json:"@odata.id"`
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) {
	gid, err := idParam(r, "id")
	var req refRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	ref := strings.TrimRight(req.ODataID, "/")
	uid := ref[strings.LastIndexByte(ref, '/')+1:]
	if uid == "" {
		writeError(w, r, apperr.Invalid("invalidReference", "@odata.id must name the member, e.g. https://graph.microsoft.com/v1.0/directoryObjects/{id}").WithTarget("@odata.id"))
		return
	}
	if err := s.deps.Directory.AddMember(r.Context(), gid, uid); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) {
	gid, err := idParam(r, "id")
	var uid string
	if err == nil {
		uid, err = idParam(r, "memberId")
	}
	if err == nil {
		err = s.deps.Directory.Store.RemoveMember(r.Context(), gid, uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listRoleDefinitions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, collection[directory.Role]{Value: directory.BuiltInRoles})
}

func (s *Server) listRoleAssignments(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	principal := ""
	if err == nil {
		principal, err = principalFilter(r.URL.Query().Get("$filter"))
	}
	var list []directory.RoleAssignment
	if err == nil {
		list, err = s.deps.Directory.Store.ListRoleAssignments(r.Context(), principal, p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, p, func(a directory.RoleAssignment) string { return a.ID })
}

// principalFilter understands the one $filter admins use on role
// assignments: principalId eq '{id}'.
func principalFilter(f string) (string, error) {
	if f == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(f), "principalId eq '")
	id, ok2 := strings.CutSuffix(rest, "'")
	if !ok || !ok2 || directory.ValidateID(id) != nil {
		return "", apperr.Invalid(CodeBadQuery, "supported $filter on roleAssignments: principalId eq '{id}'").WithTarget("$filter")
	}
	return id, nil
}

type createAssignmentRequest struct {
	ODataType        string `json:"@odata.type"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

func (s *Server) createRoleAssignment(w http.ResponseWriter, r *http.Request) {
	var req createAssignmentRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.deps.Directory.AssignRole(r.Context(), directory.RoleAssignment{PrincipalID: req.PrincipalID, RoleDefinitionID: req.RoleDefinitionID, DirectoryScopeID: req.DirectoryScopeID})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) getRoleAssignment(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var a directory.RoleAssignment
	if err == nil {
		a, err = s.deps.Directory.Store.GetRoleAssignment(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deleteRoleAssignment(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err == nil {
		err = s.deps.Directory.Store.DeleteRoleAssignment(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
