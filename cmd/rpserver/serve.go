package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/labca"
	"github.com/rpserver/rpserver/internal/procs"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/tlsreload"
	"github.com/rpserver/rpserver/internal/tracing"
)

func loadConfig(name string, args []string, extra func(*flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	get := config.Flags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	c, err := get()
	if err != nil {
		return c, err
	}
	setupLogging(c)
	return c, nil
}

func setupLogging(c config.Config) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

// newServer builds the application from the command's configuration on the
// database at dsn: serve and the tests of cmd use it, so the tests exercise
// the same mapping from flags to server.Config.
func newServer(ctx context.Context, c config.Config, dsn string) (*server.Server, error) {
	return newServerTraced(ctx, c, dsn, nil)
}

// startTracing starts the OTLP exporter when configured; stop flushes the
// spans still queued (bounded, so a dead collector cannot hold shutdown).
func startTracing(ctx context.Context, c config.Config) (trace.TracerProvider, func(), error) {
	if c.OTLPEndpoint == "" {
		return nil, func() {}, nil
	}
	tp, err := tracing.Start(ctx, tracing.Config{Endpoint: c.OTLPEndpoint, SampleRatio: c.TraceSampleRatio})
	if err != nil {
		return nil, nil, err
	}
	slog.Info("tracing on", "otlp_endpoint", c.OTLPEndpoint, "sample_ratio", c.TraceSampleRatio)
	return tp, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			slog.Warn("tracing: spans not flushed", "err", err)
		}
	}, nil
}

func newServerTraced(ctx context.Context, c config.Config, dsn string, tp trace.TracerProvider) (*server.Server, error) {
	key, err := c.LoadMasterKey()
	if err != nil {
		return nil, err
	}
	trust, err := loadTrust(c, time.Now())
	if err != nil {
		return nil, err
	}
	return server.New(ctx, server.Config{
		DatabaseURL: dsn, MasterKey: key, Issuer: c.Issuer,
		RPID: c.RPID, RPDisplayName: c.RPDisplayName, Origins: c.Origins, RelatedOrigins: c.RelatedOrigins, Algorithms: c.Algorithms, Trust: trust,
		MaxBodyBytes: c.MaxBodyBytes, RequestTimeout: c.RequestTimeout, MaxInFlight: c.MaxInFlight,
		// Absolute Graph links (@odata.nextLink, Location) name the issuer,
		// which is the first origin unless configured otherwise.
		PublicURL: c.Issuer,
		TenantID:  c.TenantID, OIDCSigningAlgorithm: c.OIDCAlg,
		TracerProvider:         tp,
		TrustedProxies:         c.TrustedProxies,
		SignInLogRetentionDays: c.SignInLogRetentionDays, AuditLogRetentionDays: c.AuditLogRetentionDays,
	})
}

// loadTrust builds the attestation trust store (buildTrust) and logs what it
// trusts so "attestation untrusted" can be told apart from "no anchor
// loaded" at a glance.
func loadTrust(c config.Config, now time.Time) (*attestation.TrustStore, error) {
	ts, err := buildTrust(c, now)
	if err != nil {
		return nil, err
	}
	sum := ts.Summary()
	mds := "none"
	if c.MDSBlob != "" {
		mds = c.MDSBlob
	}
	slog.Info("attestation trust", "files", trustFiles(c),
		"any_aaguid_roots", sum.AnyAAGUID, "aaguids_with_roots", sum.AAGUIDs, "mds_blob", mds, "mds_distrusted_aaguids", sum.Distrusted)
	if info := ts.MDSInfo(); c.MDSBlob != "" {
		level := slog.LevelInfo
		if now.After(info.NextUpdate) {
			level = slog.LevelWarn // stale: replace the blob (it is never fetched)
		}
		slog.Log(context.Background(), level, "FIDO MDS blob", "no", info.Number, "next_update", info.NextUpdate.Format(time.DateOnly),
			"stale", now.After(info.NextUpdate), "refuse_stale", c.MDSRefuseStale, "entries", info.Entries, "skipped_entries", len(info.Skipped))
		for _, s := range info.Skipped {
			slog.Debug("FIDO MDS entry skipped", "why", s)
		}
	}
	return ts, nil
}

// buildTrust builds the attestation trust store from the configured files
// and the lab CA. now is when the MDS blob's chain is judged.
func buildTrust(c config.Config, now time.Time) (*attestation.TrustStore, error) {
	tc := attestation.TrustConfig{MDSBlob: c.MDSBlob, MDSRoot: c.MDSRoot, RefuseStaleMDS: c.MDSRefuseStale, AAGUIDCatalog: c.AAGUIDCatalog}
	for _, a := range c.TrustAnchors {
		if strings.Contains(a, "=") {
			tc.Entries = append(tc.Entries, a)
			continue
		}
		files, err := pemFiles(a)
		if err != nil {
			return nil, fmt.Errorf("attestation trust anchors: %w", err)
		}
		tc.CatchAll = append(tc.CatchAll, files...)
	}
	if c.LabCA {
		_, certPath, created, err := labca.Ensure(c.DataDir)
		if err != nil {
			return nil, err
		}
		if created {
			slog.Info("lab attestation CA created", "cert", certPath)
		}
		tc.CatchAll = append(tc.CatchAll, certPath)
	}
	ts, err := attestation.LoadTrustStore(tc, now)
	if err != nil {
		return nil, fmt.Errorf("attestation trust anchors: %w", err)
	}
	return ts, nil
}

// trustFiles names the anchor files a start loads, for the log: the
// configured ones (folders expanded) and the lab CA.
func trustFiles(c config.Config) []string {
	var out []string
	for _, a := range c.TrustAnchors {
		if strings.Contains(a, "=") {
			out = append(out, a)
		} else if files, err := pemFiles(a); err == nil {
			out = append(out, files...)
		}
	}
	if c.LabCA {
		cert, _ := labca.Paths(c.DataDir)
		out = append(out, cert)
	}
	return out
}

// pemFiles is path itself, or for a folder (a mounted trust-anchors
// directory) the *.pem files in it, sorted; an empty folder trusts nothing
// more.
func pemFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.pem"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

func runServe(args []string) error {
	c, err := loadConfig("serve", args, nil)
	if err != nil {
		return err
	}
	tuneGC()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := c.CheckDataDir(); err != nil {
		return err
	}

	dsn, stopDB, err := database(ctx, c)
	if err != nil {
		return err
	}
	defer stopDB()
	gomaxprocs, why := procs.Server(c.MaxProcs, dsn)
	slog.Info("go processors", "gomaxprocs", gomaxprocs, "cores", runtime.NumCPU(), "why", why)
	tp, stopTracing, err := startTracing(ctx, c)
	if err != nil {
		return err
	}
	defer stopTracing()
	srv, err := newServerTraced(ctx, c, dsn, tp)
	if err != nil {
		return err
	}
	defer srv.Close()
	go srv.Maintain(ctx)

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	serveTLS, err := setupTLS(ctx, hs, c)
	if err != nil {
		ln.Close()
		return err
	}
	slog.Info("rpserver listening", "addr", ln.Addr().String(), "tls", serveTLS, "rp_id", c.RPID, "origins", c.Origins, "issuer", c.Issuer, "data_dir", c.DataDir)
	removeRuntime, err := c.WriteRuntime(config.Runtime{Issuer: c.Issuer, Origins: c.Origins, URL: loopbackURL(ln.Addr(), serveTLS), PID: os.Getpid()})
	if err != nil {
		return err
	}
	defer removeRuntime()
	if c.PprofListen != "" {
		go servePprof(c.PprofListen)
	}
	errc := make(chan error, 1)
	go func() {
		if serveTLS {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	if c.LabInit {
		go func() {
			// The listener is bound, so lab init's API calls queue until
			// Serve accepts them. Its TAP goes to stdout, never to the log.
			if err := fillLabTenant(ctx, c, dsn, loopbackURL(ln.Addr(), serveTLS), c.Origins[0], "lab.example", os.Stdout); err != nil {
				slog.Error("lab init: the starting tenant was not created (run rpserver lab init to retry)", "err", err)
			}
		}()
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		return shutdown(hs, srv, c, errc)
	}
	return nil
}

// setupTLS gives hs the configured certificate, reloaded from its files on
// every SIGHUP until ctx ends (a failed reload is logged and the current
// certificate kept), and says whether to serve TLS. HTTP/2 comes with it:
// net/http negotiates h2 over TLS by ALPN.
func setupTLS(ctx context.Context, hs *http.Server, c config.Config) (bool, error) {
	if c.TLSCert == "" {
		return false, nil
	}
	r, err := tlsreload.New(c.TLSCert, c.TLSKey)
	if err != nil {
		return false, err
	}
	hs.TLSConfig = r.TLSConfig()
	slog.Info("TLS certificate loaded", "subject", r.Leaf().Subject.CommonName, "dns_names", r.Leaf().DNSNames, "not_after", r.Leaf().NotAfter)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := r.Reload(); err != nil {
					slog.Error("SIGHUP: TLS certificate not reloaded; still serving the previous one", "err", err)
					continue
				}
				slog.Info("SIGHUP: TLS certificate reloaded", "dns_names", r.Leaf().DNSNames, "not_after", r.Leaf().NotAfter)
			}
		}
	}()
	return true, nil
}

// shutdown is the SIGTERM path: readiness goes off first (so a load balancer
// stops routing here while the listener still accepts), then the listener
// closes and in-flight requests finish within the bound; the deferred
// srv.Close then commits every queued sign-in log record before the pool
// closes. A request acknowledged before the signal is never lost.
func shutdown(hs *http.Server, srv *server.Server, c config.Config, errc <-chan error) error {
	started := time.Now()
	srv.Handler.Drain()
	slog.Info("shutting down: readiness off", "delay", c.ShutdownDelay, "timeout", c.ShutdownTimeout)
	time.Sleep(c.ShutdownDelay)
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", c.ShutdownTimeout, err)
	}
	<-errc
	slog.Info("shut down: in-flight requests finished", "took", time.Since(started).Round(time.Millisecond))
	return nil
}

func runMigrate(args []string) error {
	c, err := loadConfig("migrate", args, nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	dsn, err := serverDatabase(ctx, c, "migrate")
	if err != nil {
		return err
	}
	from, to, err := store.Migrate(ctx, dsn)
	if err != nil {
		return err
	}
	fmt.Printf("schema version %d -> %d\n", from, to)
	return nil
}

// loopbackURL is the URL a client on this machine calls to reach addr.
func loopbackURL(addr net.Addr, tls bool) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// servePprof exposes Go's profiles on a separate loopback listener, for
// finding where a load test's time goes; never on the public listener.
func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	slog.Info("pprof listening", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		slog.Error("pprof listener", "err", err)
	}
}
