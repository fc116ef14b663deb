package tlsreload_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rpserver/rpserver/internal/labtls"
	"github.com/rpserver/rpserver/internal/tlsreload"
)

func TestReloadSwapsAndKeepsOnError(t *testing.T) {
	dir := t.TempDir()
	if _, err := labtls.Generate(dir, labtls.Options{RPID: "passkeys.lab.example"}); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, labtls.CertFile), filepath.Join(dir, labtls.KeyFile)
	r, err := tlsreload.New(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	first := r.Leaf().SerialNumber
	if _, err := labtls.Generate(dir, labtls.Options{RPID: "passkeys.lab.example"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil || r.Leaf().SerialNumber.Cmp(first) == 0 {
		t.Fatalf("reload: %v, serial unchanged %v", err, r.Leaf().SerialNumber.Cmp(first) == 0)
	}
	second := r.Leaf().SerialNumber
	// A broken renewal is refused; the served certificate stays.
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil {
		t.Fatal("a broken key was loaded")
	}
	if c, _ := r.GetCertificate(nil); c.Leaf.SerialNumber.Cmp(second) != 0 {
		t.Fatal("the served certificate changed after a failed reload")
	}
	if _, err := tlsreload.New(cert, key); err == nil {
		t.Fatal("New accepted a broken key")
	}
	if cfg := r.TLSConfig(); cfg.NextProtos[0] != "h2" || cfg.MinVersion == 0 {
		t.Fatalf("tls config %+v", cfg)
	}
}
