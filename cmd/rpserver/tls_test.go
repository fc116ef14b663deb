package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeTLSReloadsOnSIGHUP: serve's TLS setup serves the lab certificate
// over HTTP/2, and a new certificate from `lab tls` is served after SIGHUP
// without a restart.
func TestServeTLSReloadsOnSIGHUP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	var out bytes.Buffer
	if err := labCommand([]string{"tls", "-rp-id", "passkeys.lab.example", "-dir", dir, "-ip", "127.0.0.1"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-tls-cert " + filepath.Join(dir, "server.pem"), "new: every device", "update-ca-certificates", "Certificate Trust Settings", "kill -HUP"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("lab tls output lacks %q:\n%s", want, out.String())
		}
	}
	c, err := loadConfig("serve", []string{"-listen", "127.0.0.1:8443", "-rp-id", "passkeys.lab.example",
		"-tls-cert", filepath.Join(dir, "server.pem"), "-tls-key", filepath.Join(dir, "server-key.pem"), "-data-dir", t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Origins) != 1 || c.Origins[0] != "https://passkeys.lab.example:8443" {
		t.Fatalf("default origin over TLS: %v", c.Origins)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(r.Proto)) })}
	on, err := setupTLS(ctx, hs, c)
	if err != nil || !on {
		t.Fatalf("setupTLS %v %v", on, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	defer hs.Close()

	serial := func() (*big.Int, string) {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "passkeys.lab.example", InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		st := conn.ConnectionState()
		return st.PeerCertificates[0].SerialNumber, st.NegotiatedProtocol
	}
	first, proto := serial()
	if proto != "h2" {
		t.Fatalf("ALPN %q, want h2", proto)
	}
	if err := labCommand([]string{"tls", "-rp-id", "passkeys.lab.example", "-dir", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s, _ := serial(); s.Cmp(first) != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new certificate was not served after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, bad := range [][]string{{"tls"}, {"tls", "-rp-id", "x.example", "-ip", "nope", "-dir", t.TempDir()}, {"certs"}} {
		if err := labCommand(bad, &out, &out); err == nil {
			t.Errorf("lab %v accepted", bad)
		}
	}
	if _, err := loadConfig("serve", []string{"-tls-cert", filepath.Join(dir, "server.pem")}, nil); err == nil {
		t.Error("a certificate without a key accepted")
	}
}
