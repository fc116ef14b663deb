package phone_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/phone"
	"github.com/rpserver/rpserver/virtualauthn"
)

func TestStoreIsOwnerOnlyAndNamesItsUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alice.phone")
	st := &phone.Store{Version: 1, UserPrincipalName: "alice@lab.example", Preset: "ms-ios", DeviceToken: "secret"}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	back, ok, err := phone.LoadStore(path)
	if err != nil || !ok || back.DeviceToken != "secret" {
		t.Fatalf("load %+v %v %v", back, ok, err)
	}
	ca, _ := virtualauthn.NewTestCA()
	for name, c := range map[string]struct {
		cfg  phone.Config
		want string
	}{
		"another user":   {phone.Config{UPN: "bob@lab.example"}, "phone of alice@lab.example"},
		"another model":  {phone.Config{Preset: "yubikey"}, "holds a ms-ios authenticator"},
		"no store":       {phone.Config{UPN: "x@lab.example", StorePath: "-"}, ""},
		"unknown preset": {phone.Config{UPN: "x@lab.example", StorePath: filepath.Join(t.TempDir(), "x"), Preset: "nokia"}, "unknown preset"},
	} {
		c.cfg.Target, c.cfg.CA = "http://127.0.0.1:1", ca
		if c.cfg.StorePath == "" {
			c.cfg.StorePath = path
		} else if c.cfg.StorePath == "-" {
			c.cfg.StorePath = ""
			c.want = "-store FILE is required"
		}
		if _, err := phone.Open(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	if p, err := phone.Open(phone.Config{Target: "http://127.0.0.1:1", StorePath: path, CA: ca}); err != nil || p.UPN() != "alice@lab.example" || p.Preset() != "ms-ios" {
		t.Fatalf("reopen from the store alone: %v", err)
	}
}
