package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	d "github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/tap"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/signin"
)

// Least-privilege role sets of the authentication methods calls.
var (
	methodPolicyReaders = []string{d.RoleAuthenticationPolicyAdministrator, d.RoleGlobalReader, d.RoleSecurityAdministrator, d.RoleSecurityReader}
	methodPolicyWriters = []string{d.RoleAuthenticationPolicyAdministrator}
	userMethodReaders   = []string{d.RoleAuthenticationAdministrator, d.RolePrivilegedAuthenticationAdministrator, d.RoleGlobalReader,
		d.RoleSecurityAdministrator, d.RoleSecurityReader}
	userMethodWriters = []string{d.RoleAuthenticationAdministrator, d.RolePrivilegedAuthenticationAdministrator}
)

func callerOf(r *http.Request) methods.Caller {
	if c := claimsOf(r.Context()); c != nil {
		return methods.Caller{Roles: c.Roles}
	}
	return methods.Caller{}
}

const methodConfigContext = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations"

func (s *Server) getFido2Config(w http.ResponseWriter, r *http.Request) {
	cfg, _, err := s.deps.Methods.Fido2Config(r.Context())
	s.getEntity(w, r, cfg, err, methodConfigContext)
}

func (s *Server) patchFido2Config(w http.ResponseWriter, r *http.Request) {
	body, err := decodeGraphPatch(r, "fido2AuthenticationMethodConfiguration", &profiles.Fido2AuthenticationMethodConfiguration{})
	var cfg profiles.Fido2AuthenticationMethodConfiguration
	if err == nil {
		cfg, err = s.deps.Methods.PatchFido2(r.Context(), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, cfg, methodConfigContext)
}

func (s *Server) getTAPConfig(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.deps.Methods.TAPConfig(r.Context())
	s.getEntity(w, r, cfg, err, methodConfigContext)
}

func (s *Server) patchTAPConfig(w http.ResponseWriter, r *http.Request) {
	body, err := decodeGraphPatch(r, "temporaryAccessPassAuthenticationMethodConfiguration", &tap.MethodConfiguration{})
	var cfg tap.MethodConfiguration
	if err == nil {
		cfg, err = s.deps.Methods.PatchTAP(r.Context(), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, cfg, methodConfigContext)
}

// resetFido2Config and resetTAPConfig are Graph's DELETE of a method
// configuration: a revert to the default, 204.
func (s *Server) resetFido2Config(w http.ResponseWriter, r *http.Request) {
	s.reset(w, r, s.deps.Methods.ResetFido2)
}

func (s *Server) resetTAPConfig(w http.ResponseWriter, r *http.Request) {
	s.reset(w, r, s.deps.Methods.ResetTAP)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request, reset func(context.Context) error) {
	// Graph takes no body here; {} is harmless, anything else is refused
	// rather than ignored, whatever the framing: a chunked body has no
	// Content-Length (-1), so the body itself is read to tell.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		err = jsonError(err)
	} else if len(bytes.TrimSpace(body)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		var empty struct{}
		err = decodeJSON(r, &empty)
	}
	if err == nil {
		err = reset(r.Context())
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) issueTAP(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	var req tap.CreateRequest
	if err == nil && r.ContentLength != 0 {
		err = decodeGraph(r, "temporaryAccessPassAuthenticationMethod", &req)
	}
	var out tap.TemporaryAccessPassAuthenticationMethod
	if err == nil {
		out, err = s.deps.Methods.IssueTAP(r.Context(), callerOf(r), uid, req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, out.ID, out, "users('"+uid+"')/authentication/temporaryAccessPassMethods")
}

func (s *Server) listTAPs(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, methodsRes)
	if !ok {
		return
	}
	uid, err := s.userIDParam(r, "id")
	var list []tap.TemporaryAccessPassAuthenticationMethod
	if err == nil {
		list, err = s.deps.Methods.ListTAPs(r.Context(), uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, list, q, listOut{context: "users('" + uid + "')/authentication/temporaryAccessPassMethods"})
}

func (s *Server) getTAP(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	var out tap.TemporaryAccessPassAuthenticationMethod
	if err == nil {
		out, err = s.deps.Methods.GetTAP(r.Context(), uid, pathParam(r, "methodId"))
	}
	s.getEntity(w, r, out, err, "users('"+uid+"')/authentication/temporaryAccessPassMethods")
}

func (s *Server) deleteTAP(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	if err == nil {
		err = s.deps.Methods.DeleteTAP(r.Context(), callerOf(r), uid, pathParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) writeFido2List(w http.ResponseWriter, r *http.Request, uid string, creds []ceremony.Credential) {
	q, ok := listQuery(w, r, methodsRes)
	if !ok {
		return
	}
	out := make([]profiles.Fido2AuthenticationMethod, len(creds))
	for i, c := range creds {
		out[i] = s.fido2Method(c)
	}
	s.writeList(w, r, out, q, listOut{context: "users('" + uid + "')/authentication/fido2Methods"})
}

func (s *Server) listFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	var creds []ceremony.Credential
	if err == nil {
		creds, err = s.deps.Methods.ListFido2(r.Context(), uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeFido2List(w, r, uid, creds)
}

func (s *Server) getFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	s.writeFido2(w, r, uid, err)
}

func (s *Server) writeFido2(w http.ResponseWriter, r *http.Request, uid string, err error) {
	var c ceremony.Credential
	if err == nil {
		c, err = s.deps.Methods.GetFido2(r.Context(), uid, pathParam(r, "methodId"))
	}
	s.getEntity(w, r, s.fido2Method(c), err, "users('"+uid+"')/authentication/fido2Methods")
}

// listMethods is /users/{id}/authentication/methods: every registered
// method, polymorphic, each with its @odata.type: the password, passkeys
// (fido2), Microsoft Authenticator push apps, verification-code apps
// (softwareOath) and the Temporary Access Pass.
func (s *Server) listMethods(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, methodsRes)
	if !ok {
		return
	}
	uid, err := s.userIDParam(r, "id")
	var items []any
	if err == nil {
		items, err = s.userMethods(r, uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if len(q.Select) > 0 {
		// The set is polymorphic: $select may name authenticationMethod's
		// own properties only.
		if err := odata.CheckSelect(q.Select, []string{"id", "createdDateTime"}, "authenticationMethod"); err != nil {
			writeError(w, r, err)
			return
		}
	}
	s.writeList(w, r, items, odata.Query{Select: q.Select}, listOut{context: "users('" + uid + "')/authentication/methods"})
}

// userMethods reads every method of the user, each as its Graph type.
func (s *Server) userMethods(r *http.Request, uid string) ([]any, error) {
	f, err := s.deps.Methods.Factors(r.Context(), uid)
	if err != nil {
		return nil, err
	}
	creds, err := s.deps.Methods.ListFido2(r.Context(), uid)
	if err != nil {
		return nil, err
	}
	taps, err := s.deps.Methods.ListTAPs(r.Context(), uid)
	if err != nil {
		return nil, err
	}
	items := make([]any, 0, len(f.Password)+len(creds)+len(f.Authenticator)+len(f.SoftwareOath)+len(taps))
	for _, m := range f.Password {
		items = append(items, m)
	}
	for _, c := range creds {
		items = append(items, s.fido2Method(c))
	}
	for _, m := range f.Authenticator {
		items = append(items, m)
	}
	for _, m := range f.SoftwareOath {
		items = append(items, m)
	}
	for _, t := range taps {
		t.ODataType = methods.ODataTAP
		items = append(items, t)
	}
	return items, nil
}

// getMethod is /users/{id}/authentication/methods/{methodId}: any of the
// user's methods by id, as its own type.
func (s *Server) getMethod(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	var items []any
	if err == nil {
		items, err = s.userMethods(r, uid)
	}
	var found any
	if err == nil {
		id := pathParam(r, "methodId")
		for _, m := range items {
			if methodID(m) == id {
				found = m
			}
		}
		if found == nil {
			err = apperr.NotFound(apperr.CodeNotFound, "the user has no authentication method with id %q", id).WithTarget("methodId")
		}
	}
	s.getEntity(w, r, found, err, "users('"+uid+"')/authentication/methods")
}

func methodID(m any) string {
	switch v := m.(type) {
	case methods.PasswordMethod:
		return v.ID
	case methods.SoftwareOathMethod:
		return v.ID
	case methods.AuthenticatorMethod:
		return v.ID
	case profiles.Fido2AuthenticationMethod:
		return v.ID
	case tap.TemporaryAccessPassAuthenticationMethod:
		return v.ID
	}
	return ""
}

// The password, verification-code and push methods by kind.
func (s *Server) listPasswordMethods(w http.ResponseWriter, r *http.Request) {
	writeFactorList(s, w, r, "passwordMethods", func(f methods.UserFactors) []methods.PasswordMethod { return f.Password })
}

func (s *Server) getPasswordMethod(w http.ResponseWriter, r *http.Request) {
	writeFactor(s, w, r, "passwordMethods", s.deps.Methods.PasswordMethodByID)
}

func (s *Server) listSoftwareOathMethods(w http.ResponseWriter, r *http.Request) {
	writeFactorList(s, w, r, "softwareOathMethods", func(f methods.UserFactors) []methods.SoftwareOathMethod { return f.SoftwareOath })
}

func (s *Server) getSoftwareOathMethod(w http.ResponseWriter, r *http.Request) {
	writeFactor(s, w, r, "softwareOathMethods", s.deps.Methods.SoftwareOathMethodByID)
}

func (s *Server) listAuthenticatorMethods(w http.ResponseWriter, r *http.Request) {
	writeFactorList(s, w, r, "microsoftAuthenticatorMethods", func(f methods.UserFactors) []methods.AuthenticatorMethod { return f.Authenticator })
}

func (s *Server) getAuthenticatorMethod(w http.ResponseWriter, r *http.Request) {
	writeFactor(s, w, r, "microsoftAuthenticatorMethods", s.deps.Methods.AuthenticatorMethodByID)
}

func writeFactorList[T any](s *Server, w http.ResponseWriter, r *http.Request, rel string, pick func(methods.UserFactors) []T) {
	q, ok := listQuery(w, r, methodsRes)
	if !ok {
		return
	}
	uid, err := s.userIDParam(r, "id")
	var f methods.UserFactors
	if err == nil {
		f, err = s.deps.Methods.Factors(r.Context(), uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, pick(f), q, listOut{context: "users('" + uid + "')/authentication/" + rel})
}

func writeFactor[T any](s *Server, w http.ResponseWriter, r *http.Request, rel string, get func(ctx context.Context, uid, id string) (T, error)) {
	uid, err := s.userIDParam(r, "id")
	var m T
	if err == nil {
		m, err = get(r.Context(), uid, pathParam(r, "methodId"))
	}
	s.getEntity(w, r, m, err, "users('"+uid+"')/authentication/"+rel)
}

// renameRequest is the lab's rename body: Graph has no way to rename a
// fido2AuthenticationMethod, so this PATCH is an extension.
type renameRequest struct {
	DisplayName string `json:"displayName"`
}

func (s *Server) renameFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	c := callerOf(r)
	s.rename(w, r, &c, uid, err)
}

func (s *Server) rename(w http.ResponseWriter, r *http.Request, caller *methods.Caller, uid string, err error) {
	var req renameRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	var c ceremony.Credential
	if err == nil {
		c, err = s.deps.Methods.RenameFido2(r.Context(), caller, uid, pathParam(r, "methodId"), req.DisplayName)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.fido2Method(c))
}

// deleteSoftwareOathMethod and deleteAuthenticatorMethod are Graph's
// DELETE of a user's verification-code app or push app, 204.
func (s *Server) deleteSoftwareOathMethod(w http.ResponseWriter, r *http.Request) {
	s.deleteFactor(w, r, s.deps.Methods.DeleteSoftwareOath)
}

func (s *Server) deleteAuthenticatorMethod(w http.ResponseWriter, r *http.Request) {
	s.deleteFactor(w, r, s.deps.Methods.DeleteAuthenticator)
}

func (s *Server) deleteFactor(w http.ResponseWriter, r *http.Request, del func(ctx context.Context, c methods.Caller, userID, id string) error) {
	uid, err := s.userIDParam(r, "id")
	if err == nil {
		err = del(r.Context(), callerOf(r), uid, pathParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := s.userIDParam(r, "id")
	c := callerOf(r)
	if err == nil {
		err = s.deps.Methods.DeleteFido2(r.Context(), &c, uid, pathParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listMyFido2(w http.ResponseWriter, r *http.Request) {
	uid := sessionOf(r.Context()).Subject
	creds, err := s.deps.Methods.ListFido2(r.Context(), uid)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeFido2List(w, r, uid, creds)
}

func (s *Server) getMyFido2(w http.ResponseWriter, r *http.Request) {
	s.writeFido2(w, r, sessionOf(r.Context()).Subject, nil)
}

func (s *Server) renameMyFido2(w http.ResponseWriter, r *http.Request) {
	s.rename(w, r, nil, sessionOf(r.Context()).Subject, nil)
}

func (s *Server) deleteMyFido2(w http.ResponseWriter, r *http.Request) {
	err := s.deps.Methods.DeleteFido2(r.Context(), nil, sessionOf(r.Context()).Subject, pathParam(r, "methodId"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type tapSignInRequest struct {
	FlowToken           string `json:"flowToken"` // optional: continue a /signin/begin flow
	UserPrincipalName   string `json:"userPrincipalName"`
	TemporaryAccessPass string `json:"temporaryAccessPass"`
}

func (s *Server) signInTAP(w http.ResponseWriter, r *http.Request) {
	var req tapSignInRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if strings.TrimSpace(req.UserPrincipalName) == "" || req.TemporaryAccessPass == "" {
		writeError(w, r, apperr.Invalid(CodeBadJSON, "userPrincipalName and temporaryAccessPass are required"))
		return
	}
	out, err := s.deps.SignIn.TAP(r.Context(), signin.TAPRequest{
		UserPrincipalName: req.UserPrincipalName, TemporaryAccessPass: req.TemporaryAccessPass, FlowToken: req.FlowToken, IP: s.clientKey(r), UserAgent: r.UserAgent(),
	})
	s.writeOutcome(w, r, out, err)
}
