package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Stage is one segment of an open-loop arrival schedule: over Duration the
// arrival rate moves linearly from the previous stage's Rate (0 before the
// first stage) to this Rate, as k6's ramping-arrival-rate does. A constant
// -rate N with -duration D is the single stage {D, N} starting at N.
type Stage struct {
	Duration time.Duration
	Rate     float64 // arrivals per second at the stage's end
}

// MarshalJSON writes the duration in seconds, as every other duration in the
// report.
func (s Stage) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"durationSeconds":%g,"ratePerSecond":%g}`, s.Duration.Seconds(), s.Rate), nil
}

// Bounds of a schedule: a lab generator on one machine, and a run that ends.
const (
	MaxRate          = 100000         // arrivals per second
	MaxScheduleTotal = 24 * time.Hour // sum of the stages
)

// ParseRate reads "200" or "200/s" (arrivals per second).
func ParseRate(s string) (float64, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(r) || r <= 0 || r > MaxRate {
		return 0, fmt.Errorf("rate %q: want arrivals per second, 0 < N <= %d (e.g. 200 or 200/s)", s, MaxRate)
	}
	return r, nil
}

// ParseStages reads "30s:200,60s:1000,30s:0": each DURATION:RATE ramps to
// RATE arrivals per second over DURATION.
func ParseStages(s string) ([]Stage, error) {
	var out []Stage
	var total time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ds, rs, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("stages: %q is not DURATION:RATE (e.g. 30s:200)", part)
		}
		d, err := time.ParseDuration(strings.TrimSpace(ds))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("stages: %q: duration must be positive, e.g. 30s", part)
		}
		r, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rs), "/s"), 64)
		if err != nil || math.IsNaN(r) || r < 0 || r > MaxRate {
			return nil, fmt.Errorf("stages: %q: rate must be 0..%d arrivals per second", part, MaxRate)
		}
		total += d
		out = append(out, Stage{Duration: d, Rate: r})
	}
	if len(out) == 0 {
		return nil, errors.New("stages: none given")
	}
	if total > MaxScheduleTotal {
		return nil, fmt.Errorf("stages: %s in total, more than %s", total, MaxScheduleTotal)
	}
	return out, nil
}

// schedule turns stages into intended arrival times. Arrival k (k = 0, 1,
// ...) is due when the cumulative expected count ∫rate reaches k+1, so
// arrivals follow the rate exactly, not a tick; the times depend only on
// the stages, never on how fast the server answers (that is what makes the
// load open).
type schedule struct {
	stages []Stage
	from   []float64       // rate at each stage's start
	starts []time.Duration // offset of each stage's start
	counts []float64       // cumulative arrivals at each stage's start
	total  time.Duration
}

func newSchedule(stages []Stage, startRate float64) *schedule {
	s := &schedule{stages: stages}
	prev, n := startRate, 0.0
	for _, st := range stages {
		s.from = append(s.from, prev)
		s.starts = append(s.starts, s.total)
		s.counts = append(s.counts, n)
		n += (prev + st.Rate) / 2 * st.Duration.Seconds()
		s.total += st.Duration
		prev = st.Rate
	}
	s.counts = append(s.counts, n)
	return s
}

// expected is the number of arrivals the whole schedule offers.
func (s *schedule) expected() int { return int(math.Floor(s.counts[len(s.counts)-1] + 1e-9)) }

// at returns the offset of arrival k from the phase start, or false when
// the schedule has fewer arrivals.
func (s *schedule) at(k int) (time.Duration, bool) {
	target := float64(k + 1)
	for i, st := range s.stages {
		if target > s.counts[i+1]+1e-9 {
			continue
		}
		// Solve a·t² + b·t = m within the stage, where the rate is
		// b + 2a·t; the form 2m/(b+√(b²+4am)) is stable for a → 0 and
		// also covers ramps from zero (b = 0) and down (a < 0).
		m := target - s.counts[i]
		d := st.Duration.Seconds()
		b := s.from[i]
		a := (st.Rate - b) / (2 * d)
		disc := math.Max(b*b+4*a*m, 0)
		den := b + math.Sqrt(disc)
		if den <= 0 {
			return 0, false
		}
		t := min(2*m/den, d)
		return s.starts[i] + time.Duration(t*float64(time.Second)), true
	}
	return 0, false
}

// rateAt is the scheduled rate at offset t, for the progress display.
func (s *schedule) rateAt(t time.Duration) float64 {
	for i, st := range s.stages {
		if t < s.starts[i]+st.Duration {
			f := (t - s.starts[i]).Seconds() / st.Duration.Seconds()
			return s.from[i] + (st.Rate-s.from[i])*f
		}
	}
	return 0
}
