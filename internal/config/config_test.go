package config

import (
	"flag"
	"strings"
	"testing"
)

func load(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	for _, k := range []string{"RPSERVER_LISTEN", "RPSERVER_ORIGINS", "RPSERVER_RP_ID", "DATABASE_URL", "RPSERVER_MASTER_KEY"} {
		t.Setenv(k, "")
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	get := Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return get()
}

func TestDefaultsWork(t *testing.T) {
	c, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SignInLogRetentionDays != 30 || c.AuditLogRetentionDays != 30 {
		t.Fatalf("retention defaults: %d, %d days", c.SignInLogRetentionDays, c.AuditLogRetentionDays)
	}
	if c.RPID != "localhost" || len(c.Origins) != 1 || c.Origins[0] != "http://localhost:8080" || c.Issuer != c.Origins[0] {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"http origin off localhost": {[]string{"-rp-id", "lab.example", "-origins", "http://lab.example"}, "https"},
		"origin not under RP ID":    {[]string{"-rp-id", "lab.example", "-origins", "https://evil.example"}, "not \"lab.example\""},
		"RP ID with scheme":         {[]string{"-rp-id", "https://lab.example"}, "bare domain"},
		"listen without port":       {[]string{"-listen", "localhost"}, "host:port"},
		"tiny body cap":             {[]string{"-max-body-bytes", "10"}, "max body"},
		"bad log level":             {[]string{"-log-level", "loud"}, "log level"},
		"missing anchor file":       {[]string{"-trust-anchors", "/nonexistent.pem"}, "trust anchor"},
		"bad master key":            {[]string{"-master-key", "short"}, "32 bytes"},
		"no sign-in log retention":  {[]string{"-signin-log-retention-days", "0"}, "sign-in log retention"},
		"audit log kept for ages":   {[]string{"-audit-log-retention-days", "5000"}, "audit log retention"},
	}
	for name, c := range cases {
		_, err := load(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want mention of %q", name, err, c.want)
		}
	}
	if _, err := load(t, "-rp-id", "lab.example", "-origins", "https://login.lab.example"); err != nil {
		t.Fatalf("subdomain origin refused: %v", err)
	}
}

func TestMasterKeyMadeOnceAndKept(t *testing.T) {
	c := Config{DataDir: t.TempDir()}
	k1, err := c.LoadMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := c.LoadMasterKey()
	if err != nil || string(k1) != string(k2) || len(k1) != 32 {
		t.Fatalf("master key not kept: %v", err)
	}
}
