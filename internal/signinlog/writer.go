package signinlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// BatchInserter stores a batch of sign-ins in one transaction (Store has it).
type BatchInserter interface {
	InsertSignIns(ctx context.Context, records []SignIn) error
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("signinlog: writer is closed")

// Options tune a BatchWriter; zero values take the defaults.
type Options struct {
	// MaxBatch is the most records one transaction carries (default 256).
	MaxBatch int
	// MaxWait, when positive, lets the flusher linger up to this long for
	// companions once it has a record, while records arrive concurrently
	// (e.g. 2ms). Off by default: BenchmarkSignInLogWrite shows that taking
	// just what queued during the previous transaction (natural group
	// commit) already fills batches under load and keeps client work and
	// the database round trip overlapping, while lingering puts every
	// writer in lock step. Worth trying where commits are very slow.
	MaxWait time.Duration
	// IdleWait ends the linger early when no record arrives for this long
	// (default 100µs, at most MaxWait).
	IdleWait time.Duration
	// FlushTimeout bounds one transaction (default 10s).
	FlushTimeout time.Duration
	// Now is the clock for records without a createdDateTime (default time.Now).
	Now func() time.Time
}

// Stats counts what the writer did since it started.
type Stats struct {
	Records      int64 // records acknowledged as committed
	Failed       int64 // records whose write failed
	Transactions int64 // transactions run (batches, plus one per record when a batch is retried record by record)
	Batches      int64 // batches taken from the queue
	LargestBatch int64
}

// BatchWriter is the durable, group-committing Writer. Concurrent Write
// calls enqueue their record and wait; one goroutine takes whatever is
// queued (up to MaxBatch), inserts it in ONE transaction and wakes every
// waiter with the outcome. A commit costs a WAL flush, so sharing one
// among many sign-ins is what keeps logging off the hot path's critical
// latency while still acknowledging a record only once it is durable.
type BatchWriter struct {
	store BatchInserter
	opts  Options
	queue chan *pending
	done  chan struct{}

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool

	records, failed, txs, batches, largest atomic.Int64
}

type pending struct {
	rec    SignIn
	result chan error // buffered: the flusher never blocks on a gone waiter
}

var _ Writer = (*BatchWriter)(nil)

// NewBatchWriter starts the flusher; call Close to drain and stop it.
func NewBatchWriter(store BatchInserter, opts Options) *BatchWriter {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.MaxWait < 0 {
		opts.MaxWait = 0
	}
	if opts.IdleWait <= 0 || opts.IdleWait > opts.MaxWait {
		opts.IdleWait = min(100*time.Microsecond, opts.MaxWait)
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &BatchWriter{store: store, opts: opts, queue: make(chan *pending, 4*opts.MaxBatch), done: make(chan struct{})}
	go w.loop()
	return w
}

// Write stores s and returns nil only once it is committed. The record is
// normalised first (see Normalize); set s.ID beforehand to know the id.
//
// If ctx ends while the record waits, Write returns an error wrapping
// ctx.Err(), but the record may still be committed by the batch it joined:
// cancellation abandons the wait, not the write (undoing it would mean
// failing every other record of the batch). Writing the same id again is
// safe: the store skips ids it already has.
func (w *BatchWriter) Write(ctx context.Context, s SignIn) error {
	if err := Normalize(&s, w.opts.Now()); err != nil {
		return err
	}
	p := &pending{rec: s, result: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- p:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return fmt.Errorf("signinlog: sign-in %s not queued: %w", s.ID, ctx.Err())
	}
	select {
	case err := <-p.result:
		return err
	case <-ctx.Done():
		return fmt.Errorf("signinlog: stopped waiting for sign-in %s, which may still be committed: %w", s.ID, ctx.Err())
	}
}

// Close stops accepting records, commits every record already queued and
// waits for the flusher to finish, or for ctx to end.
func (w *BatchWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("signinlog: close: records still being written: %w", ctx.Err())
	}
}

// Stats reports counters (for tests, benchmarks and metrics).
func (w *BatchWriter) Stats() Stats {
	return Stats{Records: w.records.Load(), Failed: w.failed.Load(), Transactions: w.txs.Load(),
		Batches: w.batches.Load(), LargestBatch: w.largest.Load()}
}

func (w *BatchWriter) loop() {
	defer close(w.done)
	batch := make([]*pending, 0, w.opts.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	lastSize := 0
	for {
		first, ok := <-w.queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := w.drain(&batch)
		// Linger only when the previous batch had company: under load a
		// short wait fills the next transaction, but a lone sign-in should
		// not pay for companions that are not coming. The wait ends as soon
		// as arrivals pause for IdleWait (everyone who was coming has come),
		// and never lasts beyond MaxWait.
		if open && w.opts.MaxWait > 0 && lastSize > 1 && len(batch) < w.opts.MaxBatch {
			w.linger(&batch, timer)
		}
		lastSize = len(batch)
		// After Close, the receive at the top keeps taking what is left in
		// the queue until it reports !ok: Close drains.
		w.flush(batch)
	}
}

// linger adds records arriving within IdleWait of each other, up to
// MaxWait in all. It reports false once the queue is closed and empty.
func (w *BatchWriter) linger(batch *[]*pending, timer *time.Timer) bool {
	deadline := time.Now().Add(w.opts.MaxWait)
	for len(*batch) < w.opts.MaxBatch {
		gap := min(w.opts.IdleWait, time.Until(deadline))
		if gap <= 0 {
			return true
		}
		timer.Reset(gap)
		select {
		case p, ok := <-w.queue:
			timer.Stop()
			if !ok {
				return false
			}
			*batch = append(*batch, p)
			if !w.drain(batch) {
				return false
			}
		case <-timer.C:
			return true
		}
	}
	return true
}

// drain takes what is already queued, without waiting. It reports false
// once the queue is closed and empty.
func (w *BatchWriter) drain(batch *[]*pending) bool {
	for len(*batch) < w.opts.MaxBatch {
		select {
		case p, ok := <-w.queue:
			if !ok {
				return false
			}
			*batch = append(*batch, p)
		default:
			return true
		}
	}
	return true
}

func (w *BatchWriter) flush(batch []*pending) {
	recs := make([]SignIn, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
	}
	w.batches.Add(1)
	if n := int64(len(batch)); n > w.largest.Load() {
		w.largest.Store(n) // only the flusher writes it
	}
	err := w.insert(recs)
	if err != nil && len(batch) > 1 {
		// One transaction failed for all; retry each record alone so a
		// single bad record cannot fail its neighbours. If the database is
		// down, each retry fails fast with the same error.
		slog.Warn("sign-in log batch failed; retrying record by record", "records", len(batch), "err", err)
		for i, p := range batch {
			w.finish(p, w.insert(recs[i:i+1]))
		}
		return
	}
	for _, p := range batch {
		w.finish(p, err)
	}
}

func (w *BatchWriter) insert(recs []SignIn) error {
	// Not any caller's context: one caller giving up must not abort the
	// transaction that carries everyone else's records.
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.FlushTimeout)
	defer cancel()
	w.txs.Add(1)
	return w.store.InsertSignIns(ctx, recs)
}

func (w *BatchWriter) finish(p *pending, err error) {
	if err != nil {
		w.failed.Add(1)
		err = fmt.Errorf("signinlog: write sign-in %s: %w", p.rec.ID, err)
	} else {
		w.records.Add(1)
	}
	p.result <- err
}
