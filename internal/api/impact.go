package api

import (
	"net/http"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// policyImpact is GET /identity/conditionalAccess/policies/{id}/impact
// [?startDateTime=&endDateTime=] (RFC 3339; default the last 7 days).
// The only query parameters it reads are those two: any other is refused.
func (s *Server) policyImpact(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var start, end time.Time
	for k, v := range r.URL.Query() {
		if err != nil {
			break
		}
		var t time.Time
		switch k {
		case "startDateTime", "endDateTime":
			if len(v) != 1 {
				err = apperr.Invalid(odata.CodeBadRequest, "%s is given more than once", k).WithTarget(k)
				break
			}
			if t, err = time.Parse(time.RFC3339, v[0]); err != nil {
				err = apperr.Invalid(odata.CodeBadRequest, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", k).WithTarget(k)
			} else if k == "startDateTime" {
				start = t
			} else {
				end = t
			}
		default:
			err = apperr.Invalid(odata.CodeUnsupportedQuery, "the impact report takes startDateTime and endDateTime only, not %s", k).WithTarget(k)
		}
	}
	if err == nil {
		start, end, err = signinlog.ImpactWindow(start, end, time.Now())
	}
	var rep signinlog.PolicyImpact
	if err == nil {
		rep, err = s.deps.SignInLogs.PolicyImpact(r.Context(), id, start, end)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
