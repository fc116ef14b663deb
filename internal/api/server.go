package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpserver/rpserver/internal/admission"
	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
	"github.com/rpserver/rpserver/internal/authcontext"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/oidc"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/risk"
	"github.com/rpserver/rpserver/internal/rollout"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/tokens"
)

// Pinger reports database readiness.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the services the handlers call. All are required: the server
// is built in one place (internal/server), with every service.
type Deps struct {
	Directory    *directory.Service
	Issuer       *tokens.Issuer
	DB           Pinger
	MaxBodyBytes int64
	Registry     *prometheus.Registry

	Ceremony       *ceremony.Service
	Sessions       SessionChecker
	FailureLimiter *ratelimit.FailureLimiter

	// Overload guards (see overload.go); zero values take the defaults.
	Admission      *admission.Limiter // requests served at once, bounded wait
	RequestTimeout time.Duration      // deadline of every request's context

	ConditionalAccess *conditionalaccess.Service // CA policies, authentication strengths, what-if
	Methods           *methods.Service           // authentication methods policy, TAP, fido2Methods, the rule on changing one's own methods
	SignIn            *signin.Service            // sign-in flow, factors, sessions
	TOTP              *totp.Registrar            // enrols verification-code apps (/me/authentication/softwareOathMethods)
	Push              *push.Registrar            // enrols Authenticator apps (/me/authentication/microsoftAuthenticatorMethods)

	SignInLogs signinlog.Store     // /auditLogs/signIns and /security/alerts_v2
	Audits     AuditLog            // /auditLogs/directoryAudits
	Reports    RegistrationReports // /reports/authenticationMethods
	Rollout    *rollout.Service    // /groups/{id}/passkeyRollout (lab extension)
	Risk       *risk.Service       // /identityProtection/riskyUsers

	Apps         *apps.Service        // /applications and /servicePrincipals
	AuthContexts *authcontext.Service // authenticationContextClassReferences
	OIDC         *oidc.Provider       // the OpenID Connect provider and its sign-in bridge

	// PublicURL is the absolute origin of the API as clients reach it
	// (scheme://host[:port]), used for @odata.nextLink, @odata.context and
	// Location. Empty: the request's own scheme and Host.
	PublicURL string

	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (see clientIP); empty: the peer address is the client's.
	TrustedProxies []netip.Prefix

	// Origins are the browser origins of the server's own pages: unsafe
	// requests whose Origin names another are refused (CSRF).
	Origins []string

	// Middleware wraps every request outermost, before the request id and
	// metrics (the tracing span, so it covers everything the server does).
	Middleware []func(http.Handler) http.Handler
}

// Server is the HTTP surface.
type Server struct {
	deps     Deps
	router   chi.Router
	metrics  *httpMetrics
	draining atomic.Bool

	permissionsOnce sync.Once
	permissionTable []routePermission
}

// New builds the router.
func New(deps Deps) *Server {
	if deps.Admission == nil {
		deps.Admission = NewAdmission(0)
	}
	if deps.RequestTimeout == 0 {
		deps.RequestTimeout = defaultRequestTimeout
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{deps: deps, router: chi.NewRouter(), metrics: newHTTPMetrics(deps.Registry)}
	r := s.router
	if len(deps.Middleware) > 0 {
		r.Use(deps.Middleware...)
	}
	r.Use(middleware.RequestID, s.metrics.middleware, logRequests, middleware.Recoverer, securityHeaders, s.guard, s.limitBody, s.decodeContentEncoding)
	r.Use(s.refuseCrossSite, refuseNULInURL)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, apperr.NotFound(CodeRouteNotFound, "no resource at %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &apperr.Error{Kind: apperr.KindInvalid, Code: CodeMethodNotAllowed, Message: r.Method + " is not supported on " + r.URL.Path})
	})

	s.routes(r)
	return s
}

// Routes exposes the route table, for tests that check a rule holds on
// every route of a kind.
func (s *Server) Routes() chi.Routes { return s.router }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.refuseWhileDraining(w, r) {
		return
	}
	if err := s.deps.DB.Ping(ctx); err != nil {
		slog.WarnContext(r.Context(), "readiness: database unreachable", "err", err)
		writeError(w, r, apperr.Unavailable(CodeDatabaseUnavailable, "the database does not answer"))
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

// limitBody caps every request body; decodeJSON turns overruns into 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.deps.MaxBodyBytes {
			writeError(w, r, apperr.TooLarge(CodeBodyTooLarge, "the request body exceeds %d bytes", s.deps.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.deps.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Shared values, set without allocating (these headers are on every
		// answer): net/http only reads them, and Header.Set and Add replace
		// a value or copy it (each slice's capacity is its length), never
		// write into it.
		h["X-Content-Type-Options"] = headerNosniff
		h["Referrer-Policy"] = headerNoReferrer
		h["X-Frame-Options"] = headerDeny
		h["Cache-Control"] = headerNoStore
		h["Date"] = httpDate(time.Now())
		next.ServeHTTP(w, r)
	})
}

var (
	headerNosniff    = []string{"nosniff"}
	headerNoReferrer = []string{"no-referrer"}
	headerDeny       = []string{"DENY"}
	headerNoStore    = []string{"no-store"}
)

// dateHeader is the Date header of one second.
type dateHeader struct {
	second int64
	value  []string
}

var currentDate atomic.Pointer[dateHeader]

// httpDate is the Date header for now, formatted once a second rather
// than by net/http for every answer (its formatting was ~1% of the
// server's CPU on the sign-in path). It is the second the request entered
// this middleware, where net/http would stamp the second of writing: a slow
// answer (a wait in admission, a long handler, both bounded by the request
// time limit) carries a Date up to that limit early. Nothing reads Date.
func httpDate(now time.Time) []string {
	d := currentDate.Load()
	if d == nil || d.second != now.Unix() {
		d = &dateHeader{second: now.Unix(), value: []string{now.UTC().Format(http.TimeFormat)}}
		currentDate.Store(d)
	}
	return d.value
}

func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		// Paths only: query strings may carry secrets a client put there by mistake.
		slog.InfoContext(r.Context(), "http", "request_id", middleware.GetReqID(r.Context()), "method", r.Method,
			"path", r.URL.Path, "status", ww.Status(), "bytes", ww.BytesWritten(), "duration_ms", time.Since(start).Milliseconds())
	})
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rpserver_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rpserver_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		m.requests.WithLabelValues(r.Method, route, fmtInt(ww.Status())).Inc()
		m.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
	})
}
