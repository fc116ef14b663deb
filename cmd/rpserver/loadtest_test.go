package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tokens"
)

func TestLoadtestRefusesBadSetups(t *testing.T) {
	t.Setenv("RPSERVER_ADMIN_TOKEN", "")
	for name, args := range map[string][]string{
		"remote target":     {"-target", "http://192.0.2.10:8080", "-token", "x", "-sign-ins", "1"},
		"no token":          {"-target", "http://127.0.0.1:1", "-sign-ins", "1"},
		"unknown preset":    {"-mix", "nokia=1", "-token", "x"},
		"half a CA":         {"-ca-cert", "x.pem", "-token", "x"},
		"stray argument":    {"-token", "x", "now"},
		"zero rate":         {"-token", "x", "-rate", "0"},
		"bad rate":          {"-token", "x", "-rate", "fast"},
		"bad stages":        {"-token", "x", "-stages", "30s"},
		"rate + stages":     {"-token", "x", "-rate", "5", "-stages", "1s:5"},
		"stages + dur":      {"-token", "x", "-stages", "1s:5", "-duration", "2s"},
		"one remote of two": {"-token", "x", "-sign-ins", "1", "-target", "http://127.0.0.1:1", "-target", "http://192.0.2.1:80"},
		"negative procs":    {"-token", "x", "-max-procs", "-1"},
	} {
		var out, errb bytes.Buffer
		if err := loadtest(context.Background(), args, &out, &errb, false, nil, keepProcs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadtestWriteCA(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "lab-ca")
	var out bytes.Buffer
	if err := loadtest(context.Background(), []string{"-write-ca", prefix}, &out, &out, false, nil, keepProcs); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTestCA(prefix+".pem", prefix+"-key.pem"); err != nil {
		t.Fatalf("written CA does not load: %v", err)
	}
	if st, _ := os.Stat(prefix + "-key.pem"); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode())
	}
	// Never overwrite a CA a server may already trust.
	if err := loadtest(context.Background(), []string{"-write-ca", prefix}, &out, &out, false, nil, keepProcs); err == nil {
		t.Fatal("overwrote an existing CA")
	}
}

func TestPrintReport(t *testing.T) {
	r := &loadgen.Report{Target: "http://127.0.0.1:8080", Origin: "http://localhost:8080", RunID: "ab12", Users: 2, UsersReady: 2, Concurrency: 2,
		Mix: []loadgen.MixEntry{{Preset: "ms-ios", Weight: 1}}, StoppedBy: "duration", SessionBootstrap: "tap",
		SignIn: loadgen.Phase{ElapsedSeconds: 2, Errors: map[string]int{"tooManyFailedAttempts": 3},
			Operations: []loadgen.OpStats{{Name: loadgen.OpSignIn, Count: 100, Errors: 3, Throughput: 50, P50Ms: 4, P95Ms: 9, P99Ms: 12}}}}
	var out bytes.Buffer
	printReport(&out, r)
	for _, want := range []string{"setup: 2 of 2 users registered", "sign-in: 100 ok, 3 failed in 2.00s = 50.0 sign-ins/s (stopped by duration)",
		"signin", "tooManyFailedAttempts          3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestLoadtestThresholdsFailTheRun runs the command against the real server
// (an open-loop run to two targets on one database) and checks that a
// broken threshold fails it, a kept one passes, and -out writes the files.
func TestLoadtestThresholdsFailTheRun(t *testing.T) {
	srv := servertest.New(t, server.Config{})
	second := servertest.New(t, srv.Config)
	sessions := func(_ context.Context, u loadgen.User) (string, error) {
		return srv.Issuer.Mint(tokens.Claims{UPN: u.UserPrincipalName, AMR: []string{"temporaryAccessPassOneTime"},
			Data: signin.PortalSessionData(policy.ModeTemporaryAccessPassOneTime)}.WithSubject(u.ID), tokens.AudienceSession, time.Hour)
	}
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"-target", srv.URL, "-target", second.URL, "-origin", srv.Config.Origins[0], "-token", srv.AdminToken(t),
		"-users", "4", "-rate", "40", "-sign-ins", "20", "-data-dir", t.TempDir(), "-out", out}
	var stdout, stderr bytes.Buffer
	err := loadtest(context.Background(), append(args, "-threshold", "signin.p99<1us", "-threshold", "errors<0.1%"), &stdout, &stderr, false, sessions, keepProcs)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 thresholds failed") {
		t.Fatalf("err %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	// The arrival line, not its figures: on a loaded machine some of the 20
	// arrivals are dropped at the outstanding bound, as an open loop should.
	for _, want := range []string{"FAIL signin.p99<1us", "ok   errors<0.1%", "arrivals: "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, f := range []string{"summary.json", "timeseries.csv", "signin.signin.hgrm"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	stdout.Reset()
	if err := loadtest(context.Background(), append(args, "-threshold", "signin.p99<30s", "-json"), &stdout, &stderr, false, sessions, keepProcs); err != nil {
		t.Fatalf("kept threshold failed the run: %v\n%s", err, stderr.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.Thresholds) != 1 || !rep.Thresholds[0].Passed || len(rep.Targets) != 2 {
		t.Fatalf("json %v %+v", err, rep.Thresholds)
	}
	if rep.GoProcessors != runtime.GOMAXPROCS(0) || rep.GoProcessorsWhy != "the test's" {
		t.Errorf("report: %d Go processors (%q), want the ones the run had", rep.GoProcessors, rep.GoProcessorsWhy)
	}
	if err := loadtest(context.Background(), append(args, "-threshold", "signin.p99"), &stdout, &stderr, false, sessions, keepProcs); err == nil {
		t.Fatal("a malformed threshold was accepted")
	}
}

// keepProcs leaves the test process's Go processors as they are.
func keepProcs(int) (int, string) { return runtime.GOMAXPROCS(0), "the test's" }
