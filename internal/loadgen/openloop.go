package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// The open loop. A closed loop (N workers, each starting its next ceremony
// when its last one ends) slows down with the server, so a stalled server
// is sent fewer requests and the stall shows as one slow sample instead of
// the hundreds of users who would have waited: coordinated omission. Here
// arrivals follow a schedule that does not depend on the answers, and each
// ceremony's latency is measured from the time it was due, not the time it
// was sent, so queueing anywhere (in the generator, the kernel, the server,
// the database) is in the percentiles.
//
// Bounds: at most MaxOutstanding ceremonies in flight, and a virtual user is
// in one ceremony at a time (see doc.go). An arrival that finds either limit
// reached is not queued (that would move the queue into the generator,
// unbounded) but dropped and counted by reason, so a run that could not
// offer its load says so. When the schedule ends, the ceremonies still in
// flight are awaited (each bounded by the request timeout): leaving the
// slowest out would flatter the tail.

func (c *Config) openLoop() bool { return c.Rate > 0 || len(c.Stages) > 0 }

func (c *Config) validateOpenLoop() error {
	if c.Rate < 0 || math.IsNaN(c.Rate) || c.Rate > MaxRate {
		return fmt.Errorf("rate %g: want 0 < rate <= %d arrivals per second", c.Rate, MaxRate)
	}
	if c.Rate > 0 && len(c.Stages) > 0 {
		return errors.New("give a rate or stages, not both")
	}
	if len(c.Stages) > 0 && c.Duration > 0 {
		return errors.New("the stages set the duration: give no duration with them")
	}
	if c.Rate > 0 && c.Duration == 0 && c.SignIns > 0 {
		// The count at that rate: the schedule must still end by itself.
		c.Duration = time.Duration(math.Ceil(float64(c.SignIns)/c.Rate*1e9)) + time.Millisecond
	}
	var total time.Duration
	for _, st := range c.Stages {
		if st.Duration <= 0 || st.Rate < 0 || st.Rate > MaxRate {
			return fmt.Errorf("stage %v: want a positive duration and a rate 0..%d", st, MaxRate)
		}
		total += st.Duration
	}
	if total > MaxScheduleTotal || (c.Rate > 0 && c.Duration > MaxScheduleTotal) {
		return fmt.Errorf("schedule longer than %s", MaxScheduleTotal)
	}
	return nil
}

func (c *Config) schedule() *schedule {
	if c.Rate > 0 {
		return newSchedule([]Stage{{Duration: c.Duration, Rate: c.Rate}}, c.Rate)
	}
	return newSchedule(c.Stages, 0)
}

// openLoopPhase sends the scheduled arrivals, each a sign-in of a free
// user, and returns when the schedule (or the SignIns count) is done and
// the last ceremony has ended.
func (e *engine) openLoopPhase(ctx context.Context, ready []*vuser) (Phase, string) {
	sched := e.cfg.schedule()
	pool := make(chan *vuser, len(ready))
	for _, u := range ready {
		pool <- u
	}
	slots := make(chan struct{}, e.cfg.MaxOutstanding)
	rec := NewRecorder()
	start := rec.start
	var outstanding atomic.Int64

	stop := make(chan struct{})
	var pg sync.WaitGroup
	pg.Add(1)
	go e.progressOpen(rec, sched, &outstanding, stop, &pg)

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var wg sync.WaitGroup
	stoppedBy := "duration"
arrivals:
	for k := 0; ; k++ {
		if e.cfg.SignIns > 0 && k >= e.cfg.SignIns {
			stoppedBy = "sign-ins"
			break
		}
		due, ok := sched.at(k)
		if !ok {
			break
		}
		intended := start.Add(due)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break arrivals
			}
		} else if ctx.Err() != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		default:
			rec.Arrival(due, 0, DropOutstanding)
			continue
		}
		scenario := e.cycle[k%len(e.cycle)]
		var u *vuser
		if needsUser(scenario) {
			select {
			case u = <-pool:
			default:
				<-slots
				rec.Arrival(due, 0, DropNoFreeUser)
				continue
			}
		}
		rec.Arrival(due, time.Since(intended), "")
		outstanding.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.attempt(ctx, rec, scenario, u, intended)
			if u != nil {
				pool <- u
			}
			outstanding.Add(-1)
			<-slots
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	pg.Wait()
	if ctx.Err() != nil {
		stoppedBy = "interrupted"
	}
	return rec.Summary(elapsed), stoppedBy
}

func (e *engine) progressOpen(rec *Recorder, sched *schedule, outstanding *atomic.Int64, stop <-chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	if e.cfg.Progress == nil {
		return
	}
	report := func() {
		p := rec.Progress("signin", e.scenarioOps()...)
		p.OpenLoop, p.Scheduled, p.Outstanding = true, sched.rateAt(p.Elapsed), int(outstanding.Load())
		e.cfg.Progress(p)
	}
	t := time.NewTicker(e.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			report()
			return
		case <-t.C:
			report()
		}
	}
}
