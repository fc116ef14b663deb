// Package server wires the whole application: the one constructor that
// `rpserver serve` and every end-to-end test use, so the server a test talks
// to is the server that runs (as dex's server.NewServer). Nothing here makes
// decisions; it only builds the services in dependency order and hands the
// HTTP surface the ones it needs.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"

	"github.com/rpserver/rpserver/internal/admission"
	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/apps"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/authcontext"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/oidc"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/retention"
	"github.com/rpserver/rpserver/internal/risk"
	"github.com/rpserver/rpserver/internal/rollout"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/internal/tracing"
)

// Config is what the application needs to run. cmd/rpserver fills it from
// flags and environment (internal/config); tests fill it through servertest.
type Config struct {
	// DatabaseURL is migrated (under an advisory lock, so several servers
	// may start together) and opened.
	DatabaseURL string
	// MasterKey (32 bytes) seals secrets at rest, the token signing key
	// among them: servers sharing a database must share it.
	MasterKey []byte

	Issuer        string   // iss of every token
	RPID          string   // WebAuthn relying party id
	RPDisplayName string   // shown by authenticators, also the TOTP issuer
	Origins       []string // WebAuthn origins, and the pages' origins for the CSRF check
	// RelatedOrigins are origins on other domains that run ceremonies for
	// RPID (listed at /.well-known/webauthn); they are accepted like Origins.
	RelatedOrigins []string
	// Algorithms are the passkey key algorithms offered, in preference
	// order; empty: ceremony.DefaultAlgorithms.
	Algorithms []int64

	// Trust holds the attestation roots and MDS entries; nil trusts none
	// (attestation is then reported, never trusted).
	Trust *attestation.TrustStore

	MaxBodyBytes int64 // largest request body; 0: 64 KiB

	// PublicURL is the API's absolute origin for the links Graph responses
	// carry (@odata.nextLink, @odata.context, Location); empty: each
	// request's own scheme and Host.
	PublicURL string

	// TenantID is the lab tenant's id (tid, {tenant} of the OpenID Connect
	// endpoints); empty: oidc.DefaultTenantID. OIDCSigningAlgorithm signs
	// id and access tokens: RS256 (empty) or ES256.
	TenantID             string
	OIDCSigningAlgorithm string
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client (for CA named locations and the sign-in log).
	TrustedProxies []netip.Prefix

	// FailureLimit failed ceremonies per client address within FailureWindow
	// cool the client down; zero: 20 per 5 minutes.
	FailureLimit  int
	FailureWindow time.Duration

	// RequestTimeout is every request's deadline; MaxInFlight how many are
	// served at once before new ones queue briefly and are shed (503
	// serverBusy). Zero: 15 s and 128 per CPU.
	RequestTimeout time.Duration
	MaxInFlight    int

	// TracerProvider, when set, traces every request from its HTTP route
	// through the services to each PostgreSQL statement (internal/tracing);
	// nil: tracing off, nothing added to the request path.
	TracerProvider trace.TracerProvider

	// SignInLogRetentionDays and AuditLogRetentionDays are how long the
	// sign-in log (with resolved alerts) and the directory audit log keep
	// records, in days (internal/retention); zero: 30.
	SignInLogRetentionDays int
	AuditLogRetentionDays  int

	// Registry receives the HTTP and process metrics served at /metrics;
	// nil: a fresh registry with the Go and process collectors.
	Registry *prometheus.Registry
}

// Server is the wired application. The services are exported for the
// tests that drive them (a clock, a limit); production only uses Handler,
// Maintain and Close.
type Server struct {
	Handler *api.Server

	DB                *store.DB
	Issuer            *tokens.Issuer
	Sealer            *tokens.Sealer
	Directory         *directory.Service
	Methods           *methods.Service
	Ceremony          *ceremony.Service
	ConditionalAccess *conditionalaccess.Service
	SignIn            *signin.Service
	Risk              *risk.Service
	Apps              *apps.Service
	FailureLimiter    *ratelimit.FailureLimiter
	OIDC              *oidc.Provider
	// SignInLog must be drained before DB closes; Close does both in order.
	SignInLog *signinlog.BatchWriter
	// Admission bounds the requests served at once (MaxInFlight).
	Admission *admission.Limiter
	// Retention makes the logs' partitions ahead and drops the days past
	// their window: one pass in New, then every hour until Close.
	Retention *retention.Keeper
}

// New migrates the database and builds every service and the HTTP surface.
func New(ctx context.Context, c Config) (*Server, error) {
	if c.DatabaseURL == "" {
		return nil, errors.New("server: no database URL")
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.FailureLimit == 0 {
		c.FailureLimit, c.FailureWindow = 20, 5*time.Minute
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
		c.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if c.Trust == nil {
		c.Trust = attestation.NewTrustStore()
	}
	if c.SignInLogRetentionDays == 0 {
		c.SignInLogRetentionDays = retention.DefaultDays
	}
	if c.AuditLogRetentionDays == 0 {
		c.AuditLogRetentionDays = retention.DefaultDays
	}

	from, to, err := store.Migrate(ctx, c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if from != to {
		slog.Info("database migrated", "from", from, "to", to)
	}
	var opts store.Options
	if c.TracerProvider != nil {
		opts.Tracer = tracing.PGX(c.TracerProvider)
	}
	db, err := store.OpenWith(ctx, c.DatabaseURL, opts)
	if err != nil {
		return nil, err
	}
	s, err := build(ctx, c, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// build constructs the services in dependency order. Conditional Access
// needs each user's registered methods (for lockout protection), which it
// reads from the factor store directly; the sign-in flow then takes the
// finished Conditional Access service: no construction cycle.
func build(ctx context.Context, c Config, db *store.DB) (*Server, error) {
	sealer, err := tokens.NewSealer(c.MasterKey)
	if err != nil {
		return nil, err
	}
	issuer, err := tokens.NewIssuer(ctx, db.Keys(), sealer, c.Issuer)
	if err != nil {
		return nil, err
	}
	dir := &directory.Service{Store: db.Directory()}
	methodsSvc := methods.New(db.Methods(), db.Methods(), db.WebAuthn(), dir, signin.SecondFactorsOf(db.Factors()), db.Factors())
	methodsSvc.Snoozes = db.Methods()
	cer, err := ceremony.New(ceremony.Config{RPID: c.RPID, RPDisplayName: c.RPDisplayName, Origins: c.Origins, RelatedOrigins: c.RelatedOrigins, Algorithms: c.Algorithms, Trust: c.Trust,
		ChallengeKey: deriveKey(c.MasterKey, "rpserver sign-in challenges")},
		db.WebAuthn(), ceremony.DirectoryUsers{Store: db.Directory()}, methodsSvc)
	if err != nil {
		return nil, err
	}
	ca := conditionalaccess.New(db.ConditionalAccess(), db.Directory(), signin.RegisteredModesOf(db.Factors()))
	ca.SetChangeLock(db)
	ca.SetAlertSink(func(ctx context.Context, title, description, userID string) error {
		who := signinlog.UserAccount{AzureADUserID: userID}
		if u, err := db.Directory().GetUser(ctx, userID); err == nil {
			who.UserPrincipalName, who.DisplayName = u.UserPrincipalName, u.DisplayName
		}
		return db.SignIns().InsertAlert(ctx, signinlog.AdminAlert(uuid.NewString(), title, description, who, time.Now()))
	})
	signInLog := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	signIn := signin.New(signin.Deps{
		Issuer: issuer, Sealer: sealer, Factors: db.Factors(), Ceremony: cer, TAP: methodsSvc,
		Policies: ca, Log: signInLog, Campaign: methodsSvc, Preferences: methodsSvc,
		Users: signin.DirectoryUsers{ByUPN: func(ctx context.Context, upn string) (string, error) {
			u, err := db.Directory().GetUserByUPN(ctx, upn)
			return u.ID, err
		}},
	})
	riskSvc := &risk.Service{Store: db.RiskyUsers()}
	appsSvc := &apps.Service{Store: db.Apps()}
	base := c.Issuer
	if len(c.Origins) > 0 {
		base = c.Origins[0]
	}
	provider, err := oidc.New(ctx, oidc.Config{
		BaseURL: base, TenantID: c.TenantID, SigningAlgorithm: c.OIDCSigningAlgorithm,
		Secret: oidcSecret(c.MasterKey), LoginURL: api.OIDCLoginURL(base), ClearSession: api.ClearSessionCookie,
		Store: db.OIDC(), Apps: appsSvc, Users: db.Directory(), Sessions: db.Factors(), Sealer: sealer,
	})
	if err != nil {
		return nil, err
	}
	keeper, err := retention.New(db.Partitions(), retention.Config{Logs: []retention.Log{
		{Table: store.SignInLog, Days: c.SignInLogRetentionDays, Alerts: true},
		{Table: store.AuditLog, Days: c.AuditLogRetentionDays},
	}, Registerer: c.Registry})
	if err != nil {
		return nil, err
	}
	// The failure limiter counts in the database, so the limit holds across
	// every server on it.
	limiter := ratelimit.New(db.Attempts(), c.FailureLimit, c.FailureWindow)
	adm := api.NewAdmission(c.MaxInFlight)
	handler := api.New(api.Deps{
		Directory:         dir,
		Issuer:            issuer,
		DB:                db,
		MaxBodyBytes:      c.MaxBodyBytes,
		Registry:          c.Registry,
		Ceremony:          cer,
		FailureLimiter:    limiter,
		Methods:           methodsSvc,
		TOTP:              &totp.Registrar{Store: db.Factors(), Sealer: sealer, Issuer: c.RPDisplayName},
		Push:              &push.Registrar{Store: db.Factors()},
		SignIn:            signIn,
		Sessions:          signIn,
		Origins:           append(slices.Clone(c.Origins), c.RelatedOrigins...),
		PublicURL:         c.PublicURL,
		TrustedProxies:    c.TrustedProxies,
		ConditionalAccess: ca,
		SignInLogs:        db.SignIns(),
		Audits:            db.Audits(),
		Reports:           db.Reports(),
		Rollout:           &rollout.Service{Store: db.Reports(), Groups: dir.Store, Fido2: methodsSvc, Policies: ca},
		Risk:              riskSvc,
		Apps:              appsSvc,
		OIDC:              provider,
		AuthContexts:      &authcontext.Service{Store: db.AuthContexts()},
		RequestTimeout:    c.RequestTimeout,
		Admission:         adm,
		Middleware:        middleware(c),
	})
	// The first pass runs before the server serves, so today's partitions
	// exist (or, if the pass fails, records wait in the DEFAULT partition:
	// the server still starts, and the hourly passes retry).
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := keeper.Run(pctx); err != nil {
		slog.Warn("retention: first pass failed; records wait in the default partition until a later pass succeeds", "err", err)
	}
	cancel()
	keeper.Start()
	return &Server{
		Retention: keeper,
		Admission: adm,
		Handler:   handler, DB: db, Issuer: issuer, Sealer: sealer, Directory: dir, Methods: methodsSvc,
		Ceremony: cer, ConditionalAccess: ca, SignIn: signIn, Risk: riskSvc, Apps: appsSvc, OIDC: provider, SignInLog: signInLog,
		FailureLimiter: limiter,
	}, nil
}

// Close stops the retention passes, drains the sign-in log (queued records
// are committed while the pool is still open) and then closes the pool.
func (s *Server) Close() {
	s.Retention.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.SignInLog.Close(ctx); err != nil {
		slog.Error("sign-in log not drained", "err", err)
	}
	if err := s.FailureLimiter.Close(ctx); err != nil {
		slog.Error("failure limiter settlements not applied", "err", err)
	}
	s.DB.Close()
}

// Maintain removes abandoned ceremonies, push requests and old client
// attempt counts every minute, so
// those tables stay small, until ctx ends.
func (s *Server) Maintain(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.purge(ctx, now)
		}
	}
}

func (s *Server) purge(ctx context.Context, now time.Time) {
	if n, err := s.DB.WebAuthn().PurgeExpiredChallenges(ctx, now); err != nil {
		slog.Warn("purging expired challenges", "err", err)
	} else if n > 0 {
		slog.Debug("purged expired challenges", "count", n)
	}
	if n, err := s.OIDC.PurgeExpired(ctx); err != nil {
		slog.Warn("purging expired authorization requests and refresh tokens", "err", err)
	} else if n > 0 {
		slog.Debug("purged expired authorization requests and refresh tokens", "count", n)
	}
	if n, err := s.DB.Factors().PurgeExpiredPushRequests(ctx, now); err != nil {
		slog.Warn("purging expired push requests", "err", err)
	} else if n > 0 {
		slog.Debug("purged expired push requests", "count", n)
	}
	if n, err := s.DB.Attempts().PurgeExpiredAttempts(ctx, now, s.FailureLimiter.Window); err != nil {
		slog.Warn("purging expired client attempts", "err", err)
	} else if n > 0 {
		slog.Debug("purged expired client attempts", "count", n)
	}
}

// oidcSecret derives the OpenID Connect provider's secret (pairwise
// subjects, code encryption) from the master key, so every server on the
// database computes the same subjects.
func oidcSecret(masterKey []byte) []byte { return deriveKey(masterKey, "rpserver oidc provider") }

// deriveKey derives the key of one use from the master key, so every
// server on the database has the same one and a key of one use says
// nothing of another's.
func deriveKey(masterKey []byte, use string) []byte {
	m := hmac.New(sha256.New, masterKey)
	m.Write([]byte(use))
	return m.Sum(nil)
}

// middleware is what wraps the whole HTTP surface: the tracing span when
// tracing is on.
func middleware(c Config) []func(http.Handler) http.Handler {
	if c.TracerProvider == nil {
		return nil
	}
	return []func(http.Handler) http.Handler{tracing.Middleware(c.TracerProvider)}
}
