package api

import (
	"net/http"

	"github.com/rpserver/rpserver/internal/authcontext"
	"github.com/rpserver/rpserver/internal/odata"
)

const authContextsContext = "identity/conditionalAccess/authenticationContextClassReferences"

// List authenticationContextClassReferences: $filter, $select, $top.
var authContextsRes = &odata.Resource{Name: "authenticationContextClassReference", Select: true, Top: true,
	Filter: []odata.Property{strProp("id"), strProp("displayName"), boolProp("isAvailable")}}

func (s *Server) listAuthContexts(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, authContextsRes)
	if !ok {
		return
	}
	all, err := s.deps.AuthContexts.Store.ListAuthenticationContexts(r.Context())
	var page []authcontext.Context
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: authContextsContext, next: next})
}

func (s *Server) getAuthContext(w http.ResponseWriter, r *http.Request) {
	out, err := s.deps.AuthContexts.Get(r.Context(), pathParam(r, "id"))
	s.getEntity(w, r, out, err, authContextsContext)
}

// putAuthContext is Graph's PATCH, which creates the context when its id
// is new (201) and updates it otherwise (204, or 200 with Prefer:
// return=representation).
func (s *Server) putAuthContext(w http.ResponseWriter, r *http.Request) {
	var p authcontext.Patch
	if err := decodeGraph(r, "authenticationContextClassReference", &p); err != nil {
		writeError(w, r, err)
		return
	}
	out, created, err := s.deps.AuthContexts.Put(r.Context(), pathParam(r, "id"), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if created {
		s.writeEntity(w, r, http.StatusCreated, out, authContextsContext, nil)
		return
	}
	s.patched(w, r, out, authContextsContext)
}

func (s *Server) deleteAuthContext(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.AuthContexts.Delete(r.Context(), pathParam(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
