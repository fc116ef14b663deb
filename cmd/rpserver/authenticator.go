package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rpserver/rpserver/internal/authenticatorapi"
	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/labca"
	"github.com/rpserver/rpserver/virtualauthn"
)

const authenticatorUsage = `Usage: rpserver authenticator serve [flags]

Serves virtual authenticators (the loadtest presets) over HTTP on loopback,
for any tool in any language: POST the relying party's creation or request
options, get the PublicKeyCredential JSON a browser would send. Works
against any WebAuthn relying party, not only rpserver. See docs/authenticator.md.

`

func runAuthenticator(args []string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return authenticatorCommand(ctx, args, os.Stderr, nil)
}

// authenticatorCommand is the command without process globals; ready, when
// set, gets the listener's address once it accepts (tests).
func authenticatorCommand(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprint(stderr, authenticatorUsage)
		return errors.New("authenticator: the only action is serve")
	}
	fs := flag.NewFlagSet("authenticator serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, authenticatorUsage); fs.PrintDefaults() }
	listen := fs.String("listen", "127.0.0.1:8091", "loopback address to listen on (127.0.0.0/8 or ::1; anything else is refused)")
	dataDir := fs.String("data-dir", envOr("RPSERVER_DATA_DIR", config.DefaultDataDir()), "an rpserver data folder whose lab CA signs the attestations (RPSERVER_DATA_DIR)")
	caCert := fs.String("ca-cert", "", "attestation CA certificate PEM (with -ca-key) instead of the lab CA")
	caKey := fs.String("ca-key", "", "private key PEM of -ca-cert")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("authenticator serve: unexpected argument %q", fs.Arg(0))
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("authenticator serve: -listen %q: %w", *listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("authenticator serve: -listen %s: loopback only (whoever reaches it signs with every credential it holds)", *listen)
	}
	var ca *virtualauthn.TestCA
	source := "the lab CA of " + *dataDir
	switch {
	case *caCert != "" || *caKey != "":
		if ca, err = loadTestCA(*caCert, *caKey); err != nil {
			return err
		}
		source = *caCert
	default:
		if ca, err = labca.Load(*dataDir); err != nil {
			fmt.Fprintf(stderr, "authenticator serve: %v; using a fresh CA (GET /ca.pem for its root)\n", err)
			if ca, err = virtualauthn.NewTestCA(); err != nil {
				return err
			}
			source = "a fresh CA"
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("authenticator serve: %w", err)
	}
	hs := &http.Server{Handler: authenticatorapi.Handler(authenticatorapi.New(ca)), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 32 << 10}
	slog.Info("authenticator service listening", "addr", "http://"+ln.Addr().String(), "attestation_ca", source)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return hs.Shutdown(sctx)
}
