package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	d "github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// Least privilege for Conditional Access, after Entra's role definitions.
// Authentication Policy Administrators manage authentication strengths (and
// methods) but not Conditional Access policies.
var (
	caWriters       = []string{d.RoleConditionalAccessAdministrator, d.RoleSecurityAdministrator}
	caReaders       = []string{d.RoleConditionalAccessAdministrator, d.RoleSecurityAdministrator, d.RoleGlobalReader, d.RoleSecurityReader}
	strengthWriters = []string{d.RoleConditionalAccessAdministrator, d.RoleSecurityAdministrator, d.RoleAuthenticationPolicyAdministrator}
	strengthReaders = append(append([]string{}, caReaders...), d.RoleAuthenticationPolicyAdministrator)
)

// caCallerOf describes the admin making the call for lockout protection: the
// token's sub is their user id, wids their role template ids (derived from
// the role names when a token carries none).
func caCallerOf(r *http.Request) conditionalaccess.Caller {
	c := claimsOf(r.Context())
	if c == nil {
		return conditionalaccess.Caller{}
	}
	var caller conditionalaccess.Caller
	if d.ValidateID(c.Subject) == nil {
		caller.UserID = c.Subject
	}
	caller.RoleTemplateIDs = c.Wids
	if len(caller.RoleTemplateIDs) == 0 {
		for _, name := range c.Roles {
			if role, ok := d.RoleByName(name); ok {
				caller.RoleTemplateIDs = append(caller.RoleTemplateIDs, role.TemplateID)
			}
		}
	}
	for _, m := range c.AMR {
		if _, ok := policy.ParseMode(m); ok {
			caller.Methods = append(caller.Methods, policy.SatisfiedMethod{Mode: m})
		}
	}
	return caller
}

// forceOf reads the lab's ?force=true, which saves a policy despite lockout
// findings (Entra's portal has an "I understand" checkbox; Graph has none).
func forceOf(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("force")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, apperr.Invalid(CodeBadQuery, "force must be true or false").WithTarget("force")
	}
	return b, nil
}

// patchBody reads a PATCH body as raw JSON; the service merges it into the
// stored resource and decodes the result strictly.
func patchBody(r *http.Request) ([]byte, error) {
	var raw json.RawMessage
	if err := decodeJSON(r, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func created(w http.ResponseWriter, r *http.Request, id string, v any) {
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+id)
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listCAPolicies(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ps, err := s.deps.ConditionalAccess.ListPolicies(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, ps, p, func(p policy.ConditionalAccessPolicy) string { return p.ID })
}

func (s *Server) createCAPolicy(w http.ResponseWriter, r *http.Request) {
	force, err := forceOf(r)
	var req policy.ConditionalAccessPolicy
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.CreatePolicy(r.Context(), caCallerOf(r), req, force)
	if err != nil {
		writeError(w, r, err)
		return
	}
	created(w, r, out.ID, out)
}

func (s *Server) getCAPolicy(w http.ResponseWriter, r *http.Request) {
	out, err := s.deps.ConditionalAccess.GetPolicy(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateCAPolicy(w http.ResponseWriter, r *http.Request) {
	force, err := forceOf(r)
	var body []byte
	if err == nil {
		body, err = patchBody(r)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.UpdatePolicy(r.Context(), caCallerOf(r), chi.URLParam(r, "id"), body, force)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteCAPolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.ConditionalAccess.DeletePolicy(r.Context(), chi.URLParam(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) evaluateCA(w http.ResponseWriter, r *http.Request) {
	var req conditionalaccess.WhatIf
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	ev, err := s.deps.ConditionalAccess.Evaluate(r.Context(), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func (s *Server) listStrengths(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.ListStrengths(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, out, p, func(st policy.AuthenticationStrengthPolicy) string { return st.ID })
}

func (s *Server) createStrength(w http.ResponseWriter, r *http.Request) {
	var req policy.AuthenticationStrengthPolicy
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.CreateStrength(r.Context(), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	created(w, r, out.ID, out)
}

func (s *Server) getStrength(w http.ResponseWriter, r *http.Request) {
	out, err := s.deps.ConditionalAccess.GetStrength(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateStrength(w http.ResponseWriter, r *http.Request) {
	body, err := patchBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.UpdateStrength(r.Context(), chi.URLParam(r, "id"), body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteStrength(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.ConditionalAccess.DeleteStrength(r.Context(), chi.URLParam(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
