package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
)

// roleGate is the handler allow puts in front of a route. It keeps its
// role set so the route table can be read back (GET /admin/permissions):
// the admin pages learn which views a token may change from the server
// instead of a copy of the allow lists that would drift.
type roleGate struct {
	roles map[string]bool
	next  http.Handler
}

func (g roleGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c := claimsOf(r.Context()); c != nil {
		for _, role := range c.Roles {
			if g.roles[role] {
				g.next.ServeHTTP(w, r)
				return
			}
		}
	}
	writeError(w, r, apperr.Forbidden(CodeAuthorizationError, "insufficient privileges to complete the operation: this call needs one of the roles %s", strings.Join(sortedKeys(g.roles), ", ")))
}

// routePermission is one admin API route and the roles allow admits to it
// (Global Administrator included); Allowed is whether the caller's token
// holds one of them.
type routePermission struct {
	Method  string   `json:"method"`
	Path    string   `json:"path"`
	Roles   []string `json:"roles"`
	Allowed bool     `json:"allowed"`
}

// graphPermissions reads the role gates back from the mounted router: the
// /v1.0 routes (/beta has the same table), paths as routes.go spells them
// without the version. A middleware is recognised as allow's by applying
// it to a placeholder and looking at what it returns; middlewares only
// wrap, so this runs nothing.
func graphPermissions(r chi.Routes) []routePermission {
	var out []routePermission
	probe := http.NotFoundHandler()
	_ = chi.Walk(r, func(method, route string, _ http.Handler, mws ...func(http.Handler) http.Handler) error {
		p, ok := strings.CutPrefix(route, "/v1.0/")
		if !ok {
			return nil
		}
		rp := routePermission{Method: method, Path: "/" + p, Roles: []string{}}
		for _, mw := range mws {
			if g, ok := mw(probe).(roleGate); ok {
				rp.Roles = sortedKeys(g.roles)
			}
		}
		out = append(out, rp)
		return nil
	})
	slices.SortFunc(out, func(a, b routePermission) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

type permissionsResponse struct {
	Roles []string          `json:"roles"`
	Value []routePermission `json:"value"`
}

// adminPermissions answers the admin API's route table with, per route,
// whether the caller's roles may call it. A route without a role gate
// (none today) is open to any admin token.
func (s *Server) adminPermissions(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery != "" {
		writeError(w, r, apperr.Invalid(odata.CodeBadRequest, "/admin/permissions takes no query options"))
		return
	}
	c := claimsOf(r.Context())
	table := s.permissions()
	out := permissionsResponse{Roles: append([]string{}, c.Roles...), Value: make([]routePermission, len(table))}
	for i, rp := range table {
		rp.Allowed = len(rp.Roles) == 0 || slices.ContainsFunc(c.Roles, func(role string) bool { return slices.Contains(rp.Roles, role) })
		out.Value[i] = rp
	}
	writeJSON(w, http.StatusOK, out)
}

// permissions is the route table, read once (the router is complete by
// the first request).
func (s *Server) permissions() []routePermission {
	s.permissionsOnce.Do(func() { s.permissionTable = graphPermissions(s.router) })
	return s.permissionTable
}
