package api

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/rpserver/rpserver/internal/admission"
	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/dberr"
)

// CodeDatabaseUnavailable is answered (503, Retry-After) when the database
// is down, restarting or failing over: the request may be retried as is.
const CodeDatabaseUnavailable = "databaseUnavailable"

// graphError is Graph's error envelope.
type graphError struct {
	Error graphErrorBody `json:"error"`
}

type graphErrorBody struct {
	Code       string        `json:"code"`
	Message    string        `json:"message"`
	Target     string        `json:"target,omitempty"`
	Details    []errorDetail `json:"details,omitempty"`
	InnerError innerError    `json:"innerError"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

type innerError struct {
	Date      string `json:"date"`
	RequestID string `json:"request-id"`
}

var statusOf = map[apperr.Kind]int{
	apperr.KindInvalid:          http.StatusBadRequest,
	apperr.KindNotFound:         http.StatusNotFound,
	apperr.KindConflict:         http.StatusConflict,
	apperr.KindUnauthenticated:  http.StatusUnauthorized,
	apperr.KindForbidden:        http.StatusForbidden,
	apperr.KindTooLarge:         http.StatusRequestEntityTooLarge,
	apperr.KindRateLimited:      http.StatusTooManyRequests,
	apperr.KindUnavailable:      http.StatusServiceUnavailable,
	apperr.KindInternal:         http.StatusInternalServerError,
	apperr.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
}

// writeError is the single place errors become HTTP responses. Unclassified
// errors are logged with their cause and shown to the client only as an
// internal error with the request id, so nothing internal leaks.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	reqID := middleware.GetReqID(r.Context())
	e, ok := apperr.As(err)
	if (!ok || e.Kind == apperr.KindInternal) && r.Context().Err() == nil && dberr.Unavailable(err) {
		e, ok = apperr.Unavailable(CodeDatabaseUnavailable, "the database cannot be reached right now; retry shortly"), true
	}
	if !ok {
		if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
			e = apperr.Unavailable("requestCancelled", "the request was cancelled or timed out")
		} else {
			e = &apperr.Error{Kind: apperr.KindInternal, Code: "InternalServerError", Message: "an internal error occurred; quote the request-id when reporting it"}
		}
	}
	status := statusOf[e.Kind]
	if status >= 500 && e.Code != admission.CodeServerBusy {
		slog.ErrorContext(r.Context(), "request failed", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		slog.DebugContext(r.Context(), "request refused", "request_id", reqID, "code", e.Code, "err", err)
	}
	if e.Kind == apperr.KindUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	switch {
	case e.Kind == apperr.KindRateLimited:
		w.Header().Set("Retry-After", "30")
	case e.Kind == apperr.KindUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	body := graphError{Error: graphErrorBody{
		Code: e.Code, Message: e.Message, Target: e.Target,
		InnerError: innerError{Date: time.Now().UTC().Format(time.RFC3339), RequestID: reqID},
	}}
	if e.Target != "" {
		body.Error.Details = []errorDetail{{Code: e.Code, Message: e.Message, Target: e.Target}}
	}
	if len(e.Details) > 0 {
		body.Error.Details = make([]errorDetail, len(e.Details))
		for i, d := range e.Details {
			body.Error.Details[i] = errorDetail(d)
		}
	}
	writeJSON(w, status, body)
}
