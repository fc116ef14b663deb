package loadgen

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Operation names, stable in the JSON report.
const (
	OpUserCreate         = "user.create"
	OpGroupJoin          = "group.join" // -group: the user joins the targeted group
	OpTAPCreate          = "tap.create"
	OpTAPSignIn          = "tap.signin"
	OpSession            = "session" // a custom session source, as one step
	OpRegistrationBegin  = "registration.begin"
	OpRegistrationFinish = "registration.finish"
	OpRegistration       = "registration" // begin + authenticator + finish
	OpSignInBegin        = "signin.begin"
	OpSignInFinish       = "signin.finish"
	OpSignIn             = "signin" // begin + authenticator + finish
)

// opOrder is the display order; unknown operations sort after, by name.
var opOrder = []string{OpGroupCreate, OpPolicyCreate, OpAppCreate, OpUserCreate, OpGroupJoin, OpSession, OpTAPCreate, OpTAPSignIn,
	OpRegistrationBegin, OpRegistrationFinish, OpRegistration, OpPushRegister, OpOnboarding,
	OpSignInBegin, OpSignInFinish, OpSignIn, OpDiscoverableBegin, OpDiscoverableFinish, OpDiscoverable,
	OpStepUpBegin, OpStepUpPassword, OpPushBegin, OpPushRespond, OpPushComplete, OpStepUp,
	OpOIDCAuthorize, OpOIDCBegin, OpOIDCPasskeyBegin, OpOIDCPasskeyFinish, OpOIDCComplete, OpOIDCToken, OpOIDC}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted samples: the smallest value with at least p% of samples at or
// below it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Recorder collects latency samples and error codes of one phase. It is safe
// for concurrent use; one mutex is plenty at the few thousand operations per
// second a single server reaches, and it keeps every sample exact. Each
// sample also carries the offset at which it completed, so the per-second
// time series is cut from the same samples as the totals.
type Recorder struct {
	mu     sync.Mutex
	start  time.Time
	ops    map[string]*opRecord
	errors map[string]int

	// Open-loop arrivals: scheduled ones that were sent (arrivals), not sent
	// (dropped, by reason) and sent later than LateAfter (late), each kept
	// per second too.
	arrivals int
	late     int
	dropped  map[string]int
	perSec   []arrivalSecond
}

type opRecord struct {
	samples []sample
	errors  map[string]int
	errAt   []time.Duration // offset of each failure, for the time series
}

type sample struct {
	at, d time.Duration // completion offset from the phase start; latency
}

type arrivalSecond struct{ arrivals, dropped, late int }

// NewRecorder starts a phase now.
func NewRecorder() *Recorder { return newRecorderAt(time.Now()) }

func newRecorderAt(start time.Time) *Recorder {
	return &Recorder{start: start, ops: map[string]*opRecord{}, errors: map[string]int{}, dropped: map[string]int{}}
}

func (r *Recorder) op(name string) *opRecord {
	o := r.ops[name]
	if o == nil {
		o = &opRecord{errors: map[string]int{}}
		r.ops[name] = o
	}
	return o
}

// Observe records one successful operation.
func (r *Recorder) Observe(op string, d time.Duration) {
	at := time.Since(r.start)
	r.mu.Lock()
	o := r.op(op)
	o.samples = append(o.samples, sample{at: at, d: d})
	r.mu.Unlock()
}

// Fail records one failed ceremony (or setup step a user could not get
// past) under its stable error code; these make up Phase.Errors, one per
// failed attempt.
func (r *Recorder) Fail(op, code string) {
	at := time.Since(r.start)
	r.mu.Lock()
	o := r.op(op)
	o.errors[code]++
	o.errAt = append(o.errAt, at)
	r.errors[code]++
	r.mu.Unlock()
}

// FailStep records a failed step inside a ceremony (a begin or finish call)
// without adding to Phase.Errors: the ceremony's own Fail counts the attempt
// once.
func (r *Recorder) FailStep(op, code string) {
	at := time.Since(r.start)
	r.mu.Lock()
	o := r.op(op)
	o.errors[code]++
	o.errAt = append(o.errAt, at)
	r.mu.Unlock()
}

// Reasons an open-loop arrival is not sent.
const (
	DropOutstanding = "maxOutstanding" // the bound on requests in flight was reached
	DropNoFreeUser  = "noFreeUser"     // every virtual user is in a ceremony already
)

// LateAfter is how far behind its intended time an arrival may be sent
// before it counts as late (the generator itself fell behind: CPU, timer
// resolution). Its latency is measured from the intended time either way.
const LateAfter = 5 * time.Millisecond

// Arrival records one open-loop arrival, due at offset due: sent (with how
// late) or dropped for reason.
func (r *Recorder) Arrival(due, lateness time.Duration, dropReason string) {
	sec := int(due / time.Second)
	r.mu.Lock()
	for len(r.perSec) <= sec {
		r.perSec = append(r.perSec, arrivalSecond{})
	}
	if dropReason != "" {
		r.dropped[dropReason]++
		r.perSec[sec].dropped++
	} else {
		r.arrivals++
		r.perSec[sec].arrivals++
		if lateness > LateAfter {
			r.late++
			r.perSec[sec].late++
		}
	}
	r.mu.Unlock()
}

// Progress is a point-in-time view of one operation, for the live display.
type Progress struct {
	Phase    string        `json:"phase"`
	Elapsed  time.Duration `json:"-"`
	Done     int           `json:"done"`
	Errors   int           `json:"errors"`
	Rate     float64       `json:"ratePerSecond"`
	P50, P95 time.Duration `json:"-"`
	// Open loop only: the schedule's current rate, arrivals sent, dropped
	// and late so far.
	OpenLoop    bool    `json:"openLoop,omitempty"`
	Scheduled   float64 `json:"scheduledRatePerSecond,omitempty"`
	Arrivals    int     `json:"arrivals,omitempty"`
	Dropped     int     `json:"dropped,omitempty"`
	Late        int     `json:"late,omitempty"`
	Outstanding int     `json:"outstanding,omitempty"`
}

// Progress summarises ops (together) so far. It copies and sorts their
// samples, which is cheap at display rates (a few times a second).
func (r *Recorder) Progress(phase string, ops ...string) Progress {
	r.mu.Lock()
	elapsed := time.Since(r.start)
	var s []time.Duration
	errs := 0
	for _, op := range ops {
		o := r.op(op)
		s = append(s, latencies(o.samples)...)
		for _, n := range o.errors {
			errs += n
		}
	}
	p := Progress{Phase: phase, Elapsed: elapsed, Done: len(s), Errors: errs, Arrivals: r.arrivals, Late: r.late}
	for _, n := range r.dropped {
		p.Dropped += n
	}
	r.mu.Unlock()
	slices.Sort(s)
	p.P50, p.P95 = Percentile(s, 50), Percentile(s, 95)
	if sec := elapsed.Seconds(); sec > 0 {
		p.Rate = float64(len(s)) / sec
	}
	return p
}

func latencies(samples []sample) []time.Duration {
	s := make([]time.Duration, len(samples))
	for i, x := range samples {
		s[i] = x.d
	}
	return s
}

// OpStats is the summary of one operation. Latencies are milliseconds.
type OpStats struct {
	Name       string         `json:"name"`
	Count      int            `json:"count"` // successful
	Errors     int            `json:"errors"`
	Throughput float64        `json:"throughputPerSecond"` // successful per second of the phase
	MeanMs     float64        `json:"meanMs"`
	P50Ms      float64        `json:"p50Ms"`
	P90Ms      float64        `json:"p90Ms"`
	P95Ms      float64        `json:"p95Ms"`
	P99Ms      float64        `json:"p99Ms"`
	P999Ms     float64        `json:"p999Ms"`
	MaxMs      float64        `json:"maxMs"`
	ErrorCodes map[string]int `json:"errorCodes,omitempty"`
}

// Phase is the report of one phase (setup or sign-in).
type Phase struct {
	ElapsedSeconds float64        `json:"elapsedSeconds"`
	Operations     []OpStats      `json:"operations"`
	Errors         map[string]int `json:"errors"` // failed attempts (ceremonies, setup steps), by stable code

	// Open loop only: arrivals sent, sent late (> LateAfter behind
	// schedule), and not sent, by reason.
	Arrivals int            `json:"arrivals,omitempty"`
	Late     int            `json:"late,omitempty"`
	Dropped  map[string]int `json:"dropped,omitempty"`

	// samples per operation, kept for the time series and histograms
	// (Recorder.Series, HDR); not part of the JSON report.
	samples map[string][]sample
	errAt   map[string][]time.Duration
	perSec  []arrivalSecond
}

// Op returns the named operation's stats (zero value when absent).
func (p Phase) Op(name string) OpStats {
	for _, o := range p.Operations {
		if o.Name == name {
			return o
		}
	}
	return OpStats{Name: name}
}

// DroppedTotal is the number of arrivals not sent, whatever the reason.
func (p Phase) DroppedTotal() int {
	n := 0
	for _, v := range p.Dropped {
		n += v
	}
	return n
}

// Summary freezes the phase; elapsed is the wall time the phase took.
func (r *Recorder) Summary(elapsed time.Duration) Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	ph := Phase{ElapsedSeconds: elapsed.Seconds(), Errors: map[string]int{}, Arrivals: r.arrivals, Late: r.late,
		samples: map[string][]sample{}, errAt: map[string][]time.Duration{}, perSec: slices.Clone(r.perSec)}
	for code, n := range r.errors {
		ph.Errors[code] = n
	}
	for reason, n := range r.dropped {
		if ph.Dropped == nil {
			ph.Dropped = map[string]int{}
		}
		ph.Dropped[reason] = n
	}
	for name, o := range r.ops {
		ph.samples[name] = slices.Clone(o.samples)
		ph.errAt[name] = slices.Clone(o.errAt)
		s := latencies(o.samples)
		slices.Sort(s)
		st := OpStats{Name: name, Count: len(s), P50Ms: ms(Percentile(s, 50)), P90Ms: ms(Percentile(s, 90)), P95Ms: ms(Percentile(s, 95)),
			P99Ms: ms(Percentile(s, 99)), P999Ms: ms(Percentile(s, 99.9))}
		if len(s) > 0 {
			var sum time.Duration
			for _, d := range s {
				sum += d
			}
			st.MeanMs = ms(sum / time.Duration(len(s)))
			st.MaxMs = ms(s[len(s)-1])
		}
		if elapsed > 0 {
			st.Throughput = float64(len(s)) / elapsed.Seconds()
		}
		for code, n := range o.errors {
			if st.ErrorCodes == nil {
				st.ErrorCodes = map[string]int{}
			}
			st.ErrorCodes[code] = n
			st.Errors += n
		}
		if st.Count+st.Errors > 0 {
			ph.Operations = append(ph.Operations, st)
		}
	}
	sort.Slice(ph.Operations, func(i, j int) bool {
		a, b := rank(ph.Operations[i].Name), rank(ph.Operations[j].Name)
		if a != b {
			return a < b
		}
		return ph.Operations[i].Name < ph.Operations[j].Name
	})
	return ph
}

func rank(op string) int {
	if i := slices.Index(opOrder, op); i >= 0 {
		return i
	}
	return len(opOrder)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
