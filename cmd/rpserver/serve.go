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
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/labca"
	"github.com/rpserver/rpserver/internal/methods"
	capolicy "github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/risk"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/tokens"
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

// app is the wired server, shared by serve and the tests of cmd.
// close drains the sign-in log (queued records are committed while the pool
// is still open) and then closes the pool.
func (a *app) close() {
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if err := a.signInLog.Close(cctx); err != nil {
		slog.Error("sign-in log not drained", "err", err)
	}
	a.db.Close()
}

type app struct {
	db       *store.DB
	handler  http.Handler
	webauthn ceremony.Store
	// signInLog must be closed (drained) before db.
	signInLog *signinlog.BatchWriter
}

func buildApp(ctx context.Context, c config.Config, dsn string) (*app, error) {
	from, to, err := store.Migrate(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if from != to {
		slog.Info("database migrated", "from", from, "to", to)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	key, err := c.LoadMasterKey()
	if err != nil {
		db.Close()
		return nil, err
	}
	sealer, err := tokens.NewSealer(key)
	if err != nil {
		db.Close()
		return nil, err
	}
	issuer, err := tokens.NewIssuer(ctx, db.Keys(), sealer, c.Issuer)
	if err != nil {
		db.Close()
		return nil, err
	}
	trust, err := loadTrust(c)
	if err != nil {
		db.Close()
		return nil, err
	}
	dir := &directory.Service{Store: db.Directory()}
	policy := methods.New(db.Methods(), db.Methods(), db.WebAuthn(), dir)
	cer, err := ceremony.New(ceremony.Config{RPID: c.RPID, RPDisplayName: c.RPDisplayName, Origins: c.Origins, Trust: trust},
		db.WebAuthn(), ceremony.DirectoryUsers{Store: db.Directory()}, policy)
	if err != nil {
		db.Close()
		return nil, err
	}
	signInLog := signinlog.NewBatchWriter(db.SignIns(), signinlog.Options{})
	riskSvc := &risk.Service{Store: db.RiskyUsers()}
	var ca *conditionalaccess.Service
	signIn := signin.New(signin.Deps{
		Log:      signInLog,
		Policies: signin.PolicyFunc(func(ctx context.Context) (*capolicy.CompiledPolicies, error) { return ca.Compiled(ctx) }),
		Issuer:   issuer, Sealer: sealer, Factors: db.Factors(), Ceremony: cer, RPName: c.RPDisplayName,
		Users: signin.DirectoryUsers{ByUPN: func(ctx context.Context, upn string) (string, error) {
			u, err := db.Directory().GetUserByUPN(ctx, upn)
			return u.ID, err
		}},
	})
	policy.SecondFactors = signIn.HasSecondFactor
	ca = conditionalaccess.New(db.ConditionalAccess(), db.Directory(), signIn.RegisteredModes)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := api.New(api.Deps{
		Directory:    &directory.Service{Store: db.Directory()},
		Issuer:       issuer,
		DB:           db,
		MaxBodyBytes: c.MaxBodyBytes,
		Registry:     reg,
		Ceremony:     cer,
		// 20 failed ceremonies per client address per 5 minutes.
		FailureLimiter: ratelimit.New(20, 5*time.Minute),
		Methods:        policy,
		SignIn:         signIn,
		Sessions:       signIn,
		// The pages' origins, for the CSRF check of cookie-carrying calls.
		Origins: c.Origins,

		ConditionalAccess: ca,
		SignInLogs:        db.SignIns(),
		Risk:              riskSvc,
	})
	return &app{db: db, handler: srv, webauthn: db.WebAuthn(), signInLog: signInLog}, nil
}

// loadTrust builds the attestation trust store from the configured files
// and the lab CA, and logs what it trusts so "attestation untrusted" can be
// told apart from "no anchor loaded" at a glance.
func loadTrust(c config.Config) (*attestation.TrustStore, error) {
	tc := attestation.TrustConfig{MDSBlob: c.MDSBlob, MDSRoot: c.MDSRoot}
	for _, a := range c.TrustAnchors {
		if strings.Contains(a, "=") {
			tc.Entries = append(tc.Entries, a)
		} else {
			tc.CatchAll = append(tc.CatchAll, a)
		}
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
	ts, err := attestation.LoadTrustStore(tc, time.Now())
	if err != nil {
		return nil, fmt.Errorf("attestation trust anchors: %w", err)
	}
	sum := ts.Summary()
	mds := "none"
	if c.MDSBlob != "" {
		mds = c.MDSBlob
	}
	slog.Info("attestation trust", "files", append(append([]string{}, c.TrustAnchors...), labCAFile(c)...),
		"any_aaguid_roots", sum.AnyAAGUID, "aaguids_with_roots", sum.AAGUIDs, "mds_blob", mds, "mds_distrusted_aaguids", sum.Distrusted)
	return ts, nil
}

func labCAFile(c config.Config) []string {
	if !c.LabCA {
		return nil
	}
	cert, _ := labca.Paths(c.DataDir)
	return []string{cert}
}

// purgeAbandoned removes abandoned ceremonies and push requests so those
// tables stay small.
func purgeAbandoned(ctx context.Context, s ceremony.Store, pushes signin.FactorStore) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := s.PurgeExpiredChallenges(ctx, now); err != nil {
				slog.Warn("purging expired challenges", "err", err)
			} else if n > 0 {
				slog.Debug("purged expired challenges", "count", n)
			}
			if n, err := pushes.PurgeExpiredPushRequests(ctx, now); err != nil {
				slog.Warn("purging expired push requests", "err", err)
			} else if n > 0 {
				slog.Debug("purged expired push requests", "count", n)
			}
		}
	}
}

func runServe(args []string) error {
	c, err := loadConfig("serve", args, nil)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	dsn, stopDB, err := database(ctx, c)
	if err != nil {
		return err
	}
	defer stopDB()
	a, err := buildApp(ctx, c, dsn)
	if err != nil {
		return err
	}
	defer a.close()
	go purgeAbandoned(ctx, a.webauthn, a.db.Factors())

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	hs := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	slog.Info("rpserver listening", "addr", ln.Addr().String(), "rp_id", c.RPID, "origins", c.Origins, "issuer", c.Issuer, "data_dir", c.DataDir)
	removeRuntime, err := c.WriteRuntime(config.Runtime{Issuer: c.Issuer, Origins: c.Origins, URL: loopbackURL(ln.Addr()), PID: os.Getpid()})
	if err != nil {
		return err
	}
	defer removeRuntime()
	if c.PprofListen != "" {
		go servePprof(c.PprofListen)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		slog.Info("shutting down")
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		if err := hs.Shutdown(sctx); err != nil {
			return err
		}
	}
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
func loopbackURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
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
