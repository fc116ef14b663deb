// Package config reads the server's settings from flags and environment
// variables (flags win), fills working defaults, and validates them at start
// so a bad setting fails with a message that names it, not later with a
// confusing ceremony error.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"github.com/google/uuid"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/retention"
)

// Config is everything `rpserver serve` needs.
type Config struct {
	Listen        string   // RPSERVER_LISTEN
	DatabaseURL   string   // DATABASE_URL; empty: start a throwaway PostgreSQL in DataDir
	DataDir       string   // RPSERVER_DATA_DIR
	RPID          string   // RPSERVER_RP_ID
	RPDisplayName string   // RPSERVER_RP_NAME
	Origins       []string // RPSERVER_ORIGINS, comma-separated
	// RelatedOrigins (RPSERVER_RELATED_ORIGINS) are origins on other domains
	// that may run ceremonies for the RP ID (WebAuthn L3 related origin
	// requests): listed at /.well-known/webauthn and accepted like Origins.
	RelatedOrigins []string
	// Algorithms (RPSERVER_ALGORITHMS) are the COSE algorithms offered to
	// authenticators, in preference order; empty: ES256, EdDSA, RS256.
	Algorithms    []int64
	Issuer        string        // RPSERVER_ISSUER: iss of tokens; defaults to the first origin
	MasterKey     []byte        // RPSERVER_MASTER_KEY (base64, 32 bytes); else DataDir/master.key
	AdminTokenTTL time.Duration // RPSERVER_ADMIN_TOKEN_TTL
	MaxBodyBytes  int64         // RPSERVER_MAX_BODY_BYTES
	LogLevel      string        // RPSERVER_LOG_LEVEL: debug, info, warn, error
	LogFormat     string        // RPSERVER_LOG_FORMAT: text or json
	TrustAnchors  []string      // RPSERVER_TRUST_ANCHORS: PEM files, "AAGUID=path" or "path"
	MDSBlob       string        // RPSERVER_MDS_BLOB: local FIDO MDS3 blob file
	MDSRoot       string        // RPSERVER_MDS_ROOT: PEM root that signs the MDS blob
	// MDSRefuseStale (RPSERVER_MDS_REFUSE_STALE): trust resting on an MDS
	// blob past its nextUpdate is refused, not only reported.
	MDSRefuseStale bool
	AAGUIDCatalog  string // RPSERVER_AAGUID_CATALOG: JSON names/icons by AAGUID, over MDS and the embedded lists
	LabCA          bool   // RPSERVER_LAB_CA: trust the lab CA of DataDir (made on first start)
	PprofListen    string // RPSERVER_PPROF_LISTEN: loopback address for net/http/pprof; empty: off
	// MaxProcs (RPSERVER_MAX_PROCS) is serve's GOMAXPROCS; 0: a GOMAXPROCS
	// variable as it is, else Go's choice, less one when PostgreSQL is local.
	MaxProcs int
	TLSCert  string // RPSERVER_TLS_CERT: PEM certificate (chain); with TLSKey, serve HTTPS (HTTP/2), reloaded on SIGHUP
	TLSKey   string // RPSERVER_TLS_KEY
	TenantID string // RPSERVER_TENANT_ID: the lab tenant's id (tid, {tenant} of the OIDC endpoints)
	OIDCAlg  string // RPSERVER_OIDC_SIGNING_ALG: RS256 or ES256
	// OTLPEndpoint (RPSERVER_OTLP_ENDPOINT): OpenTelemetry traces over
	// OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318; empty: off.
	OTLPEndpoint     string
	TraceSampleRatio float64 // RPSERVER_TRACE_SAMPLE_RATIO: share of new traces kept, 0 < r <= 1
	// TrustedProxies (RPSERVER_TRUSTED_PROXIES, comma-separated CIDRs) are
	// the reverse proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix

	// Overload and shutdown (docs/deploy.md).
	RequestTimeout  time.Duration // RPSERVER_REQUEST_TIMEOUT: deadline of every request
	MaxInFlight     int           // RPSERVER_MAX_IN_FLIGHT: requests served at once; 0: 128 per CPU
	ShutdownDelay   time.Duration // RPSERVER_SHUTDOWN_DELAY: on SIGTERM, /readyz fails this long before the listener closes
	ShutdownTimeout time.Duration // RPSERVER_SHUTDOWN_TIMEOUT: longest wait for in-flight requests on SIGTERM

	// LabInit (RPSERVER_LAB_INIT): on an empty tenant, serve fills the
	// rollout article's starting tenant once it listens (rpserver lab init).
	// Off by default for serve; scripts/run.sh turns it on.
	LabInit bool

	// Retention (docs/deploy.md): days the sign-in log (with resolved
	// alerts) and the directory audit log keep records.
	SignInLogRetentionDays int // RPSERVER_SIGNIN_LOG_RETENTION_DAYS
	AuditLogRetentionDays  int // RPSERVER_AUDIT_LOG_RETENTION_DAYS

	// IssuerExplicit says -issuer or -origins (or their variables) was
	// given; otherwise client commands take the running server's issuer
	// from its runtime file.
	IssuerExplicit bool
}

// DefaultDataDir is where the throwaway database and master key live.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/rpserver"
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "share", "rpserver")
	}
	return filepath.Join(os.TempDir(), "rpserver")
}

// Flags registers the serve flags on fs, with environment defaults.
func Flags(fs *flag.FlagSet) func() (Config, error) {
	listen := fs.String("listen", env("RPSERVER_LISTEN", "127.0.0.1:8080"), "listen address (RPSERVER_LISTEN)")
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL); empty starts a throwaway PostgreSQL in the data folder")
	dataDir := fs.String("data-dir", env("RPSERVER_DATA_DIR", DefaultDataDir()), "data folder for the throwaway PostgreSQL and the master key (RPSERVER_DATA_DIR)")
	rpID := fs.String("rp-id", env("RPSERVER_RP_ID", "localhost"), "WebAuthn relying party id: a domain (RPSERVER_RP_ID)")
	rpName := fs.String("rp-name", env("RPSERVER_RP_NAME", "rpserver lab"), "relying party display name (RPSERVER_RP_NAME)")
	origins := fs.String("origins", os.Getenv("RPSERVER_ORIGINS"), "allowed WebAuthn origins, comma-separated (RPSERVER_ORIGINS); default http://localhost:<listen port>")
	related := fs.String("related-origins", os.Getenv("RPSERVER_RELATED_ORIGINS"), "origins on other domains allowed to use this RP ID (WebAuthn related origins), comma-separated; served at /.well-known/webauthn, which browsers fetch from https://<rp-id> (RPSERVER_RELATED_ORIGINS)")
	algs := fs.String("algorithms", os.Getenv("RPSERVER_ALGORITHMS"), "passkey key algorithms offered, in preference order, comma-separated from ES256, EdDSA, RS256 (RPSERVER_ALGORITHMS); default ES256,EdDSA,RS256")
	issuer := fs.String("issuer", os.Getenv("RPSERVER_ISSUER"), "token issuer (RPSERVER_ISSUER); default the first origin")
	masterKey := fs.String("master-key", os.Getenv("RPSERVER_MASTER_KEY"), "base64 32-byte key sealing secrets at rest (RPSERVER_MASTER_KEY); default <data-dir>/master.key, made on first start")
	ttl := fs.Duration("admin-token-ttl", envDuration("RPSERVER_ADMIN_TOKEN_TTL", 8*time.Hour), "lifetime of admin tokens (RPSERVER_ADMIN_TOKEN_TTL)")
	maxBody := fs.Int64("max-body-bytes", envInt("RPSERVER_MAX_BODY_BYTES", 64<<10), "largest accepted request body (RPSERVER_MAX_BODY_BYTES)")
	logLevel := fs.String("log-level", env("RPSERVER_LOG_LEVEL", "info"), "debug, info, warn or error (RPSERVER_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("RPSERVER_LOG_FORMAT", "text"), "text or json (RPSERVER_LOG_FORMAT)")
	anchors := fs.String("trust-anchors", os.Getenv("RPSERVER_TRUST_ANCHORS"), "attestation roots: comma-separated PEM files, each 'path' (any AAGUID) or 'AAGUID=path' (RPSERVER_TRUST_ANCHORS)")
	mds := fs.String("mds-blob", os.Getenv("RPSERVER_MDS_BLOB"), "local FIDO MDS3 blob file, never fetched (RPSERVER_MDS_BLOB)")
	mdsRoot := fs.String("mds-root", os.Getenv("RPSERVER_MDS_ROOT"), "PEM root certificate that signs the MDS blob (RPSERVER_MDS_ROOT)")
	mdsRefuseStale := fs.Bool("mds-refuse-stale", envBool("RPSERVER_MDS_REFUSE_STALE", false), "refuse attestation trust that rests on an MDS blob past its nextUpdate (default: report it) (RPSERVER_MDS_REFUSE_STALE)")
	aaguidCatalog := fs.String("aaguid-catalog", os.Getenv("RPSERVER_AAGUID_CATALOG"), "JSON file naming authenticators by AAGUID (the community list's format: name, icon_light, icon_dark); overrides FIDO MDS and the embedded lists (RPSERVER_AAGUID_CATALOG)")
	labCA := fs.Bool("lab-ca", envBool("RPSERVER_LAB_CA", true), "trust the lab attestation CA in the data folder (made on first start; rpserver phone and loadtest use it) (RPSERVER_LAB_CA)")
	pprofListen := fs.String("pprof-listen", os.Getenv("RPSERVER_PPROF_LISTEN"), "serve Go profiles (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060 (RPSERVER_PPROF_LISTEN); empty: off")
	tlsCert := fs.String("tls-cert", os.Getenv("RPSERVER_TLS_CERT"), "serve HTTPS (and HTTP/2) with this PEM certificate, the chain after the leaf; reloaded on SIGHUP (RPSERVER_TLS_CERT; rpserver lab tls makes one)")
	tlsKey := fs.String("tls-key", os.Getenv("RPSERVER_TLS_KEY"), "PEM private key of -tls-cert (RPSERVER_TLS_KEY)")
	tenantID := fs.String("tenant-id", env("RPSERVER_TENANT_ID", "5ab0a7e1-1ab0-4e57-a1ab-000000000001"), "the lab tenant's id: tid of tokens and {tenant} of the OpenID Connect endpoints (RPSERVER_TENANT_ID)")
	oidcAlg := fs.String("oidc-signing-alg", env("RPSERVER_OIDC_SIGNING_ALG", "RS256"), "algorithm of id and access tokens, RS256 or ES256 (RPSERVER_OIDC_SIGNING_ALG)")
	otlp := fs.String("otlp-endpoint", os.Getenv("RPSERVER_OTLP_ENDPOINT"), "send OpenTelemetry traces (HTTP, services, each SQL statement) over OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318 (RPSERVER_OTLP_ENDPOINT); empty: tracing off")
	sampleRatio := fs.Float64("trace-sample-ratio", envFloat("RPSERVER_TRACE_SAMPLE_RATIO", 1), "share of new traces kept when tracing, 0 < r <= 1 (RPSERVER_TRACE_SAMPLE_RATIO)")
	trustedProxies := fs.String("trusted-proxies", os.Getenv("RPSERVER_TRUSTED_PROXIES"), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client, for named locations and the sign-in log (RPSERVER_TRUSTED_PROXIES); empty: the peer address is the client")
	reqTimeout := fs.Duration("request-timeout", envDuration("RPSERVER_REQUEST_TIMEOUT", 15*time.Second), "deadline of every request; a hung database cannot hold a request longer (RPSERVER_REQUEST_TIMEOUT)")
	maxProcs := fs.Int64("max-procs", envInt("RPSERVER_MAX_PROCS", 0), "threads running the server's Go code at once, GOMAXPROCS (RPSERVER_MAX_PROCS); 0: the GOMAXPROCS variable if set, else Go's choice (the cores, or a container's CPU limit), less one when PostgreSQL runs on this machine (the throwaway cluster or a loopback or socket URL)")
	maxInFlight := fs.Int64("max-in-flight", envInt("RPSERVER_MAX_IN_FLIGHT", 0), "requests served at once; beyond it requests queue briefly, then get 503 serverBusy (RPSERVER_MAX_IN_FLIGHT); 0: 128 per CPU")
	shutdownDelay := fs.Duration("shutdown-delay", envDuration("RPSERVER_SHUTDOWN_DELAY", 0), "on SIGTERM, answer /readyz 503 for this long before closing the listener, so a load balancer moves away first (RPSERVER_SHUTDOWN_DELAY)")
	labInit := fs.Bool("lab-init", envBool("RPSERVER_LAB_INIT", false), "on an empty tenant, create the rollout article's starting tenant once listening and print admin1's one-time TAP, as rpserver lab init does; a tenant with users is never touched (RPSERVER_LAB_INIT; scripts/run.sh turns it on)")
	shutdownTimeout := fs.Duration("shutdown-timeout", envDuration("RPSERVER_SHUTDOWN_TIMEOUT", 20*time.Second), "longest wait for in-flight requests on SIGTERM (RPSERVER_SHUTDOWN_TIMEOUT)")
	signInDays := fs.Int64("signin-log-retention-days", envInt("RPSERVER_SIGNIN_LOG_RETENTION_DAYS", 30), "days the sign-in log (and resolved alerts) keep records, 1..366; whole days are dropped once past it (RPSERVER_SIGNIN_LOG_RETENTION_DAYS)")
	auditDays := fs.Int64("audit-log-retention-days", envInt("RPSERVER_AUDIT_LOG_RETENTION_DAYS", 30), "days the directory audit log keeps records, 1..366 (RPSERVER_AUDIT_LOG_RETENTION_DAYS)")
	return func() (Config, error) {
		c := Config{SignInLogRetentionDays: int(*signInDays), AuditLogRetentionDays: int(*auditDays), TenantID: strings.ToLower(*tenantID), OIDCAlg: *oidcAlg,
			RequestTimeout: *reqTimeout, MaxInFlight: int(*maxInFlight), MaxProcs: int(*maxProcs), ShutdownDelay: *shutdownDelay, ShutdownTimeout: *shutdownTimeout, LabInit: *labInit,
			Listen: *listen, DatabaseURL: *dbURL, DataDir: *dataDir, RPID: strings.ToLower(*rpID), RPDisplayName: *rpName,
			Issuer: *issuer, AdminTokenTTL: *ttl, MaxBodyBytes: *maxBody, LogLevel: *logLevel, LogFormat: *logFormat,
			Origins: splitList(*origins), RelatedOrigins: splitList(*related), TrustAnchors: splitList(*anchors), MDSBlob: *mds, MDSRoot: *mdsRoot, MDSRefuseStale: *mdsRefuseStale, AAGUIDCatalog: *aaguidCatalog, PprofListen: *pprofListen, LabCA: *labCA,
			TLSCert: *tlsCert, TLSKey: *tlsKey, OTLPEndpoint: *otlp, TraceSampleRatio: *sampleRatio,
			IssuerExplicit: *issuer != "" || *origins != "",
		}
		if *algs != "" {
			a, err := ceremony.ParseAlgorithms(splitList(*algs))
			if err != nil {
				return c, fmt.Errorf("config: -algorithms: %w", err)
			}
			c.Algorithms = a
		}
		for _, p := range splitList(*trustedProxies) {
			prefix, err := netip.ParsePrefix(p)
			if err != nil {
				if a, aerr := netip.ParseAddr(p); aerr == nil {
					prefix, err = a.Prefix(a.BitLen())
				}
			}
			if err != nil {
				return c, fmt.Errorf("config: trusted proxy %q: want a CIDR such as 10.0.0.0/8 or an address", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
		}
		if *masterKey != "" {
			k, err := base64.StdEncoding.DecodeString(*masterKey)
			if err != nil || len(k) != 32 {
				return c, errors.New("config: RPSERVER_MASTER_KEY must be 32 bytes in standard base64 (openssl rand -base64 32)")
			}
			c.MasterKey = k
		}
		return c, c.complete()
	}
}

func (c *Config) complete() error {
	var errs []error
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: want host:port", c.Listen))
	}
	if len(c.Origins) == 0 && err == nil {
		if host == "" || host == "0.0.0.0" || host == "127.0.0.1" || host == "::" {
			host = "localhost"
		}
		scheme := "http"
		if c.TLSCert != "" {
			// Over HTTPS the page is served at the RP ID (a phone on the
			// LAN resolves it to this machine), not at the bind address.
			scheme, host = "https", c.RPID
		}
		hostPort := net.JoinHostPort(host, port)
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			hostPort = host // browsers leave the default port out of the origin
		}
		c.Origins = []string{scheme + "://" + hostPort}
	}
	if c.OTLPEndpoint != "" {
		u, err := url.Parse(c.OTLPEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OTLP endpoint %q: want http(s)://host:port, e.g. http://127.0.0.1:4318", c.OTLPEndpoint))
		}
		if !(c.TraceSampleRatio > 0 && c.TraceSampleRatio <= 1) {
			errs = append(errs, fmt.Errorf("trace sample ratio %g: want 0 < ratio <= 1", c.TraceSampleRatio))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("TLS: give both -tls-cert and -tls-key (RPSERVER_TLS_CERT, RPSERVER_TLS_KEY), or neither"))
	}
	for _, f := range []string{c.TLSCert, c.TLSKey} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				errs = append(errs, fmt.Errorf("TLS file: %v", err))
			}
		}
	}
	if c.RPID == "" || strings.ContainsAny(c.RPID, ":/ ") {
		errs = append(errs, fmt.Errorf("RP ID %q: want a bare domain such as localhost or login.lab.example", c.RPID))
	}
	for _, o := range c.Origins {
		if err := checkOrigin(o, c.RPID); err != nil {
			errs = append(errs, err)
		}
	}
	for _, o := range c.RelatedOrigins {
		if err := checkRelatedOrigin(o, c.RPID); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.RelatedOrigins) > 0 {
		if _, err := protocol.NewRelatedOrigins(append(slices.Clone(c.Origins), c.RelatedOrigins...)...); err != nil {
			errs = append(errs, fmt.Errorf("related origins: %w", err))
		}
	}
	if c.Issuer == "" && len(c.Origins) > 0 {
		c.Issuer = c.Origins[0]
	}
	if uuid.Validate(c.TenantID) != nil || len(c.TenantID) != 36 {
		errs = append(errs, fmt.Errorf("tenant id %q: want a GUID", c.TenantID))
	}
	if c.OIDCAlg != "RS256" && c.OIDCAlg != "ES256" {
		errs = append(errs, fmt.Errorf("OIDC signing algorithm %q: want RS256 or ES256", c.OIDCAlg))
	}
	if c.AdminTokenTTL < time.Minute || c.AdminTokenTTL > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("admin token lifetime %s: want between 1m and 168h", c.AdminTokenTTL))
	}
	if c.MaxBodyBytes < 4<<10 || c.MaxBodyBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("max body bytes %d: want between 4096 and 16777216", c.MaxBodyBytes))
	}
	if c.RequestTimeout < time.Second || c.RequestTimeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("request timeout %s: want between 1s and 5m", c.RequestTimeout))
	}
	if c.MaxProcs < 0 || c.MaxProcs > 1024 {
		errs = append(errs, fmt.Errorf("max procs %d: want 0 (default) up to 1024", c.MaxProcs))
	}
	if c.MaxInFlight < 0 || c.MaxInFlight > 1<<20 {
		errs = append(errs, fmt.Errorf("max in flight %d: want 0 (default) up to 1048576", c.MaxInFlight))
	}
	if c.ShutdownDelay < 0 || c.ShutdownDelay > time.Minute || c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("shutdown delay %s / timeout %s: want a delay of 0..1m and a timeout of 1s..10m", c.ShutdownDelay, c.ShutdownTimeout))
	}
	for _, r := range []struct {
		name string
		days int
	}{{"sign-in log retention", c.SignInLogRetentionDays}, {"audit log retention", c.AuditLogRetentionDays}} {
		if r.days < 1 || r.days > retention.MaxDays {
			errs = append(errs, fmt.Errorf("%s %d days: want 1 to %d", r.name, r.days, retention.MaxDays))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format %q: want text or json", c.LogFormat))
	}
	for _, a := range c.TrustAnchors {
		path := a
		if i := strings.IndexByte(a, '='); i >= 0 {
			path = a[i+1:]
		}
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("trust anchor %q: %v", a, err))
		}
	}
	if c.PprofListen != "" {
		// Profiles reveal internals: never on anything but loopback.
		h, _, err := net.SplitHostPort(c.PprofListen)
		if ip := net.ParseIP(h); err != nil || (h != "localhost" && (ip == nil || !ip.IsLoopback())) {
			errs = append(errs, fmt.Errorf("pprof listen address %q: want a loopback host:port such as 127.0.0.1:6060", c.PprofListen))
		}
	}
	for _, f := range []string{c.MDSBlob, c.MDSRoot, c.AAGUIDCatalog} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				errs = append(errs, fmt.Errorf("MDS file: %v", err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// checkOrigin applies WebAuthn's rule: the RP ID must be the origin's host or
// a registrable suffix of it, and only localhost may use plain http.
func checkOrigin(origin, rpID string) error {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("origin %q: want scheme://host[:port]", origin)
	}
	h := strings.ToLower(u.Hostname())
	if u.Scheme != "https" && !(u.Scheme == "http" && (h == "localhost" || strings.HasSuffix(h, ".localhost"))) {
		return fmt.Errorf("origin %q: browsers allow WebAuthn only on https (or http://localhost)", origin)
	}
	if h != rpID && !strings.HasSuffix(h, "."+rpID) {
		return fmt.Errorf("origin %q: its host is not %q nor a subdomain of it, so browsers would refuse the RP ID", origin, rpID)
	}
	return nil
}

// CheckDataDir makes the data folder if needed and proves it writable, so a
// folder the process cannot write (a root-owned volume under a non-root
// container user, say) stops the server at start with the fix named, not
// later at "create master key: permission denied".
func (c *Config) CheckDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
		return c.dataDirError(err)
	}
	f, err := os.CreateTemp(c.DataDir, ".write-check-*")
	if err != nil {
		return c.dataDirError(err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func (c *Config) dataDirError(err error) error {
	owner := ""
	if fi, serr := os.Stat(c.DataDir); serr == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			owner = fmt.Sprintf(" (owned by uid %d, mode %v)", st.Uid, fi.Mode().Perm())
		}
	}
	return fmt.Errorf("config: the data folder %s%s is not writable by this process (uid %d): %w; "+
		"make it writable (chown %d %s), or give -data-dir / RPSERVER_DATA_DIR a folder this user owns "+
		"(in Docker: the image's /data belongs to uid 65532, and a new named volume on /data inherits that)",
		c.DataDir, owner, os.Geteuid(), err, os.Geteuid(), c.DataDir)
}

// checkRelatedOrigin: a related origin is a secure origin whose host is not
// already under the RP ID (those belong in -origins).
func checkRelatedOrigin(origin, rpID string) error {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("related origin %q: want https://host[:port]", origin)
	}
	h := strings.ToLower(u.Hostname())
	if u.Scheme != "https" {
		return fmt.Errorf("related origin %q: must be https", origin)
	}
	if h == rpID || strings.HasSuffix(h, "."+rpID) {
		return fmt.Errorf("related origin %q: its host is under the RP ID %q, so it belongs in -origins", origin, rpID)
	}
	return nil
}

// LoadMasterKey returns the configured key or reads (making it on first use)
// DataDir/master.key with owner-only permissions.
func (c *Config) LoadMasterKey() ([]byte, error) {
	if c.MasterKey != nil {
		return c.MasterKey, nil
	}
	path := filepath.Join(c.DataDir, "master.key")
	if raw, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("config: %s is not a base64 32-byte key", path)
		}
		return k, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
		return nil, fmt.Errorf("config: data folder: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("config: create master key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, f.Sync()
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envDuration(k string, def time.Duration) time.Duration {
	if v := os.Getenv(k); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		return -1 // rejected by validation with a clear message
	}
	return def
}

func envBool(k string, def bool) bool {
	switch strings.ToLower(os.Getenv(k)) {
	case "":
		return def
	case "1", "true", "yes", "on":
		return true
	default:
		return false
	}
}

func envInt(k string, def int64) int64 {
	if v := os.Getenv(k); v != "" {
		var n int64
		if _, err := fmt.Sscan(v, &n); err == nil {
			return n
		}
		return -1
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// envFloat reads a float; a value that does not parse gives NaN, which the
// validation then names.
func envFloat(k string, def float64) float64 {
	if v := os.Getenv(k); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return def
}
