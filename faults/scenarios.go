package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/pgdev"
	"github.com/rpserver/rpserver/virtualauthn"
)

// suite is what the scenarios share: the binary, a PostgreSQL cluster
// (each scenario gets a fresh database on it), the lab CA and the knobs.
type suite struct {
	bin, work string
	pg        *pgdev.Server
	pgOpts    pgdev.Options
	ca        *virtualauthn.TestCA
	short     bool
	users     int
	workers   int
}

// result is one scenario's line in the report.
type result struct {
	Name     string         `json:"name"`
	Load     string         `json:"load"`
	Faults   string         `json:"faults"`
	Check    check          `json:"check"`
	Errors   map[string]int `json:"errorsByCode"`
	Findings []string       `json:"findings"`
	Pass     bool           `json:"pass"`
	Err      string         `json:"error,omitempty"`
}

// checkWith fills the no-loss check and the error counts once the load is
// over; false (with Err set) when the check itself could not run.
func (r *result) checkWith(ctx context.Context, drv *driver, users []*vuser, since time.Time) bool {
	var err error
	if r.Check, err = drv.verify(ctx, users, since); err != nil {
		r.Err = err.Error()
		return false
	}
	r.Errors = drv.errorSummary()
	return true
}

func (s *suite) dur(short, full time.Duration) time.Duration {
	if s.short {
		return short
	}
	return full
}

// prepare starts a lab of n servers on a fresh database, mints an admin
// token and registers the users.
func (s *suite) prepare(ctx context.Context, name string, n int, extra ...string) (*lab, *driver, []*vuser, error) {
	dsn, err := createDatabase(ctx, s.pg.DSN, "faults_"+name)
	if err != nil {
		return nil, nil, nil, err
	}
	work := s.work + "/" + name
	l, err := newLab(s.bin, work, dsn, n, extra...)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := l.startAll(ctx); err != nil {
		l.stopAll()
		return nil, nil, nil, err
	}
	tok, err := l.adminToken(ctx)
	if err != nil {
		l.stopAll()
		return nil, nil, nil, err
	}
	d := newDriver(l, tok)
	if err := d.enableMethods(ctx); err != nil {
		l.stopAll()
		return nil, nil, nil, err
	}
	users, err := d.setupUsers(ctx, name, s.users, s.ca)
	if err != nil {
		l.stopAll()
		return nil, nil, nil, fmt.Errorf("setup users: %w", err)
	}
	return l, d, users, nil
}

func rate(ops int64, d time.Duration) string {
	return fmt.Sprintf("%.0f sign-ins/s", float64(ops)/d.Seconds())
}

// runLoad drives sign-ins for d while inject runs its faults; it returns
// when both are done.
func (s *suite) runLoad(ctx context.Context, drv *driver, users []*vuser, d time.Duration, inject func(ctx context.Context) []string) (ops int64, findings []string, elapsed time.Duration) {
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan []string, 1)
	go func() { done <- inject(lctx) }()
	t0 := time.Now()
	ops = drv.load(lctx, users, s.workers, 1<<30)
	elapsed = time.Since(t0)
	return ops, <-done, elapsed
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// scenarioMultiServer: three servers on one database, begin and finish on
// different servers; a Conditional Access change mid-load must be in force
// on every server at once, and the per-client failure limit must hold for
// the three together.
func (s *suite) scenarioMultiServer(ctx context.Context) result {
	r := result{Name: "three servers, one database"}
	l, drv, users, err := s.prepare(ctx, "multi", 3)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer l.stopAll()
	probe, users := users[0], users[1:]
	since := time.Now()
	d := s.dur(10*time.Second, 60*time.Second)
	ops, findings, elapsed := s.runLoad(ctx, drv, users, d, func(ctx context.Context) []string {
		sleepCtx(ctx, d/2)
		prop, err := drv.caPropagation(ctx, probe)
		if err != nil {
			return []string{"CA change: " + err.Error()}
		}
		return []string{fmt.Sprintf("CA block policy in force on all 3 servers %s after it was saved (bound: the next sign-in; policies are versioned in the database)", prop.Round(time.Millisecond))}
	})
	r.Findings = append(r.Findings, findings...)
	// Each check comes from its own loopback address: the TAP race and the
	// limit check trip the per-client failure limit on purpose.
	tapFinding, tapOK := drv.from("127.0.0.2").tapAcrossServers(ctx, "multi")
	flowFinding, flowOK := drv.from("127.0.0.3").flowAcrossServers(ctx, "multi")
	limitFinding, limitOK := drv.from("127.0.0.4").failureLimitAcrossServers(ctx, 20)
	r.Findings = append(r.Findings, tapFinding, flowFinding, limitFinding)
	r.Load = fmt.Sprintf("%d workers, %d users, 3 servers, %s, %s", s.workers, len(users), elapsed.Round(time.Second), rate(ops, elapsed))
	r.Faults = "none (begin and finish always on different servers; CA change mid-load)"
	if !r.checkWith(ctx, drv, users, since) {
		return r
	}
	r.Pass = r.Check.ok() && drv.failed() == 0 && limitOK && tapOK && flowOK && !strings.HasPrefix(strings.Join(findings, ""), "CA change:")
	return r
}

// caPropagation saves a policy blocking the probe user and measures how
// long until every server refuses the probe's sign-in.
func (d *driver) caPropagation(ctx context.Context, probe *vuser) (time.Duration, error) {
	policy := map[string]any{
		"displayName": "faults: block probe", "state": "enabled",
		"conditions": map[string]any{
			"users":          map[string]any{"includeUsers": []string{probe.id}},
			"applications":   map[string]any{"includeApplications": []string{"All"}},
			"clientAppTypes": []string{"all"},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
	}
	if err := d.doJSON(ctx, 0, http.MethodPost, "/v1.0/identity/conditionalAccess/policies", d.admin, policy, http.StatusCreated, nil); err != nil {
		return 0, fmt.Errorf("create policy: %w", err)
	}
	saved := time.Now()
	for i := range d.targets {
		for {
			if time.Since(saved) > 30*time.Second {
				return 0, fmt.Errorf("server %d still admits the blocked user 30s after the policy was saved", i)
			}
			err := d.signInVia(ctx, probe, i)
			if err != nil && strings.Contains(err.Error(), "conditionalAccessBlocked") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return time.Since(saved), nil
}

// signInVia runs begin and finish on server i only.
func (d *driver) signInVia(ctx context.Context, u *vuser, i int) error {
	one := &driver{lab: d.lab, targets: []string{d.targets[i]}, admin: d.admin, hc: d.hc, errors: map[string]int{}}
	body := fmt.Sprintf(`{"userPrincipalName":%q}`, u.upn)
	opts, err := one.do(ctx, 0, http.MethodPost, "/webauthn/authentication/begin", "", []byte(body), http.StatusOK)
	if err != nil {
		return err
	}
	a, err := u.auth.Get(opts, d.lab.origin)
	if err != nil {
		return err
	}
	_, err = one.do(ctx, 0, http.MethodPost, "/webauthn/authentication/finish", "", a, http.StatusOK)
	return err
}

// failureLimitAcrossServers sends bad ceremony finishes from one client
// round robin over the servers and counts how many were examined before
// the client was cooled down: at most limit, whichever servers they hit.
func (d *driver) failureLimitAcrossServers(ctx context.Context, limit int) (string, bool) {
	examined := 0
	for i := 0; i < 3*limit; i++ {
		_, err := d.do(ctx, i, http.MethodPost, "/webauthn/authentication/finish", "", []byte(`{"id":"x"}`), http.StatusOK)
		if err != nil && strings.Contains(err.Error(), "429") {
			continue
		}
		examined++
	}
	ok := examined <= limit
	return fmt.Sprintf("failure limit across 3 servers: %d of %d bad attempts examined (limit %d per client)", examined, 3*limit, limit), ok
}

// scenarioKill: a server is killed with SIGKILL mid-load and started
// again; nothing it acknowledged may be missing.
func (s *suite) scenarioKill(ctx context.Context) result {
	r := result{Name: "kill -9 under load"}
	l, drv, users, err := s.prepare(ctx, "kill", 3)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer l.stopAll()
	since := time.Now()
	d := s.dur(12*time.Second, 90*time.Second)
	kills := 0
	ops, findings, elapsed := s.runLoad(ctx, drv, users, d, func(ctx context.Context) []string {
		var out []string
		rounds := 1
		if !s.short {
			rounds = 3
		}
		for k := 0; k < rounds; k++ {
			sleepCtx(ctx, d/time.Duration(2*rounds+1))
			victim := l.servers[1+k%2]
			if err := l.kill(victim); err != nil {
				return append(out, "kill: "+err.Error())
			}
			kills++
			sleepCtx(ctx, d/time.Duration(2*rounds+1))
			t0 := time.Now()
			if err := l.start(context.WithoutCancel(ctx), victim); err != nil {
				return append(out, "restart: "+err.Error())
			}
			out = append(out, fmt.Sprintf("%s killed and back in %s", victim.name, time.Since(t0).Round(time.Millisecond)))
		}
		return out
	})
	r.Findings = findings
	r.Load = fmt.Sprintf("%d workers, %d users, 3 servers, %s, %s", s.workers, len(users), elapsed.Round(time.Second), rate(ops, elapsed))
	r.Faults = fmt.Sprintf("%d × SIGKILL of a server mid-load, then restart", kills)
	if !r.checkWith(ctx, drv, users, since) {
		return r
	}
	r.Pass = r.Check.ok() && kills > 0
	return r
}

// scenarioDatabaseRestart: PostgreSQL crashes (immediate stop) under load
// and comes back. While it is down requests must fail fast with 503
// databaseUnavailable and /readyz must say so; afterwards the servers
// recover by themselves and nothing acknowledged is lost.
func (s *suite) scenarioDatabaseRestart(ctx context.Context) result {
	r := result{Name: "PostgreSQL crash and restart"}
	l, drv, users, err := s.prepare(ctx, "pgrestart", 2)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer l.stopAll()
	since := time.Now()
	d := s.dur(15*time.Second, 60*time.Second)
	pass := true
	ops, findings, elapsed := s.runLoad(ctx, drv, users, d, func(ctx context.Context) []string {
		var out []string
		sleepCtx(ctx, d/4)
		if err := s.pg.Crash(); err != nil {
			pass = false
			return append(out, "crash: "+err.Error())
		}
		down := time.Now()
		sleepCtx(ctx, 500*time.Millisecond)
		// While down: how do the servers answer?
		var slowest time.Duration
		codes := map[string]int{}
		for i := 0; i < 20; i++ {
			t0 := time.Now()
			_, err := drv.do(ctx, i, http.MethodPost, "/webauthn/authentication/begin", "", []byte(fmt.Sprintf(`{"userPrincipalName":%q}`, users[i%len(users)].upn)), http.StatusOK)
			slowest = max(slowest, time.Since(t0))
			codes[codeOf(err)]++
		}
		readyDown := ready(ctx, l.servers[0].url()) != nil
		out = append(out, fmt.Sprintf("database down: 20 begins answered %v, slowest %s; /readyz failing: %v", codes, slowest.Round(time.Millisecond), readyDown))
		if codes["503 databaseUnavailable"] != 20 || slowest > 5*time.Second || !readyDown {
			pass = false
		}
		sleepCtx(ctx, s.dur(2*time.Second, 10*time.Second)-time.Since(down))
		if _, err := pgdev.Start(context.WithoutCancel(ctx), s.pgOpts); err != nil {
			pass = false
			return append(out, "restart database: "+err.Error())
		}
		up := time.Now()
		for ready(ctx, l.servers[0].url()) != nil || ready(ctx, l.servers[1].url()) != nil {
			if time.Since(up) > 30*time.Second {
				pass = false
				return append(out, "servers not ready 30s after the database came back")
			}
			time.Sleep(20 * time.Millisecond)
		}
		out = append(out, fmt.Sprintf("database down %s; servers ready %s after it came back, without a restart", up.Sub(down).Round(time.Millisecond), time.Since(up).Round(time.Millisecond)))
		return out
	})
	r.Findings = findings
	r.Load = fmt.Sprintf("%d workers, %d users, 2 servers, %s, %s", s.workers, len(users), elapsed.Round(time.Second), rate(ops, elapsed))
	r.Faults = "PostgreSQL stopped with -m immediate (crash) mid-load, started again"
	if !r.checkWith(ctx, drv, users, since) {
		return r
	}
	r.Pass = pass && r.Check.ok()
	return r
}

// scenarioRollingRestart: each server in turn gets SIGTERM and is started
// again while load runs: with a balancer that moves to the next server when
// one is gone, no ceremony may fail.
func (s *suite) scenarioRollingRestart(ctx context.Context) result {
	r := result{Name: "rolling restart (SIGTERM)"}
	l, drv, users, err := s.prepare(ctx, "rolling", 3)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer l.stopAll()
	since := time.Now()
	d := s.dur(15*time.Second, 60*time.Second)
	pass := true
	ops, findings, elapsed := s.runLoad(ctx, drv, users, d, func(ctx context.Context) []string {
		var out []string
		step := d / 5
		for _, srv := range l.servers {
			sleepCtx(ctx, step)
			t0 := time.Now()
			if err := l.terminate(srv, 30*time.Second); err != nil {
				pass = false
				return append(out, err.Error())
			}
			drained := time.Since(t0)
			if err := l.start(context.WithoutCancel(ctx), srv); err != nil {
				pass = false
				return append(out, "restart: "+err.Error())
			}
			out = append(out, fmt.Sprintf("%s drained in %s, back in %s", srv.name, drained.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond)))
		}
		return out
	})
	r.Findings = append(findings, fmt.Sprintf("%d requests re-sent to another server by the balancer", drv.retry.Load()))
	r.Load = fmt.Sprintf("%d workers, %d users, 3 servers, %s, %s", s.workers, len(users), elapsed.Round(time.Second), rate(ops, elapsed))
	r.Faults = "SIGTERM and restart of each server in turn"
	if !r.checkWith(ctx, drv, users, since) {
		return r
	}
	r.Pass = pass && r.Check.ok() && drv.failed() == 0
	return r
}

// scenarioOverload: far more concurrent clients than one server admits.
// The excess must be shed with 503 serverBusy (not time out), admitted
// sign-ins keep a bounded latency, and memory stays flat.
func (s *suite) scenarioOverload(ctx context.Context) result {
	r := result{Name: "overload"}
	const maxInFlight = 8
	l, setup, users, err := s.prepare(ctx, "overload", 1, "-max-in-flight", strconv.Itoa(maxInFlight))
	if err != nil {
		r.Err = err.Error()
		return r
	}
	drv := setup.manyClients(16 * maxInFlight)
	defer l.stopAll()
	since := time.Now()
	d := s.dur(10*time.Second, 10*time.Minute)
	workers := 16 * maxInFlight
	rssStart := rssKiB(l.servers[0].cmd.Process.Pid)
	var rssMid int64
	lctx, cancel := context.WithTimeout(ctx, d)
	go func() { sleepCtx(lctx, d/2); rssMid = rssKiB(l.servers[0].cmd.Process.Pid) }()
	t0 := time.Now()
	var counterless []*vuser
	for _, u := range users {
		if !u.counted {
			counterless = append(counterless, u)
		}
	}
	users = counterless
	ops := drv.loadShared(lctx, users, workers, 1<<30)
	cancel()
	elapsed := time.Since(t0)
	rssEnd := rssKiB(l.servers[0].cmd.Process.Pid)
	errs := drv.errorSummary()
	p99 := drv.percentile(0.99)
	r.Load = fmt.Sprintf("%d workers against 1 server admitting %d at once, %s, %s admitted", workers, maxInFlight, elapsed.Round(time.Second), rate(int64(len(drv.lat)), elapsed))
	r.Faults = fmt.Sprintf("offered concurrency %d× the admission limit", workers/maxInFlight)
	r.Findings = []string{
		fmt.Sprintf("admitted sign-ins p50 %s p99 %s (whole ceremony: begin, authenticator, finish)", drv.percentile(0.5).Round(time.Millisecond), p99.Round(time.Millisecond)),
		fmt.Sprintf("server RSS %d MiB at start, %d MiB mid-run, %d MiB at end", rssStart/1024, rssMid/1024, rssEnd/1024),
		fmt.Sprintf("%d attempts in all", ops),
	}
	if !r.checkWith(ctx, drv, users, since) {
		return r
	}
	shed := 0
	other := 0
	for code, n := range errs {
		if strings.Contains(code, "serverBusy") {
			shed += n
		} else {
			other += n
		}
	}
	// Shedding must be the only failure, admitted latency stays under the
	// request deadline by far, and memory must not grow with the backlog.
	r.Pass = r.Check.ok() && shed > 0 && other == 0 && p99 < 5*time.Second && (rssEnd < 2*rssMid+64*1024 || rssMid == 0)
	return r
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// tapAcrossServers issues a one-time TAP and redeems it from 30 clients at
// once, round robin over the servers: exactly one may get in.
func (d *driver) tapAcrossServers(ctx context.Context, run string) (string, bool) {
	var u struct {
		ID string `json:"id"`
	}
	upn := "faults-tap-" + run + "@lab.example"
	if err := d.doJSON(ctx, 0, http.MethodPost, "/v1.0/users", d.admin, map[string]any{"userPrincipalName": upn, "displayName": upn}, http.StatusCreated, &u); err != nil {
		return "TAP across servers: create user: " + err.Error(), false
	}
	var tap struct {
		Pass string `json:"temporaryAccessPass"`
	}
	if err := d.doJSON(ctx, 1, http.MethodPost, "/v1.0/users/"+u.ID+"/authentication/temporaryAccessPassMethods", d.admin,
		map[string]any{"isUsableOnce": true}, http.StatusCreated, &tap); err != nil {
		return "TAP across servers: issue: " + err.Error(), false
	}
	const clients = 30
	results := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func(i int) {
			results <- d.doJSON(ctx, i, http.MethodPost, "/signin/tap", "", map[string]string{"userPrincipalName": upn, "temporaryAccessPass": tap.Pass}, http.StatusOK, nil)
		}(i)
	}
	ok := 0
	codes := map[string]int{}
	for i := 0; i < clients; i++ {
		if err := <-results; err == nil {
			ok++
		} else {
			codes[codeOf(err)]++
		}
	}
	return fmt.Sprintf("one-time TAP redeemed by %d clients at once over 3 servers: %d signed in, the rest %v", clients, ok, codes), ok == 1
}

// flowAcrossServers runs a password + Authenticator push step-up whose
// every step lands on another server: begin, password, push begin, the
// phone's answer, push complete and the session's first use.
func (d *driver) flowAcrossServers(ctx context.Context, run string) (string, bool) {
	fail := func(step string, err error) (string, bool) {
		return fmt.Sprintf("multi-step flow across servers: %s: %v", step, err), false
	}
	upn := "faults-flow-" + run + "@lab.example"
	const password = "correct horse battery staple"
	var u struct {
		ID string `json:"id"`
	}
	if err := d.doJSON(ctx, 0, http.MethodPost, "/v1.0/users", d.admin, map[string]any{"userPrincipalName": upn, "displayName": upn,
		"passwordProfile": map[string]any{"password": password}}, http.StatusCreated, &u); err != nil {
		return fail("create user", err)
	}
	var tap struct {
		Pass string `json:"temporaryAccessPass"`
	}
	if err := d.doJSON(ctx, 1, http.MethodPost, "/v1.0/users/"+u.ID+"/authentication/temporaryAccessPassMethods", d.admin, map[string]any{}, http.StatusCreated, &tap); err != nil {
		return fail("issue TAP", err)
	}
	var sess struct {
		Token string `json:"sessionToken"`
	}
	if err := d.doJSON(ctx, 2, http.MethodPost, "/signin/tap", "", map[string]string{"userPrincipalName": upn, "temporaryAccessPass": tap.Pass}, http.StatusOK, &sess); err != nil {
		return fail("TAP sign-in", err)
	}
	var phone struct {
		DeviceToken string `json:"deviceToken"`
	}
	if err := d.doJSON(ctx, 0, http.MethodPost, "/me/authentication/microsoftAuthenticatorMethods", sess.Token, nil, http.StatusCreated, &phone); err != nil {
		return fail("register push", err)
	}
	policy := map[string]any{
		"displayName": "faults: MFA for the flow user", "state": "enabled",
		"conditions": map[string]any{
			"users":          map[string]any{"includeUsers": []string{u.ID}},
			"applications":   map[string]any{"includeApplications": []string{"All"}},
			"clientAppTypes": []string{"all"},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	}
	if err := d.doJSON(ctx, 1, http.MethodPost, "/v1.0/identity/conditionalAccess/policies", d.admin, policy, http.StatusCreated, nil); err != nil {
		return fail("MFA policy", err)
	}
	type step struct {
		Status        string `json:"status"`
		FlowToken     string `json:"flowToken"`
		SessionToken  string `json:"sessionToken"`
		PushRequestID string `json:"pushRequestId"`
		NumberMatch   int    `json:"numberMatch"`
	}
	var begin, pw, push, done step
	if err := d.doJSON(ctx, 0, http.MethodPost, "/signin/begin", "", map[string]string{"userPrincipalName": upn}, http.StatusOK, &begin); err != nil {
		return fail("begin on rp0", err)
	}
	if err := d.doJSON(ctx, 1, http.MethodPost, "/signin/password", "", map[string]string{"flowToken": begin.FlowToken, "password": password}, http.StatusOK, &pw); err != nil {
		return fail("password on rp1", err)
	}
	if pw.Status != "stepUpRequired" {
		return fail("password on rp1", fmt.Errorf("status %q, want stepUpRequired", pw.Status))
	}
	if err := d.doJSON(ctx, 2, http.MethodPost, "/signin/push/begin", "", map[string]string{"flowToken": pw.FlowToken}, http.StatusOK, &push); err != nil {
		return fail("push begin on rp2", err)
	}
	if err := d.doJSON(ctx, 0, http.MethodPost, "/authenticator/push/respond", "", map[string]any{"deviceToken": phone.DeviceToken, "pushRequestId": push.PushRequestID, "numberMatch": push.NumberMatch}, http.StatusNoContent, nil); err != nil {
		if err2 := d.doJSON(ctx, 0, http.MethodPost, "/authenticator/push/respond", "", map[string]any{"deviceToken": phone.DeviceToken, "pushRequestId": push.PushRequestID, "numberMatch": push.NumberMatch}, http.StatusOK, nil); err2 != nil {
			return fail("phone approves on rp0", err)
		}
	}
	if err := d.doJSON(ctx, 1, http.MethodPost, "/signin/push/complete", "", map[string]string{"flowToken": pw.FlowToken, "pushRequestId": push.PushRequestID}, http.StatusOK, &done); err != nil {
		return fail("push complete on rp1", err)
	}
	if done.Status != "completed" || done.SessionToken == "" {
		return fail("push complete on rp1", fmt.Errorf("status %q", done.Status))
	}
	if _, err := d.do(ctx, 2, http.MethodGet, "/me", done.SessionToken, nil, http.StatusOK); err != nil {
		return fail("session on rp2", err)
	}
	return "password + push step-up with begin, password, push begin, approval, push complete and session on alternating servers: completed", true
}
