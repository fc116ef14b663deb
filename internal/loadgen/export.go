package loadgen

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Machine-readable output of a run, for CI and plotting:
//
//	summary.json     the Report (as -json prints it), thresholds included
//	timeseries.csv   one row per second of the timed phase and operation
//	<phase>.<op>.hgrm  HdrHistogram percentile distribution per operation,
//	                 in milliseconds, as HdrHistogram's plotter reads it
//
// The histograms are filled from the exact samples at the end, so they
// agree with the summary's percentiles to HDR's 3 significant digits.

// WriteOutputs writes the files above into dir, creating it.
func WriteOutputs(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	var errs []error
	errs = append(errs, writeFile(filepath.Join(dir, "summary.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}))
	errs = append(errs, writeFile(filepath.Join(dir, "timeseries.csv"), func(w io.Writer) error { return WriteTimeSeries(w, r.SignIn) }))
	for name, ph := range map[string]Phase{"setup": r.Setup, "signin": r.SignIn} {
		for _, op := range ph.Operations {
			if len(ph.samples[op.Name]) == 0 {
				continue
			}
			errs = append(errs, writeFile(filepath.Join(dir, name+"."+op.Name+".hgrm"), func(w io.Writer) error {
				_, err := ph.Histogram(op.Name).PercentilesPrint(w, 5, 1000)
				return err
			}))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// Histogram returns op's latencies as an HDR histogram in microseconds
// (1 µs to 1 hour, 3 significant digits); slower samples are clamped to
// the top, none is lost.
func (p Phase) Histogram(op string) *hdrhistogram.Histogram {
	const top = int64(time.Hour / time.Microsecond)
	h := hdrhistogram.New(1, top, 3)
	for _, s := range p.samples[op] {
		_ = h.RecordValue(min(max(int64(s.d/time.Microsecond), 1), top))
	}
	return h
}

// WriteTimeSeries writes the phase per second: for each second and
// operation the successes and failures that completed in it and their
// latency percentiles, with the second's open-loop arrivals, drops and late
// sends repeated on each of its rows (so one filter on operation gives a
// complete series).
func WriteTimeSeries(w io.Writer, p Phase) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"second", "arrivals", "dropped", "late", "operation", "ok", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms"})
	seconds := len(p.perSec)
	type cell struct {
		lat    []time.Duration
		errors int
	}
	cells := map[string][]cell{}
	for op, ss := range p.samples {
		for _, s := range ss {
			sec := int(s.at / time.Second)
			seconds = max(seconds, sec+1)
			for len(cells[op]) <= sec {
				cells[op] = append(cells[op], cell{})
			}
			cells[op][sec].lat = append(cells[op][sec].lat, s.d)
		}
	}
	for op, ats := range p.errAt {
		for _, at := range ats {
			sec := int(at / time.Second)
			seconds = max(seconds, sec+1)
			for len(cells[op]) <= sec {
				cells[op] = append(cells[op], cell{})
			}
			cells[op][sec].errors++
		}
	}
	ops := make([]string, 0, len(cells))
	for op := range cells {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	f := func(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 3, 64) }
	for sec := range seconds {
		var arr arrivalSecond
		if sec < len(p.perSec) {
			arr = p.perSec[sec]
		}
		for _, op := range ops {
			var c cell
			if sec < len(cells[op]) {
				c = cells[op][sec]
			}
			slices.Sort(c.lat)
			maxv := time.Duration(0)
			if len(c.lat) > 0 {
				maxv = c.lat[len(c.lat)-1]
			}
			_ = cw.Write([]string{strconv.Itoa(sec), strconv.Itoa(arr.arrivals), strconv.Itoa(arr.dropped), strconv.Itoa(arr.late), op,
				strconv.Itoa(len(c.lat)), strconv.Itoa(c.errors), f(Percentile(c.lat, 50)), f(Percentile(c.lat, 90)), f(Percentile(c.lat, 99)), f(maxv)})
		}
	}
	cw.Flush()
	return cw.Error()
}
