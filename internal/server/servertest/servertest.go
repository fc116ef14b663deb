// Package servertest starts the real application (server.New) on a loopback
// listener for end-to-end tests, so no test builds the server by hand and
// every test talks to what `rpserver serve` runs (as dex's newTestServer).
package servertest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/internal/tokens"
)

// Server is a running application and its listener.
type Server struct {
	*server.Server
	// URL is the listener's base URL (http://127.0.0.1:port).
	URL  string
	HTTP *httptest.Server
	// Config is what the server was built with, defaults filled: pass it to
	// New again for a second server on the same database (same master key,
	// so tokens and sealed secrets are shared, as between real replicas).
	Config server.Config
}

// New starts a server; zero fields of c get test defaults: a fresh migrated
// database (testpg: the package's TestMain must call testpg.Main), a random
// master key, RP ID localhost, origin http://localhost:<listener port>, the
// first origin as issuer, and a failure limit no test reaches by accident
// (1000 per minute), a 2-minute request deadline. The server closes when the test ends.
func New(t testing.TB, c server.Config) *Server {
	t.Helper()
	return start(t, c, nil)
}

// NewTLS is New served over HTTPS (HTTP/2 on) with tlsConfig, as serve
// -tls-cert does; the default origin is https://<RP ID>:<port>, so give
// the RP ID the certificate names and make the client resolve it to
// 127.0.0.1 (Chromium: --host-resolver-rules).
func NewTLS(t testing.TB, c server.Config, tlsConfig *tls.Config) *Server {
	t.Helper()
	return start(t, c, tlsConfig)
}

func start(t testing.TB, c server.Config, tlsConfig *tls.Config) *Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	if c.DatabaseURL == "" {
		c.DatabaseURL = testpg.NewDatabase(t)
	}
	if c.MasterKey == nil {
		c.MasterKey = make([]byte, 32)
		_, _ = rand.Read(c.MasterKey)
	}
	if c.RPID == "" {
		c.RPID = "localhost"
	}
	if c.RPDisplayName == "" {
		c.RPDisplayName = "rpserver lab"
	}
	if len(c.Origins) == 0 {
		port := hs.Listener.Addr().(*net.TCPAddr).Port
		if tlsConfig != nil {
			c.Origins = []string{fmt.Sprintf("https://%s:%d", c.RPID, port)}
		} else {
			c.Origins = []string{fmt.Sprintf("http://localhost:%d", port)}
		}
	}
	if c.Issuer == "" {
		c.Issuer = c.Origins[0]
	}
	if c.FailureLimit == 0 {
		c.FailureLimit, c.FailureWindow = 1000, time.Minute
	}
	if c.RequestTimeout == 0 {
		// Bursts of argon2 checks under the race detector on a 2-core
		// machine take longer than serve's 15 s; a test wants the answer,
		// not a deadline (the overload tests set their own).
		c.RequestTimeout = 2 * time.Minute
	}
	s, err := server.New(context.Background(), c)
	if err != nil {
		hs.Listener.Close()
		t.Fatalf("servertest: %v", err)
	}
	hs.Config.Handler = s.Handler
	if tlsConfig != nil {
		hs.TLS, hs.EnableHTTP2 = tlsConfig, true
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return &Server{Server: s, URL: hs.URL, HTTP: hs, Config: c}
}

// AdminToken mints an admin token with the given Entra role names, as
// `rpserver admin token` prints (without a directory user behind it).
func (s *Server) AdminToken(t testing.TB, roles ...string) string {
	t.Helper()
	if len(roles) == 0 {
		roles = []string{directory.RoleGlobalAdministrator}
	}
	tok, err := s.Issuer.Mint(tokens.Claims{UPN: "admin@lab.example", Roles: roles}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
