package api

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	d "github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tap"
)

// Least-privilege role sets of the authentication methods calls.
var (
	methodPolicyReaders = []string{d.RoleAuthenticationPolicyAdministrator, d.RoleGlobalReader, d.RoleSecurityAdministrator, d.RoleSecurityReader}
	methodPolicyWriters = []string{d.RoleAuthenticationPolicyAdministrator}
	userMethodReaders   = []string{d.RoleAuthenticationAdministrator, d.RolePrivilegedAuthenticationAdministrator, d.RoleGlobalReader,
		d.RoleSecurityAdministrator, d.RoleSecurityReader}
	userMethodWriters = []string{d.RoleAuthenticationAdministrator, d.RolePrivilegedAuthenticationAdministrator}
)

// decodePatch checks the body against the resource's properties and types
// (unknown ones are refused) and returns it raw, so the service can apply
// only the properties present, as Graph's PATCH does.
func decodePatch(r *http.Request, typed any) ([]byte, error) {
	var buf bytes.Buffer
	r.Body = io.NopCloser(io.TeeReader(r.Body, &buf))
	if err := decodeJSON(r, typed); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func callerOf(r *http.Request) methods.Caller {
	if c := claimsOf(r.Context()); c != nil {
		return methods.Caller{Roles: c.Roles}
	}
	return methods.Caller{}
}

func (s *Server) getFido2Config(w http.ResponseWriter, r *http.Request) {
	cfg, _, err := s.deps.Methods.Fido2Config(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) patchFido2Config(w http.ResponseWriter, r *http.Request) {
	body, err := decodePatch(r, &profiles.Fido2AuthenticationMethodConfiguration{})
	var cfg profiles.Fido2AuthenticationMethodConfiguration
	if err == nil {
		cfg, err = s.deps.Methods.PatchFido2(r.Context(), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) getTAPConfig(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.deps.Methods.TAPConfig(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) patchTAPConfig(w http.ResponseWriter, r *http.Request) {
	body, err := decodePatch(r, &tap.MethodConfiguration{})
	var cfg tap.MethodConfiguration
	if err == nil {
		cfg, err = s.deps.Methods.PatchTAP(r.Context(), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) issueTAP(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	var req tap.CreateRequest
	if err == nil && r.ContentLength != 0 {
		err = decodeJSON(r, &req)
	}
	var out tap.TemporaryAccessPassAuthenticationMethod
	if err == nil {
		out, err = s.deps.Methods.IssueTAP(r.Context(), callerOf(r), uid, req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+out.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listTAPs(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	var list []tap.TemporaryAccessPassAuthenticationMethod
	if err == nil {
		list, err = s.deps.Methods.ListTAPs(r.Context(), uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, collection[tap.TemporaryAccessPassAuthenticationMethod]{Value: list})
}

func (s *Server) getTAP(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	var out tap.TemporaryAccessPassAuthenticationMethod
	if err == nil {
		out, err = s.deps.Methods.GetTAP(r.Context(), uid, chi.URLParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteTAP(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	if err == nil {
		err = s.deps.Methods.DeleteTAP(r.Context(), callerOf(r), uid, chi.URLParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeFido2List(w http.ResponseWriter, creds []ceremony.Credential) {
	out := make([]profiles.Fido2AuthenticationMethod, len(creds))
	for i, c := range creds {
		out[i] = Fido2Method(c)
	}
	writeJSON(w, http.StatusOK, collection[profiles.Fido2AuthenticationMethod]{Value: out})
}

func (s *Server) listFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	var creds []ceremony.Credential
	if err == nil {
		creds, err = s.deps.Methods.ListFido2(r.Context(), uid)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeFido2List(w, creds)
}

func (s *Server) getFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	s.writeFido2(w, r, uid, err)
}

func (s *Server) writeFido2(w http.ResponseWriter, r *http.Request, uid string, err error) {
	var c ceremony.Credential
	if err == nil {
		c, err = s.deps.Methods.GetFido2(r.Context(), uid, chi.URLParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Fido2Method(c))
}

// renameRequest is the lab's rename body: Graph has no way to rename a
// fido2AuthenticationMethod, so this PATCH is an extension.
type renameRequest struct {
	DisplayName string `json:"displayName"`
}

func (s *Server) renameFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
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
		c, err = s.deps.Methods.RenameFido2(r.Context(), caller, uid, chi.URLParam(r, "methodId"), req.DisplayName)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Fido2Method(c))
}

func (s *Server) deleteFido2(w http.ResponseWriter, r *http.Request) {
	uid, err := idParam(r, "id")
	c := callerOf(r)
	if err == nil {
		err = s.deps.Methods.DeleteFido2(r.Context(), &c, uid, chi.URLParam(r, "methodId"))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listMyFido2(w http.ResponseWriter, r *http.Request) {
	creds, err := s.deps.Methods.ListFido2(r.Context(), sessionOf(r.Context()).Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeFido2List(w, creds)
}

func (s *Server) getMyFido2(w http.ResponseWriter, r *http.Request) {
	s.writeFido2(w, r, sessionOf(r.Context()).Subject, nil)
}

func (s *Server) renameMyFido2(w http.ResponseWriter, r *http.Request) {
	s.rename(w, r, nil, sessionOf(r.Context()).Subject, nil)
}

func (s *Server) deleteMyFido2(w http.ResponseWriter, r *http.Request) {
	err := s.deps.Methods.DeleteFido2(r.Context(), nil, sessionOf(r.Context()).Subject, chi.URLParam(r, "methodId"))
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
		UserPrincipalName: req.UserPrincipalName, TemporaryAccessPass: req.TemporaryAccessPass, FlowToken: req.FlowToken, IP: clientKey(r),
	})
	s.writeOutcome(w, r, out, err)
}
