package loadgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Threshold is one pass/fail rule over a report, for CI: "signin.p99<50ms",
// "errors<0.1%", "dropped<=1%", "signin.rate>=900".
//
// Metrics: OP.STAT where STAT is p50, p90, p95, p99, p999 (or p99.9), max,
// mean (durations), rate (successful per second), count, errors (that op's
// failed fraction); or, for the whole timed phase, errors (failed attempts
// over attempts), dropped and late (over scheduled arrivals, open loop).
// An operation is looked up in the timed phase, then in setup. A rule over
// an operation with no sample fails: a threshold never passes on nothing.
type Threshold struct {
	Expr   string  `json:"threshold"`
	Metric string  `json:"metric"`
	Op     string  `json:"op"`
	Value  float64 `json:"value"` // milliseconds for durations, a fraction for percentages
	unit   string  // "ms", "fraction" or ""
}

// ThresholdResult is a Threshold checked against a report.
type ThresholdResult struct {
	Threshold
	Observed float64 `json:"observed"`
	Passed   bool    `json:"passed"`
	Reason   string  `json:"reason,omitempty"` // why it failed without a value
}

var latencyStats = map[string]func(OpStats) float64{
	"p50": func(o OpStats) float64 { return o.P50Ms }, "p90": func(o OpStats) float64 { return o.P90Ms },
	"p95": func(o OpStats) float64 { return o.P95Ms }, "p99": func(o OpStats) float64 { return o.P99Ms },
	"p999": func(o OpStats) float64 { return o.P999Ms }, "p99.9": func(o OpStats) float64 { return o.P999Ms },
	"max": func(o OpStats) float64 { return o.MaxMs }, "mean": func(o OpStats) float64 { return o.MeanMs },
}

// ParseThreshold reads METRIC OP VALUE with OP one of < <= > >=. Values of
// latency stats are durations (50ms, 1.5s, 800us); of errors, dropped and
// late a percentage (0.1%) or a fraction (0.001); of rate and count a
// number.
func ParseThreshold(expr string) (Threshold, error) {
	e := strings.ReplaceAll(expr, " ", "")
	i := strings.IndexAny(e, "<>")
	if i <= 0 {
		return Threshold{}, fmt.Errorf("threshold %q: want METRIC<VALUE, e.g. signin.p99<50ms or errors<0.1%%", expr)
	}
	t := Threshold{Expr: expr, Metric: e[:i], Op: e[i : i+1]}
	rest := e[i+1:]
	if strings.HasPrefix(rest, "=") {
		t.Op += "="
		rest = rest[1:]
	}
	opName, stat := splitMetric(t.Metric)
	var err error
	switch {
	case opName != "" && latencyStats[stat] != nil:
		var d time.Duration
		d, err = time.ParseDuration(rest)
		if err == nil && d < 0 {
			err = fmt.Errorf("negative")
		}
		t.Value, t.unit = ms(d), "ms"
	case (opName == "" && (stat == "errors" || stat == "dropped" || stat == "late")) || (opName != "" && stat == "errors"):
		t.unit = "fraction"
		if p, ok := strings.CutSuffix(rest, "%"); ok {
			t.Value, err = strconv.ParseFloat(p, 64)
			t.Value /= 100
		} else {
			t.Value, err = strconv.ParseFloat(rest, 64)
		}
		if err == nil && (t.Value < 0 || t.Value > 1) {
			err = fmt.Errorf("out of 0..100%%")
		}
	case opName != "" && (stat == "rate" || stat == "count"):
		t.Value, err = strconv.ParseFloat(rest, 64)
	default:
		return Threshold{}, fmt.Errorf("threshold %q: unknown metric %q (OP.p50|p90|p95|p99|p999|max|mean|rate|count|errors, or errors, dropped, late)", expr, t.Metric)
	}
	if err != nil || math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
		return Threshold{}, fmt.Errorf("threshold %q: bad value %q", expr, rest)
	}
	return t, nil
}

// Check evaluates t against r.
func (t Threshold) Check(r *Report) ThresholdResult {
	res := ThresholdResult{Threshold: t}
	observed, reason := t.observe(r)
	if reason != "" {
		res.Reason = reason
		return res
	}
	res.Observed = observed
	switch t.Op {
	case "<":
		res.Passed = observed < t.Value
	case "<=":
		res.Passed = observed <= t.Value
	case ">":
		res.Passed = observed > t.Value
	case ">=":
		res.Passed = observed >= t.Value
	}
	return res
}

func (t Threshold) observe(r *Report) (float64, string) {
	ph := r.SignIn
	switch t.Metric {
	case "errors":
		ok, failed := ph.Attempts()
		if ok+failed == 0 {
			return 0, "no attempts in the timed phase"
		}
		return float64(failed) / float64(ok+failed), ""
	case "dropped", "late":
		scheduled := ph.Arrivals + ph.DroppedTotal()
		if r.Mode != "open-loop" || scheduled == 0 {
			return 0, t.Metric + " needs an open-loop run (-rate or -stages)"
		}
		if t.Metric == "late" {
			return float64(ph.Late) / float64(scheduled), ""
		}
		return float64(ph.DroppedTotal()) / float64(scheduled), ""
	}
	opName, stat := splitMetric(t.Metric)
	o := ph.Op(opName)
	if o.Count+o.Errors == 0 {
		o = r.Setup.Op(opName)
	}
	if o.Count+o.Errors == 0 {
		return 0, "no " + opName + " in this run"
	}
	switch stat {
	case "rate":
		return o.Throughput, ""
	case "count":
		return float64(o.Count), ""
	case "errors":
		return float64(o.Errors) / float64(o.Count+o.Errors), ""
	}
	if o.Count == 0 {
		return 0, "no successful " + opName + " to take a latency of"
	}
	return latencyStats[stat](o), ""
}

// splitMetric splits "signin.begin.p99" into the operation and the stat;
// a phase metric ("errors") has no operation.
func splitMetric(m string) (op, stat string) {
	if o, ok := strings.CutSuffix(m, ".p99.9"); ok {
		return o, "p99.9"
	}
	j := strings.LastIndex(m, ".")
	if j < 0 {
		return "", m
	}
	return m[:j], m[j+1:]
}

// String renders the result for a terminal: the rule, the observed value
// in the rule's unit, and the verdict.
func (r ThresholdResult) String() string {
	verdict := "FAIL"
	if r.Passed {
		verdict = "ok  "
	}
	if r.Reason != "" {
		return fmt.Sprintf("%s %-28s (%s)", verdict, r.Expr, r.Reason)
	}
	var v string
	switch r.unit {
	case "ms":
		v = fmt.Sprintf("%.2fms", r.Observed)
	case "fraction":
		v = fmt.Sprintf("%.3f%%", r.Observed*100)
	default:
		v = fmt.Sprintf("%g", r.Observed)
	}
	return fmt.Sprintf("%s %-28s observed %s", verdict, r.Expr, v)
}

// Attempts counts the phase's attempts (whole ceremonies or flows, of any
// scenario): successful, and failed (each failure once, by Phase.Errors).
func (p Phase) Attempts() (ok, failed int) {
	for _, n := range p.Errors {
		failed += n
	}
	for _, op := range p.Operations {
		if scenarioOps[op.Name] {
			ok += op.Count
		}
	}
	return ok, failed
}

// scenarioOps are the operations that are one attempt each (the whole
// ceremony or flow), the denominator of the errors rate.
var scenarioOps = map[string]bool{OpSignIn: true, OpDiscoverable: true, OpOnboarding: true, OpStepUp: true, OpOIDC: true}
