package signinlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// BatchInserter stores a batch of entries in one transaction (the store
// has it): every record, with the credential uses advanced by conditional
// updates and the challenge claims taken in the same commit. refused[i]
// reports that entry i's use was refused (its counter no longer advances:
// NotAdvanced; its claim did not hold: ClaimRefused), in which case its
// record is not stored either; the other entries are unaffected.
type BatchInserter interface {
	InsertEntries(ctx context.Context, entries []Entry) (refused []Refusal, err error)
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("signinlog: writer is closed")

// Options tune a BatchWriter; zero values take the defaults.
type Options struct {
	// MaxBatch is the most records one transaction carries (default 256).
	MaxBatch int
	// MaxWait, when positive, lets a batch's leader linger up to this long for
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
	// NotAdvanced counts records refused with ErrCounterNotAdvanced.
	NotAdvanced int64
	// ClaimsRefused counts records refused with ErrClaimRefused.
	ClaimsRefused int64
}

// BatchWriter is the durable, group-committing Writer. Concurrent Write
// calls queue their record and wait; whoever finds no transaction running
// becomes the leader: it takes whatever is queued (up to MaxBatch),
// inserts it in ONE transaction and wakes every waiter with the outcome.
// A commit costs a WAL flush, so sharing one among many sign-ins is what
// keeps logging off the hot path's critical latency while still
// acknowledging a record only once it is durable.
//
// The leader is a writer's own goroutine, not a background flusher: a
// sign-in that finds the log idle (every one at light load) commits its
// record itself, without the two goroutine hand-offs (to a flusher and
// back) that would each wake a processor. Records that queue while a
// transaction runs are committed by a new goroutine that takes over the
// lead, so no writer waits for more than the transaction it joined.
type BatchWriter struct {
	store BatchInserter
	opts  Options
	// slots bounds the queued and uncommitted records, so an overloaded
	// database holds writers back instead of growing the queue.
	slots chan struct{}
	// arrived tells a lingering leader that a record queued (MaxWait only).
	arrived chan struct{}
	drained chan struct{} // closed once closed and nothing is left to commit

	mu       sync.Mutex
	queue    []*pending // queued records, oldest first
	leading  bool       // a goroutine is committing (or about to)
	closed   bool
	announce bool // drained is closed

	// Owned by the current leader: leadership passes under mu.
	batch    []*pending
	lastSize int

	records, failed, txs, batches, largest, notAdvanced, claimsRefused atomic.Int64
}

type pending struct {
	entry  Entry
	result chan error // buffered: the leader never blocks on a gone waiter
}

var _ Writer = (*BatchWriter)(nil)

// NewBatchWriter returns a writer; call Close to drain it.
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
	return &BatchWriter{store: store, opts: opts,
		slots:   make(chan struct{}, 4*opts.MaxBatch),
		arrived: make(chan struct{}, 1),
		drained: make(chan struct{}),
		batch:   make([]*pending, 0, opts.MaxBatch),
	}
}

// Write stores s and returns nil only once it is committed. The record is
// normalised first (see Normalize); set s.ID beforehand to know the id.
//
// If ctx ends while the record waits for another goroutine's transaction,
// Write returns an error wrapping ctx.Err(), but the record may still be
// committed by the batch it joined: cancellation abandons the wait, not
// the write (undoing it would mean failing every other record of the
// batch). A Write that leads runs its transaction to the end, bounded by
// FlushTimeout, whatever ctx does. Writing the same id again is safe: the
// store skips ids it already has.
func (w *BatchWriter) Write(ctx context.Context, s SignIn) error {
	return w.write(ctx, Entry{SignIn: s})
}

// WriteUse is Write for a passkey sign-in whose credential use (counter,
// backup state, last use) commits in the same transaction; the record is
// stored only if the counter still advances (ErrCounterNotAdvanced).
func (w *BatchWriter) WriteUse(ctx context.Context, s SignIn, use *CredentialUse) error {
	return w.write(ctx, Entry{SignIn: s, Use: use})
}

func (w *BatchWriter) write(ctx context.Context, e Entry) error {
	if err := Normalize(&e.SignIn, w.opts.Now()); err != nil {
		return err
	}
	// About 2 KB with one applied policy: sized so the encoding does
	// not grow the buffer.
	doc, err := e.SignIn.AppendJSON(make([]byte, 0, 3072))
	if err != nil {
		return fmt.Errorf("signinlog: encode sign-in %s: %w", e.SignIn.ID, err)
	}
	e.Doc = doc
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("signinlog: sign-in %s not queued: %w", e.SignIn.ID, ctx.Err())
	}
	p := &pending{entry: e, result: make(chan error, 1)}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.slots
		return ErrClosed
	}
	w.queue = append(w.queue, p)
	lead := !w.leading
	w.leading = true
	w.mu.Unlock()
	if lead {
		// Answered by now: the leader's record is the first of its batch.
		// Not a select with ctx, which could report a committed record
		// as abandoned.
		w.lead(context.WithoutCancel(ctx))
		return <-p.result
	} else if w.opts.MaxWait > 0 {
		select {
		case w.arrived <- struct{}{}:
		default:
		}
	}
	select {
	case err := <-p.result:
		return err
	case <-ctx.Done():
		return fmt.Errorf("signinlog: stopped waiting for sign-in %s, which may still be committed: %w", e.SignIn.ID, ctx.Err())
	}
}

// Close stops accepting records, lets every record already queued be
// committed, and waits for that, or for ctx to end.
func (w *BatchWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	if !w.leading {
		w.announceDrainedLocked()
	}
	w.mu.Unlock()
	select {
	case <-w.drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("signinlog: close: records still being written: %w", ctx.Err())
	}
}

func (w *BatchWriter) announceDrainedLocked() {
	if w.closed && !w.announce {
		w.announce = true
		close(w.drained)
	}
}

// Stats reports counters (for tests, benchmarks and metrics).
func (w *BatchWriter) Stats() Stats {
	return Stats{Records: w.records.Load(), Failed: w.failed.Load(), Transactions: w.txs.Load(),
		Batches: w.batches.Load(), LargestBatch: w.largest.Load(), NotAdvanced: w.notAdvanced.Load(),
		ClaimsRefused: w.claimsRefused.Load()}
}

// lead commits one batch as the leader, then hands the lead to a new
// goroutine if records queued meanwhile, or gives it up.
//
// trace is the context whose values (the trace) the transaction carries:
// the leading request's, without its cancellation, so the commit shows in
// the trace of the sign-in that ran it.
func (w *BatchWriter) lead(trace context.Context) {
	w.mu.Lock()
	batch := w.takeLocked(w.batch[:0])
	w.mu.Unlock()
	// Linger only when the previous batch had company: under load a
	// short wait fills the next transaction, but a lone sign-in should
	// not pay for companions that are not coming. The wait ends as soon
	// as arrivals pause for IdleWait (everyone who was coming has come),
	// and never lasts beyond MaxWait.
	if w.opts.MaxWait > 0 && w.lastSize > 1 && len(batch) < w.opts.MaxBatch {
		batch = w.linger(batch)
	}
	w.lastSize = len(batch)
	// One conditional update per credential and transaction: a second use
	// of the same credential goes back to the queue's head for the next
	// transaction, so each is judged against the counter the first left.
	batch, carry := splitRepeatedCredentials(batch, nil)
	if len(carry) > 0 {
		w.mu.Lock()
		w.queue = append(carry, w.queue...)
		w.mu.Unlock()
	}
	w.flush(trace, batch)
	clear(batch[:cap(batch)]) // the waiters have their answers; keep no record (nor a carried one) alive
	w.batch = batch
	w.mu.Lock()
	more := len(w.queue) > 0
	if !more {
		w.leading = false
		w.announceDrainedLocked()
	}
	w.mu.Unlock()
	if more {
		go w.lead(context.Background())
	}
}

// takeLocked moves up to MaxBatch queued records, oldest first, to batch.
func (w *BatchWriter) takeLocked(batch []*pending) []*pending {
	n := min(len(w.queue), w.opts.MaxBatch-len(batch))
	batch = append(batch, w.queue[:n]...)
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	return batch
}

// splitRepeatedCredentials keeps in batch the entries whose credential (if
// any) is the first of its kind, and whose claimed challenge (if any) too,
// and moves the others to carry, in order: each is then judged against
// what the other committed (a challenge claimed twice is taken once).
func splitRepeatedCredentials(batch, carry []*pending) ([]*pending, []*pending) {
	seen := map[string]bool{}
	var claimed map[string]bool
	kept := batch[:0]
	for _, p := range batch {
		if u := p.entry.Use; u != nil {
			if seen[string(u.CredentialID)] || (u.Claim != nil && claimed[string(u.Claim.Nonce)]) {
				carry = append(carry, p)
				continue
			}
			seen[string(u.CredentialID)] = true
			if u.Claim != nil {
				if claimed == nil {
					claimed = map[string]bool{}
				}
				claimed[string(u.Claim.Nonce)] = true
			}
		}
		kept = append(kept, p)
	}
	return kept, carry
}

// linger adds records arriving within IdleWait of each other, up to
// MaxWait in all.
func (w *BatchWriter) linger(batch []*pending) []*pending {
	deadline := time.Now().Add(w.opts.MaxWait)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for len(batch) < w.opts.MaxBatch {
		gap := min(w.opts.IdleWait, time.Until(deadline))
		if gap <= 0 {
			break
		}
		timer.Reset(gap)
		select {
		case <-w.arrived:
			w.mu.Lock()
			batch = w.takeLocked(batch)
			w.mu.Unlock()
		case <-timer.C:
			return batch
		}
	}
	return batch
}

func (w *BatchWriter) flush(trace context.Context, batch []*pending) {
	recs := make([]Entry, len(batch))
	for i, p := range batch {
		recs[i] = p.entry
	}
	w.batches.Add(1)
	if n := int64(len(batch)); n > w.largest.Load() {
		w.largest.Store(n) // only the leader writes it
	}
	refused, err := w.insert(trace, recs)
	if err != nil && len(batch) > 1 {
		// One transaction failed for all; retry each record alone so a
		// single bad record cannot fail its neighbours. If the database is
		// down, each retry fails fast with the same error.
		slog.Warn("sign-in log batch failed; retrying record by record", "records", len(batch), "err", err)
		for i, p := range batch {
			r, err := w.insert(trace, recs[i:i+1])
			w.finish(p, err, verdict(r, 0))
		}
		return
	}
	for i, p := range batch {
		w.finish(p, err, verdict(refused, i))
	}
}

// verdict is refused[i], Stored when the insert failed (refused is nil).
func verdict(refused []Refusal, i int) Refusal {
	if i < len(refused) {
		return refused[i]
	}
	return Stored
}

func (w *BatchWriter) insert(trace context.Context, recs []Entry) (na []Refusal, err error) {
	// No caller's cancellation (trace carries only values): one caller
	// giving up must not abort the transaction that carries everyone
	// else's records.
	ctx, cancel := context.WithTimeout(trace, w.opts.FlushTimeout)
	defer cancel()
	// The leader is a request's goroutine, whose panic the HTTP server
	// recovers: a store that panics must fail the batch, not leave the
	// writer led by nobody and every later record waiting.
	defer func() {
		if v := recover(); v != nil {
			slog.Error("sign-in log store panicked", "panic", v, "stack", string(debug.Stack()))
			na, err = nil, fmt.Errorf("signinlog: store panicked: %v", v)
		}
	}()
	w.txs.Add(1)
	na, err = w.store.InsertEntries(ctx, recs)
	if err == nil && len(na) != len(recs) {
		err = fmt.Errorf("signinlog: store answered for %d of %d entries", len(na), len(recs))
	}
	return na, err
}

// finish answers p: refused is its verdict when err is nil.
func (w *BatchWriter) finish(p *pending, err error, refused Refusal) {
	switch {
	case err != nil:
		w.failed.Add(1)
		err = fmt.Errorf("signinlog: write sign-in %s: %w", p.entry.SignIn.ID, err)
	case refused == NotAdvanced:
		w.notAdvanced.Add(1)
		err = ErrCounterNotAdvanced
	case refused == ClaimRefused:
		w.claimsRefused.Add(1)
		err = ErrClaimRefused
	default:
		w.records.Add(1)
	}
	p.result <- err
	<-w.slots
}
