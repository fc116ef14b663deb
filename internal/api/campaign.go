package api

import (
	"encoding/json"
	"net/http"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods"
)

// getMethodsPolicy is GET /policies/authenticationMethodsPolicy: the
// registration campaign and the method configurations the lab models.
func (s *Server) getMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Methods.AuthenticationMethodsPolicy(r.Context())
	s.getEntity(w, r, forVersion(r, p), err, "policies/authenticationMethodsPolicy")
}

// forVersion leaves systemCredentialPreferences, a beta property, out of
// /v1.0 answers.
func forVersion(r *http.Request, p methods.Policy) methods.Policy {
	if apiVersion(r) != "beta" {
		p.SystemCredentialPreferences = nil
	}
	return p
}

// patchMethodsPolicy answers 204 like the method configurations' PATCH
// (200 with the policy under Prefer: return=representation).
func (s *Server) patchMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	var patch methods.PolicyPatch
	body, err := decodeGraphPatch(r, "authenticationMethodsPolicy", &patch)
	if err == nil && apiVersion(r) != "beta" && hasProperty(body, "systemCredentialPreferences") {
		err = apperr.Invalid(CodeUnknownProperty, "systemCredentialPreferences is a beta property: PATCH /beta/policies/authenticationMethodsPolicy").WithTarget("systemCredentialPreferences")
	}
	var p methods.Policy
	if err == nil {
		p, err = s.deps.Methods.PatchPolicy(r.Context(), body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.patched(w, r, forVersion(r, p), "policies/authenticationMethodsPolicy")
}

// hasProperty reports whether the JSON object body sets name at its top
// level (a decoded body: malformed JSON was refused before).
func hasProperty(body []byte, name string) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return false
	}
	_, ok := fields[name]
	return ok
}
