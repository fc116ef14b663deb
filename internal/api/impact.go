package api

import (
	"net/http"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/rollout"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// policyImpact is GET /identity/conditionalAccess/policies/{id}/impact
// [?startDateTime=&endDateTime=] (RFC 3339; default the last 7 days).
func (s *Server) policyImpact(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var start, end time.Time
	if err == nil {
		start, end, err = reportWindow(r, "the impact report")
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

// groupRollout is GET /groups/{id}/passkeyRollout[?startDateTime=&endDateTime=]
// (a lab extension, see internal/rollout).
func (s *Server) groupRollout(w http.ResponseWriter, r *http.Request) {
	start, end, err := reportWindow(r, "the rollout view")
	var rep rollout.Report
	if err == nil {
		rep, err = s.deps.Rollout.Report(r.Context(), pathParam(r, "id"), start, end)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// reportWindow reads a report's startDateTime and endDateTime (RFC 3339;
// zero when absent). They are the only query parameters a report reads:
// any other is refused.
func reportWindow(r *http.Request, report string) (start, end time.Time, err error) {
	for k, v := range r.URL.Query() {
		var t time.Time
		switch k {
		case "startDateTime", "endDateTime":
			if len(v) != 1 {
				return start, end, apperr.Invalid(odata.CodeBadRequest, "%s is given more than once", k).WithTarget(k)
			}
			if t, err = time.Parse(time.RFC3339, v[0]); err != nil {
				return start, end, apperr.Invalid(odata.CodeBadRequest, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", k).WithTarget(k)
			}
			if k == "startDateTime" {
				start = t
			} else {
				end = t
			}
		default:
			return start, end, apperr.Invalid(odata.CodeUnsupportedQuery, "%s takes startDateTime and endDateTime only, not %s", report, k).WithTarget(k)
		}
	}
	return start, end, nil
}
