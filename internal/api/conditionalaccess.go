package api

import (
	"net/http"
	"strconv"

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
	caImpactReaders = append([]string{d.RoleReportsReader}, caReaders...)
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

// lockoutHold is the change lock a handler holds from its lockout check
// until it returns, after its write has committed or failed.
type lockoutHold struct{ unlock func() }

func (h *lockoutHold) release() {
	if h.unlock != nil {
		h.unlock()
		h.unlock = nil
	}
}

// guardLockout runs Conditional Access lockout protection on directory
// changes before they are made: the same rule and codes as saving a policy,
// ?force=true to go ahead anyway (which raises a security alert). It takes
// the change lock into hold first, so the check and the write that follows
// are not interleaved with another server's: the handler defers
// hold.release().
func (s *Server) guardLockout(r *http.Request, hold *lockoutHold, changes ...conditionalaccess.DirectoryChange) error {
	force, err := forceOf(r)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil // nothing the rule judges (a PATCH of a display name): no lock
	}
	if hold.unlock == nil {
		if hold.unlock, err = s.deps.ConditionalAccess.LockChanges(r.Context()); err != nil {
			return err
		}
	}
	for _, ch := range changes {
		if err := s.deps.ConditionalAccess.CheckDirectoryChange(r.Context(), caCallerOf(r), ch, force); err != nil {
			return err
		}
	}
	return nil
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

// allOf reads every page of a keyset-paged list: the lists read this way
// are capped small by Entra (195 CA policies, 15 custom strengths), so
// they are filtered and ordered in memory.
func allOf[T any](list func(d.Page) ([]T, error), idOf func(T) string) ([]T, error) {
	var out []T
	p := d.Page{Top: 999}
	for {
		page, err := list(p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < p.Top {
			return out, nil
		}
		p.After = idOf(page[len(page)-1])
	}
}

const (
	caContext       = "identity/conditionalAccess/policies"
	strengthContext = "policies/authenticationStrengthPolicies"
)

func (s *Server) listCAPolicies(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, caPoliciesRes)
	if !ok {
		return
	}
	all, err := allOf(func(p d.Page) ([]policy.ConditionalAccessPolicy, error) {
		return s.deps.ConditionalAccess.ListPolicies(r.Context(), p)
	}, func(p policy.ConditionalAccessPolicy) string { return p.ID })
	var page []policy.ConditionalAccessPolicy
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: caContext, next: next})
}

func (s *Server) createCAPolicy(w http.ResponseWriter, r *http.Request) {
	force, err := forceOf(r)
	var req policy.ConditionalAccessPolicy
	if err == nil {
		err = decodeGraph(r, "conditionalAccessPolicy", &req)
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
	s.created(w, r, out.ID, out, caContext)
}

func (s *Server) getCAPolicy(w http.ResponseWriter, r *http.Request) {
	out, err := s.deps.ConditionalAccess.GetPolicy(r.Context(), pathParam(r, "id"))
	s.getEntity(w, r, out, err, caContext)
}

func (s *Server) updateCAPolicy(w http.ResponseWriter, r *http.Request) {
	force, err := forceOf(r)
	var body []byte
	if err == nil {
		body, err = decodeGraphPatch(r, "conditionalAccessPolicy", &policy.ConditionalAccessPolicy{})
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.UpdatePolicy(r.Context(), caCallerOf(r), pathParam(r, "id"), body, force)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, out, caContext)
}

func (s *Server) deleteCAPolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.ConditionalAccess.DeletePolicy(r.Context(), pathParam(r, "id")); err != nil {
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
	q, ok := listQuery(w, r, strengthsRes)
	if !ok {
		return
	}
	all, err := allOf(func(p d.Page) ([]policy.AuthenticationStrengthPolicy, error) {
		return s.deps.ConditionalAccess.ListStrengths(r.Context(), p)
	}, func(st policy.AuthenticationStrengthPolicy) string { return st.ID })
	var page []policy.AuthenticationStrengthPolicy
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: strengthContext, next: next})
}

func (s *Server) createStrength(w http.ResponseWriter, r *http.Request) {
	var req policy.AuthenticationStrengthPolicy
	if err := decodeGraph(r, "authenticationStrengthPolicy", &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.CreateStrength(r.Context(), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, out.ID, out, strengthContext)
}

func (s *Server) getStrength(w http.ResponseWriter, r *http.Request) {
	out, err := s.deps.ConditionalAccess.GetStrength(r.Context(), pathParam(r, "id"))
	s.getEntity(w, r, out, err, strengthContext)
}

func (s *Server) updateStrength(w http.ResponseWriter, r *http.Request) {
	body, err := decodeGraphPatch(r, "authenticationStrengthPolicy", &policy.AuthenticationStrengthPolicy{})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.UpdateStrength(r.Context(), pathParam(r, "id"), body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, out, strengthContext)
}

func (s *Server) deleteStrength(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.ConditionalAccess.DeleteStrength(r.Context(), pathParam(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

const locationContext = "identity/conditionalAccess/namedLocations"

func (s *Server) listNamedLocations(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, namedLocationsRes)
	if !ok {
		return
	}
	all, err := s.deps.ConditionalAccess.ListNamedLocations(r.Context())
	var page []policy.NamedLocation
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: locationContext, next: next})
}

// createNamedLocation: Graph requires @odata.type (the base type is
// abstract), so the body is checked against namedLocation and its
// @odata.type must name one of the two concrete kinds.
func (s *Server) createNamedLocation(w http.ResponseWriter, r *http.Request) {
	var req policy.NamedLocation
	if err := decodeGraph(r, "namedLocation", &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.ConditionalAccess.CreateNamedLocation(r.Context(), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, out.ID, out, locationContext)
}

func (s *Server) getNamedLocation(w http.ResponseWriter, r *http.Request) {
	out, err := s.deps.ConditionalAccess.GetNamedLocation(r.Context(), pathParam(r, "id"))
	s.getEntity(w, r, out, err, locationContext)
}

func (s *Server) updateNamedLocation(w http.ResponseWriter, r *http.Request) {
	body, err := decodeGraphPatch(r, "namedLocation", &policy.NamedLocation{})
	var out policy.NamedLocation
	if err == nil {
		out, err = s.deps.ConditionalAccess.UpdateNamedLocation(r.Context(), pathParam(r, "id"), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, out, locationContext)
}

func (s *Server) deleteNamedLocation(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.ConditionalAccess.DeleteNamedLocation(r.Context(), pathParam(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) strengthUsage(w http.ResponseWriter, r *http.Request) {
	u, err := s.deps.ConditionalAccess.StrengthUsage(r.Context(), pathParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.contextURL(r, "microsoft.graph.authenticationStrengthUsage"), "mfa": u.MFA, "none": u.None})
}

type updateAllowedCombinationsRequest struct {
	AllowedCombinations []string `json:"allowedCombinations"`
}

func (s *Server) updateAllowedCombinations(w http.ResponseWriter, r *http.Request) {
	var req updateAllowedCombinationsRequest
	err := decodeJSON(r, &req)
	var out conditionalaccess.UpdateAllowedCombinationsResult
	if err == nil {
		out, err = s.deps.ConditionalAccess.UpdateAllowedCombinations(r.Context(), pathParam(r, "id"), req.AllowedCombinations)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAuthenticationMethodModes(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, methodModesRes)
	if !ok {
		return
	}
	page, _, _, err := pageInMemory(conditionalaccess.AuthenticationMethodModes(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: "policies/authenticationStrengthPolicies/authenticationMethodModes"})
}

func (s *Server) listCombinationConfigurations(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, methodsRes)
	if !ok {
		return
	}
	st, err := s.deps.ConditionalAccess.GetStrength(r.Context(), pathParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, st.CombinationConfigurations, q, listOut{context: strengthContext + "('" + st.ID + "')/combinationConfigurations"})
}

func combinationContext(strengthID string) string {
	return strengthContext + "('" + strengthID + "')/combinationConfigurations"
}

// createCombinationConfiguration is POST .../combinationConfigurations: a
// fido2CombinationConfiguration (allowedAAGUIDs) for the strength's fido2
// combination, 201 with its new id.
func (s *Server) createCombinationConfiguration(w http.ResponseWriter, r *http.Request) {
	id := pathParam(r, "id")
	var req policy.CombinationConfiguration
	err := decodeGraph(r, "authenticationCombinationConfiguration", &req)
	var out policy.CombinationConfiguration
	if err == nil {
		out, err = s.deps.ConditionalAccess.AddCombinationConfiguration(r.Context(), id, req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.created(w, r, out.ID, out, combinationContext(id))
}

func (s *Server) getCombinationConfiguration(w http.ResponseWriter, r *http.Request) {
	id := pathParam(r, "id")
	out, err := s.deps.ConditionalAccess.GetCombinationConfiguration(r.Context(), id, pathParam(r, "configId"))
	s.getEntity(w, r, out, err, combinationContext(id))
}

func (s *Server) updateCombinationConfiguration(w http.ResponseWriter, r *http.Request) {
	id := pathParam(r, "id")
	body, err := decodeGraphPatch(r, "authenticationCombinationConfiguration", &policy.CombinationConfiguration{})
	var out policy.CombinationConfiguration
	if err == nil {
		out, err = s.deps.ConditionalAccess.UpdateCombinationConfiguration(r.Context(), id, pathParam(r, "configId"), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, out, combinationContext(id))
}

func (s *Server) deleteCombinationConfiguration(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.ConditionalAccess.DeleteCombinationConfiguration(r.Context(), pathParam(r, "id"), pathParam(r, "configId")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
