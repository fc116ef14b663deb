package loadgen

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	r := NewRecorder()
	for i := 1; i <= 100; i++ {
		r.Observe(OpSignIn, time.Duration(i)*time.Millisecond)
	}
	r.Fail(OpSignIn, "tooManyFailedAttempts")
	for range 9 {
		r.Arrival(0, 0, "")
	}
	r.Arrival(0, 10*time.Millisecond, "")
	r.Arrival(time.Second, 0, DropNoFreeUser)
	setup := NewRecorder()
	setup.Observe(OpRegistration, 30*time.Millisecond)
	return &Report{Mode: "open-loop", SignIn: r.Summary(2 * time.Second), Setup: setup.Summary(time.Second)}
}

func TestThresholds(t *testing.T) {
	rep := sampleReport()
	// 100 ok + 1 failed sign-in: errors 0.99%; 11 arrivals, 1 dropped, 1 late.
	for expr, pass := range map[string]bool{
		"signin.p99<100ms": true, "signin.p99<99ms": false, "signin.p99<=99ms": true, "signin.p50 < 50.5ms": true,
		"signin.max<=100ms": true, "signin.mean>50ms": true, "signin.p999<1s": true, "signin.p99.9<100ms": false,
		"errors<1%": true, "errors<0.5%": false, "errors<=0.01": true, "signin.errors<1%": true,
		"dropped<10%": true, "dropped<5%": false, "late<=9.1%": true,
		"signin.rate>=50": true, "signin.rate>50": false, "signin.count>=100": true,
		"registration.p99<40ms": true,  // found in setup
		"signin.begin.p99<1s":   false, // no sample: never passes
	} {
		th, err := ParseThreshold(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if res := th.Check(rep); res.Passed != pass {
			t.Errorf("%s: passed %v (observed %v, %s), want %v", expr, res.Passed, res.Observed, res.Reason, pass)
		}
	}
	for _, bad := range []string{"", "signin", "signin.p99", "signin.p99<", "signin.p99<fast", "signin.p99<-1ms", "errors<200%",
		"signin.p42<1ms", "p99<1ms", "signin.dropped<1%", "errors=1%", "rate>5"} {
		if _, err := ParseThreshold(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	closed := &Report{Mode: "closed-loop", SignIn: rep.SignIn}
	th, _ := ParseThreshold("dropped<1%")
	if res := th.Check(closed); res.Passed || !strings.Contains(res.Reason, "open-loop") {
		t.Fatalf("dropped on a closed loop: %+v", res)
	}
	if rep.CheckThresholds([]Threshold{th}) != false || len(rep.Thresholds) != 1 {
		t.Fatalf("CheckThresholds %+v", rep.Thresholds)
	}
	if s := rep.Thresholds[0].String(); !strings.Contains(s, "observed 9.091%") {
		t.Fatalf("rendered %q", s)
	}
}

func TestOutputs(t *testing.T) {
	rep := sampleReport()
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteOutputs(dir, rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"summary.json", "timeseries.csv", "signin.signin.hgrm", "setup.registration.hgrm"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	hgrm, _ := os.ReadFile(filepath.Join(dir, "signin.signin.hgrm"))
	if !strings.Contains(string(hgrm), "Value") || !strings.Contains(string(hgrm), "Percentile") {
		t.Fatalf("hgrm:\n%s", hgrm)
	}
	if h := rep.SignIn.Histogram(OpSignIn); h.TotalCount() != 100 || h.ValueAtQuantile(99) < 98900 || h.ValueAtQuantile(99) > 99100 {
		t.Fatalf("histogram count %d p99 %dµs", h.TotalCount(), h.ValueAtQuantile(99))
	}
	var buf bytes.Buffer
	if err := WriteTimeSeries(&buf, rep.SignIn); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// All samples completed within the first second (the recorder is
	// fresh); the drop was due in second 1, which gets a row too.
	if len(rows) != 3 || rows[0][0] != "second" || rows[1][1] != "10" || rows[1][3] != "1" || rows[1][4] != OpSignIn ||
		rows[1][5] != "100" || rows[1][6] != "1" || rows[2][0] != "1" || rows[2][2] != "1" || rows[2][5] != "0" {
		t.Fatalf("rows %v", rows)
	}
}
