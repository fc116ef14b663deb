// Package retention keeps the sign-in log and the directory audit log for
// their retention window (30 days by default, as Entra ID keeps them) by
// managing the tables' daily partitions (migrations/020_log_partitions.sql):
// it creates each day's partition ahead of time and drops the days wholly
// older than the window, so removing old records is dropping a table and an
// insert only ever meets the small indexes of today's partition.
//
// Nothing here can lose a record: a row whose day has no partition (the
// clock ran ahead, the server was down while the made-ahead days ran out,
// a pass failed) lands in the table's DEFAULT partition, and the next pass
// makes that day's partition and moves the row into it; inserts for a day
// that has begun wait while it is made rather than fail (migration 022).
// Several servers on
// one database may run passes at once: the store serialises the DDL on an
// advisory lock and each step is a no-op when another server did it first.
//
// Removal is by whole UTC day, so a record is kept at least the window and
// less than one day longer. Resolved alerts older than the sign-in log's
// window are deleted too (alerts are few and live in a plain table); an
// unresolved alert is kept.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Store is what a Keeper needs of the database (store.Partitions).
type Store interface {
	Days(ctx context.Context, table string) ([]time.Time, error)
	DefaultDays(ctx context.Context, table string, from, to time.Time) ([]time.Time, error)
	Create(ctx context.Context, table string, day time.Time) (created bool, moved int64, err error)
	Drop(ctx context.Context, table string, day time.Time) (dropped bool, err error)
	PurgeDefault(ctx context.Context, table string, before time.Time) (int64, error)
	PurgeResolvedAlerts(ctx context.Context, before time.Time) (int64, error)
}

// Log is one partitioned log table and how long its records are kept.
type Log struct {
	Table string // store.SignInLog, store.AuditLog
	Days  int    // retention window in days, at least 1
	// Alerts: the table's window also applies to resolved alerts (the
	// sign-in log's, since alerts are about sign-ins).
	Alerts bool
}

// Defaults.
const (
	DefaultDays = 30
	// DefaultAhead days after today get their partition made ahead: with a
	// pass every hour, two days leave a day and more of passes that may fail
	// before any row waits in the DEFAULT partition.
	DefaultAhead    = 2
	DefaultInterval = time.Hour
	// retryInterval is the wait after a pass that failed (a lock timeout
	// while the table was busy, the database away).
	retryInterval = time.Minute
	// MaxDays bounds the window to a year: a day is a partition, and a
	// query not narrowed by time (a GET by id) visits every partition, so
	// thousands of them would make those slow. Entra keeps 30 days and
	// exports anything longer elsewhere.
	MaxDays = 366
)

// Config of a Keeper.
type Config struct {
	Logs     []Log
	Ahead    int              // days after today made ahead; 0: DefaultAhead
	Interval time.Duration    // between passes; 0: DefaultInterval
	Now      func() time.Time // the clock; nil: time.Now
	// Registerer, when set, receives rpserver_retention_passes_total
	// (by result) and rpserver_retention_last_success_timestamp_seconds:
	// alert when the last success is more than a few hours old.
	Registerer prometheus.Registerer
}

// Keeper runs retention passes.
type Keeper struct {
	store Store
	cfg   Config

	passes      *prometheus.CounterVec
	lastSuccess prometheus.Gauge

	mu      sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// New returns a Keeper; it does nothing until Run or Start.
func New(s Store, c Config) (*Keeper, error) {
	if c.Ahead == 0 {
		c.Ahead = DefaultAhead
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	for _, l := range c.Logs {
		if l.Days < 1 || l.Days > MaxDays {
			return nil, fmt.Errorf("retention: %s: %d days: want 1 to %d", l.Table, l.Days, MaxDays)
		}
	}
	if c.Ahead < 0 || c.Ahead > 31 {
		return nil, fmt.Errorf("retention: %d days ahead: want 0 to 31", c.Ahead)
	}
	k := &Keeper{store: s, cfg: c, stop: make(chan struct{}), done: make(chan struct{}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rpserver_retention_passes_total",
			Help: "Retention passes over the partitioned logs, by result (ok, failed)."}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rpserver_retention_last_success_timestamp_seconds",
			Help: "When the last retention pass that succeeded ended (Unix time)."}),
	}
	if c.Registerer != nil {
		if err := c.Registerer.Register(k.passes); err != nil {
			return nil, fmt.Errorf("retention: metrics: %w", err)
		}
		if err := c.Registerer.Register(k.lastSuccess); err != nil {
			return nil, fmt.Errorf("retention: metrics: %w", err)
		}
	}
	return k, nil
}

// Config returns the keeper's settings, defaults filled.
func (k *Keeper) Config() Config { return k.cfg }

const day = 24 * time.Hour

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Run makes one pass over every log: create today's partition and the
// next Ahead days', create the day of any row waiting in the DEFAULT
// partition within the window (moving it), drop the partitions whose whole
// day is older than the window, and purge the DEFAULT partition (and
// resolved alerts) of rows older than it. Each step stands alone: a step
// that fails is reported and the others still run.
func (k *Keeper) Run(ctx context.Context) error {
	err := k.run(ctx)
	if err != nil {
		k.passes.WithLabelValues("failed").Inc()
		return err
	}
	k.passes.WithLabelValues("ok").Inc()
	k.lastSuccess.SetToCurrentTime()
	return nil
}

func (k *Keeper) run(ctx context.Context) error {
	now := k.cfg.Now()
	today := utcDay(now)
	var errs []error
	for _, l := range k.cfg.Logs {
		cutoff := now.Add(-time.Duration(l.Days) * day)
		if err := k.runLog(ctx, l, today, cutoff); err != nil {
			errs = append(errs, err)
		}
		if l.Alerts {
			if n, err := k.store.PurgeResolvedAlerts(ctx, cutoff); err != nil {
				errs = append(errs, err)
			} else if n > 0 {
				slog.Info("retention: resolved alerts deleted", "count", n, "before", cutoff)
			}
		}
	}
	return errors.Join(errs...)
}

func (k *Keeper) runLog(ctx context.Context, l Log, today, cutoff time.Time) error {
	have, err := k.store.Days(ctx, l.Table)
	if err != nil {
		return err
	}
	end := today.Add(time.Duration(k.cfg.Ahead+1) * day)
	var want []time.Time
	for d := today; d.Before(end); d = d.Add(day) {
		want = append(want, d)
	}
	waiting, err := k.store.DefaultDays(ctx, l.Table, cutoff, end)
	if err != nil {
		return err
	}
	want = append(want, waiting...)
	var errs []error
	for _, d := range want {
		if slices.ContainsFunc(have, d.Equal) {
			continue
		}
		created, moved, err := k.store.Create(ctx, l.Table, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		have = append(have, d)
		if created {
			slog.Debug("retention: partition created", "table", l.Table, "day", d.Format(time.DateOnly), "rows_moved_from_default", moved)
		}
		if moved > 0 {
			slog.Info("retention: rows moved out of the default partition", "table", l.Table, "day", d.Format(time.DateOnly), "rows", moved)
		}
	}
	for _, d := range have {
		if d.Add(day).After(cutoff) {
			continue // some of the day is still inside the window
		}
		dropped, err := k.store.Drop(ctx, l.Table, d)
		if err != nil {
			errs = append(errs, err)
		} else if dropped {
			slog.Info("retention: partition dropped", "table", l.Table, "day", d.Format(time.DateOnly), "retention_days", l.Days)
		}
	}
	if n, err := k.store.PurgeDefault(ctx, l.Table, cutoff); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		slog.Info("retention: old rows deleted from the default partition", "table", l.Table, "rows", n)
	}
	return errors.Join(errs...)
}

// Start runs a pass every Interval (a minute after a pass that failed)
// until Close. It does not run one at once: the caller runs the first pass
// (server.New, before serving).
func (k *Keeper) Start() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.started || k.closed {
		return
	}
	k.started = true
	go func() {
		defer close(k.done)
		wait := k.cfg.Interval
		for {
			t := time.NewTimer(wait)
			select {
			case <-k.stop:
				t.Stop()
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			go func() {
				select {
				case <-k.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			err := k.Run(ctx)
			cancel()
			wait = k.cfg.Interval
			if err != nil {
				slog.Warn("retention pass failed; retrying soon (records wait in the default partition meanwhile, none is lost)", "err", err, "retry_in", retryInterval)
				wait = retryInterval
			}
		}
	}()
}

// Close stops the passes started by Start and waits for one in progress
// (cancelled) to end. It is safe to call without Start, and twice.
func (k *Keeper) Close() {
	k.mu.Lock()
	if !k.closed {
		k.closed = true
		close(k.stop)
	}
	started := k.started
	k.mu.Unlock()
	if started {
		<-k.done
	}
}
