package api

import (
	"net/http"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	d "github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
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

// keysetPageOf turns validated options into a keyset page (newest-first lists).
func keysetPageOf(q odata.Query) (signinlog.Page, error) {
	p := signinlog.Page{Top: q.Top}
	if q.SkipToken != "" {
		c, err := signinlog.DecodeCursor(q.SkipToken)
		if err != nil {
			return p, err
		}
		p.After = &c
	}
	return p, nil
}

// writeKeysetList answers one page of a newest-first keyset list: when the
// page is full, the next link starts after its last item (at gives an
// item's position: its time and id).
func writeKeysetList[T any](s *Server, w http.ResponseWriter, r *http.Request, q odata.Query, p signinlog.Page, list []T, err error,
	at func(T) (time.Time, string), context string) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	next := ""
	if n := len(list); n > 0 && n == p.Top {
		next = signinlog.CursorAfter(at(list[n-1])).Encode()
	}
	s.writeList(w, r, list, q, listOut{context: context, next: next})
}

func (s *Server) listSignIns(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, signinlog.Resource)
	if !ok {
		return
	}
	p, err := keysetPageOf(q)
	var f signinlog.Filter
	if err == nil {
		f, err = signinlog.FilterOf(q.Filter)
	}
	var list []signinlog.SignIn
	if err == nil {
		list, err = s.deps.SignInLogs.ListSignIns(r.Context(), f, p)
	}
	if apiVersion(r) != "beta" {
		for i := range list {
			list[i].OmitBeta()
		}
	}
	writeKeysetList(s, w, r, q, p, list, err, func(si signinlog.SignIn) (time.Time, string) { return si.CreatedDateTime, si.ID }, "auditLogs/signIns")
}

func (s *Server) getSignIn(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var si signinlog.SignIn
	if err == nil {
		si, err = s.deps.SignInLogs.GetSignIn(r.Context(), id)
	}
	if apiVersion(r) != "beta" {
		si.OmitBeta()
	}
	s.getEntity(w, r, si, err, "auditLogs/signIns")
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, alertsRes)
	if !ok {
		return
	}
	p, err := keysetPageOf(q)
	var list []signinlog.Alert
	if err == nil {
		list, err = s.deps.SignInLogs.ListAlerts(r.Context(), p)
	}
	writeKeysetList(s, w, r, q, p, list, err, func(a signinlog.Alert) (time.Time, string) { return a.CreatedDateTime, a.ID }, "security/alerts_v2")
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var a signinlog.Alert
	if err == nil {
		a, err = s.deps.SignInLogs.GetAlert(r.Context(), id)
	}
	s.getEntity(w, r, a, err, "security/alerts_v2")
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
	q, ok := listQuery(w, r, riskyUsersRes)
	if !ok {
		return
	}
	dq, err := dirQueryOf(q)
	var list []risk.RiskyUser
	if err == nil {
		list, err = s.deps.Risk.Store.List(r.Context(), dq)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	last := ""
	if len(list) > 0 {
		last = list[len(list)-1].ID
	}
	s.writeList(w, r, list, q, listOut{context: "identityProtection/riskyUsers", next: nextToken(dq, len(list), last)})
}

func (s *Server) getRiskyUser(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var u risk.RiskyUser
	if err == nil {
		u, err = s.deps.Risk.Store.Get(r.Context(), id)
	}
	s.getEntity(w, r, u, err, "identityProtection/riskyUsers")
}

func (s *Server) listRiskyUserHistory(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, riskHistoryRes)
	if !ok {
		return
	}
	id, err := idParam(r, "id")
	var after *risk.HistoryCursor
	if err == nil && q.SkipToken != "" {
		c, ok := risk.DecodeHistoryCursor(q.SkipToken)
		if !ok {
			err = badSkipToken()
		}
		after = &c
	}
	var page []risk.HistoryItem
	var next *risk.HistoryCursor
	if err == nil {
		// Keyset pages from the store; $filter is matched on each item read.
		page, next, err = s.deps.Risk.History(r.Context(), id, after, q.Top, func(h risk.HistoryItem) (bool, error) {
			o, err := odata.ToObject(h)
			return err == nil && odata.Match(q.Filter, o), err
		})
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	var token string
	if next != nil {
		token = next.Encode()
	}
	s.writeList(w, r, page, q, listOut{context: "identityProtection/riskyUsers('" + id + "')/history", next: token})
}

func (s *Server) getRiskyUserHistoryItem(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var h risk.HistoryItem
	if err == nil {
		h, err = s.deps.Risk.HistoryItem(r.Context(), id, pathParam(r, "historyId"))
	}
	s.getEntity(w, r, h, err, "identityProtection/riskyUsers('"+id+"')/history")
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
