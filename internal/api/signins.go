package api

import (
	"net/http"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	d "github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/risk"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// Least-privilege role sets for reports and Identity Protection, following
// Entra's built-in roles (Global Administrator is admitted by allow). Kept
// here, beside the only routes that use them.
var (
	signInReaders = []string{d.RoleReportsReader, d.RoleSecurityReader, d.RoleSecurityAdministrator, d.RoleGlobalReader}
	riskReaders   = []string{d.RoleSecurityReader, d.RoleSecurityAdministrator, d.RoleGlobalReader}
	riskWriters   = []string{d.RoleSecurityAdministrator}
	alertReaders  = []string{d.RoleSecurityReader, d.RoleSecurityAdministrator}
	alertWriters  = []string{d.RoleSecurityAdministrator}
)

// keysetPageOf reads $top and a keyset $skiptoken (newest-first lists).
func keysetPageOf(r *http.Request) (signinlog.Page, error) {
	top, err := topOf(r)
	p := signinlog.Page{Top: top}
	if err != nil {
		return p, err
	}
	if v := r.URL.Query().Get("$skiptoken"); v != "" {
		c, err := signinlog.DecodeCursor(v)
		if err != nil {
			return p, err
		}
		p.After = &c
	}
	return p, nil
}

func (s *Server) listSignIns(w http.ResponseWriter, r *http.Request) {
	p, err := keysetPageOf(r)
	var f signinlog.Filter
	if err == nil && r.URL.Query().Has("$filter") {
		f, err = signinlog.ParseFilter(r.URL.Query().Get("$filter"))
	}
	var list []signinlog.SignIn
	if err == nil {
		list, err = s.deps.SignInLogs.ListSignIns(r.Context(), f, p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, d.Page{Top: p.Top}, func(si signinlog.SignIn) string {
		return signinlog.CursorAfter(si.CreatedDateTime, si.ID).Encode()
	})
}

func (s *Server) getSignIn(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var si signinlog.SignIn
	if err == nil {
		si, err = s.deps.SignInLogs.GetSignIn(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, si)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	p, err := keysetPageOf(r)
	if err == nil && r.URL.Query().Has("$filter") {
		err = apperr.Invalid(CodeBadQuery, "$filter is not supported on alerts_v2").WithTarget("$filter")
	}
	var list []signinlog.Alert
	if err == nil {
		list, err = s.deps.SignInLogs.ListAlerts(r.Context(), p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, d.Page{Top: p.Top}, func(a signinlog.Alert) string {
		return signinlog.CursorAfter(a.CreatedDateTime, a.ID).Encode()
	})
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var a signinlog.Alert
	if err == nil {
		a, err = s.deps.SignInLogs.GetAlert(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type updateAlertRequest struct {
	Status *string `json:"status"`
}

func (s *Server) updateAlert(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var req updateAlertRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	if err == nil && req.Status == nil {
		err = apperr.Invalid(signinlog.CodeInvalidAlertStatus, "status is required: new, inProgress or resolved").WithTarget("status")
	}
	var a signinlog.Alert
	if err == nil {
		a, err = s.deps.SignInLogs.SetAlertStatus(r.Context(), id, *req.Status, time.Now().UTC())
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) listRiskyUsers(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err == nil && r.URL.Query().Has("$filter") {
		err = apperr.Invalid(CodeBadQuery, "$filter is not supported on riskyUsers").WithTarget("$filter")
	}
	var list []risk.RiskyUser
	if err == nil {
		list, err = s.deps.Risk.Store.List(r.Context(), p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, p, func(u risk.RiskyUser) string { return u.ID })
}

func (s *Server) getRiskyUser(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var u risk.RiskyUser
	if err == nil {
		u, err = s.deps.Risk.Store.Get(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

type userIDsRequest struct {
	UserIDs []string `json:"userIds"`
}

func (s *Server) dismissRiskyUsers(w http.ResponseWriter, r *http.Request) {
	var req userIDsRequest
	err := decodeJSON(r, &req)
	if err == nil {
		err = s.deps.Risk.Dismiss(r.Context(), req.UserIDs)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) confirmCompromisedUsers(w http.ResponseWriter, r *http.Request) {
	var req userIDsRequest
	err := decodeJSON(r, &req)
	if err == nil {
		err = s.deps.Risk.ConfirmCompromised(r.Context(), req.UserIDs)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type setRiskLevelRequest struct {
	RiskLevel string `json:"riskLevel"`
}

// setRiskLevel is a lab extension (Graph has no such action): it stands in
// for the risk detections that raise a user's risk in Entra.
func (s *Server) setRiskLevel(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var req setRiskLevelRequest
	if err == nil {
		err = decodeJSON(r, &req)
	}
	var u risk.RiskyUser
	if err == nil {
		u, err = s.deps.Risk.SetRiskLevel(r.Context(), id, req.RiskLevel)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}
