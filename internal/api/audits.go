package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// AuditLog reads the directory audit log (internal/store.Audits).
type AuditLog interface {
	ListDirectoryAudits(ctx context.Context, f audit.Filter, p signinlog.Page) ([]audit.DirectoryAudit, error)
	GetDirectoryAudit(ctx context.Context, id string) (audit.DirectoryAudit, error)
}

func (s *Server) listDirectoryAudits(w http.ResponseWriter, r *http.Request) {
	q, ok := listQuery(w, r, audit.Resource)
	if !ok {
		return
	}
	p, err := keysetPageOf(q)
	var f audit.Filter
	if err == nil {
		f, err = audit.FilterOf(q.Filter, r.URL.Query().Get("targetId"))
	}
	var list []audit.DirectoryAudit
	if err == nil {
		list, err = s.deps.Audits.ListDirectoryAudits(r.Context(), f, p)
	}
	writeKeysetList(s, w, r, q, p, list, err, func(a audit.DirectoryAudit) (time.Time, string) { return a.ActivityDateTime, a.ID }, "auditLogs/directoryAudits")
}

func (s *Server) getDirectoryAudit(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var a audit.DirectoryAudit
	if err == nil {
		a, err = s.deps.Audits.GetDirectoryAudit(r.Context(), id)
	}
	s.getEntity(w, r, a, err, "auditLogs/directoryAudits")
}
