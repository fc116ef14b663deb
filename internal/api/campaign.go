package api

import (
	"net/http"

	"github.com/rpserver/rpserver/internal/methods"
)

// getMethodsPolicy is GET /policies/authenticationMethodsPolicy: the
// registration campaign and the method configurations the lab models.
func (s *Server) getMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Methods.AuthenticationMethodsPolicy(r.Context())
	s.getEntity(w, r, p, err, "policies/authenticationMethodsPolicy")
}

// patchMethodsPolicy answers 204 like the method configurations' PATCH
// (200 with the policy under Prefer: return=representation).
func (s *Server) patchMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	body, err := decodeGraphPatch(r, "authenticationMethodsPolicy", &methods.PolicyPatch{})
	var p methods.Policy
	if err == nil {
		p, err = s.deps.Methods.PatchPolicy(r.Context(), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, p, "policies/authenticationMethodsPolicy")
}
