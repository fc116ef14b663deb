package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/reports"
)

// RegistrationReports reads the users' registrations (internal/store.Reports).
type RegistrationReports interface {
	RegistrationFacts(ctx context.Context, now time.Time) ([]reports.Facts, error)
}

func (s *Server) registrationDetails(ctx context.Context) ([]reports.UserRegistrationDetails, error) {
	facts, err := s.deps.Reports.RegistrationFacts(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]reports.UserRegistrationDetails, len(facts))
	for i, f := range facts {
		out[i] = reports.Details(f)
	}
	return out, nil
}

func (s *Server) listUserRegistrationDetails(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, reports.RegistrationResource)
	if !ok {
		return
	}
	all, err := s.registrationDetails(r.Context())
	var page []reports.UserRegistrationDetails
	var next string
	if err == nil {
		page, next, _, err = pageInMemory(all, q)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, page, q, listOut{context: "reports/authenticationMethods/userRegistrationDetails", next: next})
}

func (s *Server) getUserRegistrationDetails(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var all []reports.UserRegistrationDetails
	if err == nil {
		all, err = s.registrationDetails(r.Context())
	}
	var found reports.UserRegistrationDetails
	if err == nil {
		err = apperr.NotFound(apperr.CodeNotFound, "no user %s", id)
		for _, d := range all {
			if d.ID == id {
				found, err = d, nil
				break
			}
		}
	}
	s.getEntity(w, r, found, err, "reports/authenticationMethods/userRegistrationDetails")
}

// usersRegisteredByMethodArgs reads Graph's function-call segment:
// usersRegisteredByMethod, usersRegisteredByMethod() or
// usersRegisteredByMethod(includedUserTypes='all',includedUserRoles='all').
var usersRegisteredByMethodArgs = regexp.MustCompile(`^usersRegisteredByMethod(?:\((.*)\))?$`)

func (s *Server) usersRegisteredByMethod(w http.ResponseWriter, r *http.Request) {
	seg := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	m := usersRegisteredByMethodArgs.FindStringSubmatch(seg)
	roles, types := "all", "all"
	var err error
	if m == nil {
		err = apperr.NotFound(CodeRouteNotFound, "no resource at %s", r.URL.Path)
	} else if m[1] != "" {
		for _, arg := range strings.Split(m[1], ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(arg), "=")
			v = strings.Trim(v, "'")
			switch {
			case ok && k == "includedUserRoles" && (v == "all" || v == "privilegedAdmin" || v == "admin" || v == "user"):
				roles = v
			case ok && k == "includedUserTypes" && (v == "all" || v == "member" || v == "guest"):
				types = v
			default:
				err = apperr.Invalid(odata.CodeBadRequest, "usersRegisteredByMethod takes includedUserRoles ('all', 'privilegedAdmin', 'admin', 'user') and includedUserTypes ('all', 'member', 'guest'), not %q", arg)
			}
		}
	}
	if err == nil && len(r.URL.RawQuery) > 0 {
		err = apperr.Invalid(odata.CodeUnsupportedQuery, "usersRegisteredByMethod takes no query options")
	}
	var all []reports.UserRegistrationDetails
	if err == nil {
		all, err = s.registrationDetails(r.Context())
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Context string `json:"@odata.context"`
		reports.MethodSummary
	}{s.contextURL(r, "microsoft.graph.userRegistrationMethodSummary"), reports.UsersByMethod(all, roles, types)})
}
