package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestParseStagesAndRate(t *testing.T) {
	st, err := ParseStages("30s:200, 60s:1000/s,30s:0")
	if err != nil {
		t.Fatal(err)
	}
	want := []Stage{{30 * time.Second, 200}, {60 * time.Second, 1000}, {30 * time.Second, 0}}
	if len(st) != 3 || st[0] != want[0] || st[1] != want[1] || st[2] != want[2] {
		t.Fatalf("stages %v", st)
	}
	// 0→200 over 30 s, 200→1000 over 60 s, 1000→0 over 30 s.
	if n := newSchedule(st, 0).expected(); n != 3000+36000+15000 {
		t.Fatalf("expected arrivals %d", n)
	}
	for _, bad := range []string{"", "30s", "30:200", "-1s:5", "0s:5", "10s:-1", "10s:x", "10s:1e9", "25h:1"} {
		if _, err := ParseStages(bad); err == nil {
			t.Errorf("stages %q accepted", bad)
		}
	}
	if r, err := ParseRate("250/s"); err != nil || r != 250 {
		t.Fatalf("rate %v %v", r, err)
	}
	for _, bad := range []string{"", "0", "-3", "fast", "1e9", "NaN"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("rate %q accepted", bad)
		}
	}
}

func TestScheduleArrivalTimes(t *testing.T) {
	// Constant 100/s for 1 s: arrival k at (k+1)·10 ms, exactly 100 of them.
	s := newSchedule([]Stage{{time.Second, 100}}, 100)
	for k := range 100 {
		at, ok := s.at(k)
		if !ok || absDur(at-time.Duration(k+1)*10*time.Millisecond) > time.Microsecond {
			t.Fatalf("arrival %d at %v ok %v", k, at, ok)
		}
	}
	if _, ok := s.at(100); ok {
		t.Fatal("101st arrival in a 100-arrival schedule")
	}

	// A ramp 0→100/s over 2 s offers 100 arrivals; the cumulative count is
	// 25·t², so arrival k is due at √((k+1)/25) s, denser towards the end.
	s = newSchedule([]Stage{{2 * time.Second, 100}}, 0)
	if s.expected() != 100 {
		t.Fatalf("expected %d", s.expected())
	}
	prev := time.Duration(-1)
	for k := range 100 {
		at, ok := s.at(k)
		want := time.Duration(math.Sqrt(float64(k+1)/25) * float64(time.Second))
		if !ok || absDur(at-want) > time.Microsecond || at <= prev {
			t.Fatalf("arrival %d at %v, want %v", k, at, want)
		}
		prev = at
	}
	// Ramp down 100→0 over 2 s mirrors it, and a hold at 0 offers nothing.
	s = newSchedule([]Stage{{2 * time.Second, 0}, {time.Second, 0}}, 100)
	if s.expected() != 100 {
		t.Fatalf("ramp down expected %d", s.expected())
	}
	last, _ := s.at(99)
	if first, _ := s.at(0); first > 20*time.Millisecond || last > 2*time.Second || last < 1700*time.Millisecond {
		t.Fatalf("ramp down first %v last %v", first, last)
	}
	if r := s.rateAt(time.Second); math.Abs(r-50) > 1e-6 {
		t.Fatalf("rate at 1s %v", r)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
