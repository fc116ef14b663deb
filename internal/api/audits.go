package api

import (
	"context"
	"net/http"

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
	if err != nil {
		writeError(w, r, err)
		return
	}
	next := ""
	if n := len(list); n > 0 && n == p.Top {
		next = signinlog.CursorAfter(list[n-1].ActivityDateTime, list[n-1].ID).Encode()
	}
	s.writeList(w, r, list, q, listOut{context: "auditLogs/directoryAudits", next: next})
}

func (s *Server) getDirectoryAudit(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	var a audit.DirectoryAudit
	if err == nil {
		a, err = s.deps.Audits.GetDirectoryAudit(r.Context(), id)
	}
	s.getEntity(w, r, a, err, "auditLogs/directoryAudits")
}
