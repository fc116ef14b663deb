package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpserver/rpserver/virtualauthn"
)

// User is a virtual user as the session source sees it.
type User struct {
	ID                string
	UserPrincipalName string
	DisplayName       string
}

// SessionFunc returns a session token with which u may register a passkey.
// The default (nil in Config) issues a Temporary Access Pass with the admin
// token and redeems it at /signin/tap, as a new user does in Entra ID.
type SessionFunc func(ctx context.Context, u User) (sessionToken string, err error)

// Config of one run. Zero values get the defaults documented per field.
type Config struct {
	Target string // base URL of the running server; must be loopback

	// Targets are several servers sharing one database; a ceremony's begin
	// and finish go to different ones (round robin), so a run shows that no
	// ceremony state lives in a process. Target, when set, is the first.
	Targets []string

	Origin      string // origin the authenticators claim; default http://localhost:<first target's port>
	AdminToken  string // bearer token allowed to create users (and TAPs)
	Mix         []MixEntry
	Users       int // virtual users/authenticators; default Concurrency (closed loop) or 100 (open loop)
	Concurrency int // parallel ceremonies in the closed loop, parallel setup workers in both; default 4

	// Bounds of the timed phase; at least one is required so a run always
	// ends by itself. Both: whichever comes first. With Stages the stages
	// are the duration bound.
	Duration time.Duration
	SignIns  int // sign-in attempts (successful or not); in the open loop, arrivals

	// Open loop (see openloop.go): Rate arrivals per second for Duration,
	// or Stages; never both. Zero of both is the closed loop: Concurrency
	// workers, each starting its next ceremony when the last one ends.
	Rate   float64
	Stages []Stage
	// MaxOutstanding bounds the open loop's ceremonies in flight; an arrival
	// that would exceed it is dropped and counted. Default Users.
	MaxOutstanding int

	// Scenarios of the timed phase by weight; default signin.
	Scenarios []ScenarioEntry
	// CAPolicies > 0 creates a Conditional Access policy set of that many
	// policies (at most 195, Entra's limit; the shapes of internal/policy's
	// benchmark set) in CAState (enabled or report-only), scoped to Group
	// (made for the run when empty), which every user joins; all of it is
	// deleted at the end.
	CAPolicies int
	CAState    string // CAStateEnabled (default) or CAStateReportOnly

	Discoverable bool   // sign in with {} (passkey autofill) instead of the UPN
	UPNDomain    string // default lab.example
	RunID        string // part of every UPN so runs do not collide; default random
	CA           *virtualauthn.TestCA
	Sessions     SessionFunc
	// Group, when set, is the id of a group each created user joins before
	// its TAP is issued, for a TAP (or FIDO2) policy that targets a group.
	Group string
	// KeepUsers leaves the created users in the directory; by default they
	// are deleted when the run ends, however it ends.
	KeepUsers      bool
	HTTPClient     *http.Client  // default NewHTTPClient(Concurrency, RequestTimeout)
	RequestTimeout time.Duration // default 30s

	// BeforeSignIn and AfterSignIn, when set, run just before the timed
	// sign-in phase starts and just after it ended, outside its clock
	// (scripts/bench.sh snapshots CPU and database counters there). An error from BeforeSignIn ends the run.
	BeforeSignIn func(context.Context) error
	AfterSignIn  func()

	// Progress, when set, is called every ProgressEvery (default 1s) and once
	// at the end of each phase, from one goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Report of a run; this is the -json output.
type Report struct {
	Target         string          `json:"target"`
	Targets        []string        `json:"targets"`
	Mode           string          `json:"mode"` // closed-loop or open-loop
	Rate           float64         `json:"ratePerSecond,omitempty"`
	Stages         []Stage         `json:"stages,omitempty"`
	MaxOutstanding int             `json:"maxOutstanding,omitempty"`
	Origin         string          `json:"origin"`
	RunID          string          `json:"runId"`
	Mix            []MixEntry      `json:"mix"`
	Scenarios      []ScenarioEntry `json:"scenarios"`
	// The generator's Go processors and why (cmd's -max-procs, procs.Generator).
	GoProcessors     int     `json:"goProcessors,omitempty"`
	GoProcessorsWhy  string  `json:"goProcessorsWhy,omitempty"`
	CAPolicies       int     `json:"conditionalAccessPolicies,omitempty"`
	CAState          string  `json:"conditionalAccessState,omitempty"`
	Users            int     `json:"users"`
	UsersReady       int     `json:"usersReady"` // registered and used in the timed phase
	Concurrency      int     `json:"concurrency"`
	DurationLimit    float64 `json:"durationLimitSeconds,omitempty"`
	SignInsLimit     int     `json:"signInsLimit,omitempty"`
	Discoverable     bool    `json:"discoverable"`
	StoppedBy        string  `json:"stoppedBy"` // duration, sign-ins, interrupted, setup-failed
	Setup            Phase   `json:"setup"`
	SignIn           Phase   `json:"signIn"`
	SessionBootstrap string  `json:"sessionBootstrap"` // tap or custom
	Cleanup          Cleanup `json:"cleanup"`
	// Thresholds checked after the run (cmd's -threshold), in order.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
}

// CheckThresholds evaluates ts against r, records the results in r, and
// says whether all passed.
func (r *Report) CheckThresholds(ts []Threshold) bool {
	ok := true
	r.Thresholds = nil
	for _, t := range ts {
		res := t.Check(r)
		ok = ok && res.Passed
		r.Thresholds = append(r.Thresholds, res)
	}
	return ok
}

// Cleanup says what became of the users the run created.
type Cleanup struct {
	Created int  `json:"created"`
	Deleted int  `json:"deleted"`
	Kept    bool `json:"kept"` // -keep-users
	// The run's Conditional Access policies and group (always removed).
	Policies        int            `json:"policies,omitempty"`
	PoliciesDeleted int            `json:"policiesDeleted,omitempty"`
	GroupDeleted    bool           `json:"groupDeleted,omitempty"`
	AppDeleted      bool           `json:"appDeleted,omitempty"` // the oidc scenario's application
	Errors          map[string]int `json:"errors,omitempty"`     // deletions that failed, by code
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	targets := c.Targets
	if c.Target != "" && !slices.Contains(targets, c.Target) {
		targets = append([]string{c.Target}, targets...)
	}
	if len(targets) == 0 {
		return errors.New("no target")
	}
	if len(targets) > 64 {
		return fmt.Errorf("%d targets: at most 64", len(targets))
	}
	var u *url.URL
	c.Targets = nil
	for i, t := range targets {
		tu, err := CheckLoopback(t)
		if err != nil {
			return err
		}
		if i == 0 {
			u = tu
		}
		c.Targets = append(c.Targets, tu.String())
	}
	c.Target = c.Targets[0]
	if err := c.validateOpenLoop(); err != nil {
		return err
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		return fmt.Errorf("concurrency %d: want 1..4096", c.Concurrency)
	}
	if c.Users == 0 {
		c.Users = c.Concurrency
		if c.openLoop() {
			c.Users = 100
		}
	}
	if c.Users < 1 || c.Users > 100000 {
		return fmt.Errorf("users %d: want 1..100000", c.Users)
	}
	if c.Duration < 0 || c.SignIns < 0 {
		return errors.New("duration and sign-ins must not be negative")
	}
	if c.Duration == 0 && c.SignIns == 0 && len(c.Stages) == 0 {
		return errors.New("give a duration or a sign-in count: a run must end by itself")
	}
	if c.MaxOutstanding == 0 {
		c.MaxOutstanding = c.Users
	}
	if c.MaxOutstanding < 1 || c.MaxOutstanding > 100000 {
		return fmt.Errorf("max outstanding %d: want 1..100000", c.MaxOutstanding)
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = []ScenarioEntry{{Name: ScenarioSignIn, Weight: 1}}
	}
	for _, sc := range c.Scenarios {
		if !slices.Contains(Scenarios, sc.Name) || sc.Weight < 1 {
			return fmt.Errorf("scenarios: bad entry %+v", sc)
		}
	}
	if c.CAPolicies < 0 || c.CAPolicies > 195 {
		return fmt.Errorf("conditional access policies %d: want 0..195 (Entra's limit)", c.CAPolicies)
	}
	switch c.CAState {
	case "":
		c.CAState = CAStateEnabled
	case CAStateEnabled, CAStateReportOnly:
	default:
		return fmt.Errorf("conditional access state %q: want %s or %s", c.CAState, CAStateEnabled, CAStateReportOnly)
	}
	if has(c.Scenarios, ScenarioStepUp) && c.CAPolicies == 0 {
		return errors.New("the stepup scenario signs in under a Conditional Access policy set: give CAPolicies (e.g. 195)")
	}
	if len(c.Mix) == 0 {
		c.Mix = []MixEntry{{Preset: "ms-ios", Weight: 1}}
	}
	for _, m := range c.Mix {
		if _, ok := Presets[m.Preset]; !ok || m.Weight < 1 {
			return fmt.Errorf("mix: bad entry %+v", m)
		}
	}
	if c.Origin == "" {
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		c.Origin = u.Scheme + "://" + net.JoinHostPort("localhost", port)
	}
	if _, err := url.Parse(c.Origin); err != nil {
		return fmt.Errorf("origin %q: %w", c.Origin, err)
	}
	if c.UPNDomain == "" {
		c.UPNDomain = "lab.example"
	}
	if c.RunID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.RunID = hex.EncodeToString(b)
	}
	if c.Sessions == nil && c.AdminToken == "" {
		return errors.New("an admin token is required (rpserver admin token --upn ...)")
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
	return nil
}

type vuser struct {
	User
	preset  string
	auth    *virtualauthn.Authenticator
	session string
	// deviceToken is the emulated Authenticator app's secret (stepup).
	deviceToken string
}

type engine struct {
	cfg Config
	c   *client

	mu              sync.Mutex
	created         []string // ids of the users this run created, for cleanup
	createdPolicies []string // and its Conditional Access policies
	createdGroup    string   // and its group, when it made one

	app      *oidcApp     // the run's application, with the oidc scenario
	stormed  atomic.Int64 // users made by the registration storm so far
	password string       // every user's, when the stepup scenario runs
	cycle    []string     // the scenario of attempt k is cycle[k%len]
}

// Run performs setup and the timed sign-in phase. It returns the report even
// when it also returns an error (setup failed for every user, or ctx was
// cancelled), so a partial run can still be shown.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CA == nil {
		ca, err := virtualauthn.NewTestCA()
		if err != nil {
			return nil, err
		}
		cfg.CA = ca
	}
	hc := cfg.HTTPClient
	if hc == nil {
		inFlight := cfg.Concurrency
		if cfg.openLoop() {
			inFlight = max(inFlight, min(cfg.MaxOutstanding, cfg.Users))
		}
		hc = NewHTTPClient(inFlight, cfg.RequestTimeout)
		defer hc.CloseIdleConnections()
	}
	e := &engine{cfg: cfg, c: &client{http: hc, bases: cfg.Targets}, cycle: cycle(cfg.Scenarios)}
	if has(cfg.Scenarios, ScenarioStepUp) {
		b := make([]byte, 9)
		_, _ = rand.Read(b)
		e.password = "Load-" + hex.EncodeToString(b)
	}
	rep := &Report{Target: cfg.Target, Targets: cfg.Targets, Mode: "closed-loop", Origin: cfg.Origin, RunID: cfg.RunID, Mix: cfg.Mix, Scenarios: cfg.Scenarios, Users: cfg.Users, Concurrency: cfg.Concurrency,
		DurationLimit: cfg.Duration.Seconds(), SignInsLimit: cfg.SignIns, Discoverable: cfg.Discoverable, SessionBootstrap: "tap"}
	if cfg.Sessions != nil {
		rep.SessionBootstrap = "custom"
	}
	if cfg.CAPolicies > 0 {
		rep.CAPolicies, rep.CAState = cfg.CAPolicies, cfg.CAState
	}
	if cfg.openLoop() {
		rep.Mode, rep.Rate, rep.Stages, rep.MaxOutstanding = "open-loop", cfg.Rate, cfg.Stages, cfg.MaxOutstanding
		rep.Concurrency = 0
	}

	defer func() { rep.Cleanup = e.cleanup() }()
	ready, setup := e.setup(ctx)
	rep.Setup = setup
	rep.UsersReady = len(ready)
	if ctx.Err() != nil {
		rep.StoppedBy = "interrupted"
		return rep, ctx.Err()
	}
	if len(ready) == 0 {
		rep.StoppedBy = "setup-failed"
		return rep, fmt.Errorf("setup: none of the %d users could register a passkey (errors: %v)", cfg.Users, setup.Errors)
	}
	if cfg.BeforeSignIn != nil {
		if err := cfg.BeforeSignIn(ctx); err != nil {
			rep.StoppedBy = "interrupted"
			return rep, fmt.Errorf("before the sign-in phase: %w", err)
		}
	}
	if cfg.openLoop() {
		rep.SignIn, rep.StoppedBy = e.openLoopPhase(ctx, ready)
	} else {
		rep.SignIn, rep.StoppedBy = e.signInPhase(ctx, ready)
	}
	if cfg.AfterSignIn != nil {
		cfg.AfterSignIn()
	}
	if rep.StoppedBy == "interrupted" {
		return rep, ctx.Err()
	}
	return rep, nil
}

// cleanup deletes the users the run created, with a context of its own: a
// run interrupted by Ctrl-C must still not leave load-* users behind.
func (e *engine) cleanup() Cleanup {
	e.mu.Lock()
	ids := e.created
	e.mu.Unlock()
	res := Cleanup{Created: len(ids), Kept: e.cfg.KeepUsers, Policies: len(e.createdPolicies)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+time.Duration(len(ids)+len(e.createdPolicies))*50*time.Millisecond)
	defer cancel()
	e.cleanupPolicySet(ctx, &res)
	e.cleanupOIDC(ctx, &res)
	if e.cfg.KeepUsers || len(ids) == 0 {
		return res
	}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(e.cfg.Concurrency, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				_, err := e.c.do(ctx, http.MethodDelete, e.c.next(), "/v1.0/users/"+url.PathEscape(ids[i]), e.cfg.AdminToken, nil, http.StatusNoContent)
				mu.Lock()
				if err == nil {
					res.Deleted++
				} else {
					if res.Errors == nil {
						res.Errors = map[string]int{}
					}
					res.Errors[ErrorCode(err)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res
}

// progress reports rec every ProgressEvery until stop is closed, then once
// more so the display ends on the final numbers.
func (e *engine) progress(rec *Recorder, phase, op string, stop <-chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	if e.cfg.Progress == nil {
		return
	}
	ops := []string{op}
	if op == "" {
		ops = e.scenarioOps()
	}
	t := time.NewTicker(e.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			e.cfg.Progress(rec.Progress(phase, ops...))
			return
		case <-t.C:
			e.cfg.Progress(rec.Progress(phase, ops...))
		}
	}
}

// setup creates, bootstraps and registers every user with Concurrency
// workers, and returns the users that are ready to sign in.
func (e *engine) setup(ctx context.Context) ([]*vuser, Phase) {
	rec := NewRecorder()
	stop := make(chan struct{})
	var pg sync.WaitGroup
	pg.Add(1)
	go e.progress(rec, "setup", OpRegistration, stop, &pg)

	if e.cfg.CAPolicies > 0 {
		if err := e.preparePolicySet(ctx, rec); err != nil {
			close(stop)
			pg.Wait()
			return nil, rec.Summary(time.Since(rec.start))
		}
	}
	if has(e.cfg.Scenarios, ScenarioOIDC) {
		if err := e.prepareOIDC(ctx, rec); err != nil {
			close(stop)
			pg.Wait()
			return nil, rec.Summary(time.Since(rec.start))
		}
	}
	presets := assign(e.cfg.Mix, e.cfg.Users)
	users := make([]*vuser, e.cfg.Users)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(e.cfg.Concurrency, e.cfg.Users) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(users) {
					return
				}
				users[i], _ = e.setupUser(ctx, rec, i, presets[i])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(rec.start)
	close(stop)
	pg.Wait()

	var ready []*vuser
	for _, u := range users {
		if u != nil {
			ready = append(ready, u)
		}
	}
	return ready, rec.Summary(elapsed)
}

// timed runs fn, records its latency under op on success, and on failure
// records the code unless the run is being stopped (an abandoned call
// measures cancellation, not the server).
func timed(ctx context.Context, rec *Recorder, op string, step bool, fn func() error) error {
	t0 := time.Now()
	err := fn()
	if err == nil {
		rec.Observe(op, time.Since(t0))
		return nil
	}
	if ctx.Err() == nil {
		if step {
			rec.FailStep(op, ErrorCode(err))
		} else {
			rec.Fail(op, ErrorCode(err))
		}
	}
	return err
}

// setupUser bootstraps user i as Entra does (created, in the run's group,
// a TAP session, a passkey; with the stepup scenario also a password and an
// Authenticator push method). It returns nil and why when a step failed;
// the step's failure is already counted.
func (e *engine) setupUser(ctx context.Context, rec *Recorder, i int, preset string) (*vuser, error) {
	auth, err := virtualauthn.New(Presets[preset](e.cfg.CA))
	if err != nil {
		rec.Fail(OpRegistration, CodeAuthenticator)
		return nil, &authenticatorError{err: err}
	}
	u := &vuser{preset: preset, auth: auth, User: User{
		UserPrincipalName: fmt.Sprintf("load-%s-%05d@%s", e.cfg.RunID, i, e.cfg.UPNDomain),
		DisplayName:       fmt.Sprintf("Load %s %d (%s)", e.cfg.RunID, i, preset),
	}}
	err = timed(ctx, rec, OpUserCreate, false, func() error {
		var created struct {
			ID string `json:"id"`
		}
		body := map[string]any{"userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName, "accountEnabled": true}
		if e.password != "" {
			body["passwordProfile"] = map[string]any{"password": e.password, "forceChangePasswordNextSignIn": false}
		}
		err := e.c.callJSON(ctx, e.c.next(), "/v1.0/users", e.cfg.AdminToken, body, http.StatusCreated, &created)
		if err == nil && created.ID == "" {
			err = &badResponseError{msg: "user created without an id"}
		}
		u.ID = created.ID
		if u.ID != "" {
			e.mu.Lock()
			e.created = append(e.created, u.ID)
			e.mu.Unlock()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if e.cfg.Group != "" {
		err = timed(ctx, rec, OpGroupJoin, false, func() error {
			ref, _ := json.Marshal(map[string]string{"@odata.id": e.cfg.Target + "/v1.0/directoryObjects/" + u.ID})
			_, err := e.c.call(ctx, e.c.next(), "/v1.0/groups/"+url.PathEscape(e.cfg.Group)+"/members/$ref", e.cfg.AdminToken, ref, http.StatusNoContent)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if e.cfg.Sessions != nil {
		err = timed(ctx, rec, OpSession, false, func() (err error) {
			u.session, err = e.cfg.Sessions(ctx, u.User)
			return err
		})
	} else {
		err = e.tapSession(ctx, rec, u)
	}
	if err != nil {
		return nil, err
	}
	if err := e.register(ctx, rec, u); err != nil {
		return nil, err
	}
	if e.password != "" {
		if err := e.registerPush(ctx, rec, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// tapSession follows the contract of the TAP endpoints: an admin issues a
// one-time pass, the user redeems it for a session.
func (e *engine) tapSession(ctx context.Context, rec *Recorder, u *vuser) error {
	var tap struct {
		Pass string `json:"temporaryAccessPass"`
	}
	err := timed(ctx, rec, OpTAPCreate, false, func() error {
		err := e.c.callJSON(ctx, e.c.next(), "/v1.0/users/"+url.PathEscape(u.ID)+"/authentication/temporaryAccessPassMethods", e.cfg.AdminToken,
			struct{}{}, http.StatusCreated, &tap)
		if err == nil && tap.Pass == "" {
			err = &badResponseError{msg: "TAP created without temporaryAccessPass"}
		}
		return err
	})
	if err != nil {
		return err
	}
	return timed(ctx, rec, OpTAPSignIn, false, func() error {
		var s struct {
			Token string `json:"sessionToken"`
		}
		err := e.c.callJSON(ctx, e.c.next(), "/signin/tap", "",
			map[string]string{"userPrincipalName": u.UserPrincipalName, "temporaryAccessPass": tap.Pass}, http.StatusOK, &s)
		if err == nil && s.Token == "" {
			err = &badResponseError{msg: "TAP sign-in without sessionToken"}
		}
		u.session = s.Token
		return err
	})
}

// ceremony runs begin, the authenticator, and finish, timing each call and
// the whole; the whole counts the attempt once in Phase.Errors. The whole
// is timed from intended (the open loop's scheduled start, so waiting for
// the generator or the server counts) or, when zero, from now. With several
// targets begin and finish go to different servers.
func (e *engine) ceremony(ctx context.Context, rec *Recorder, intended time.Time, op, beginOp, finishOp, beginPath, finishPath, bearer string, beginBody []byte,
	authenticate func(opts []byte) ([]byte, error), finishStatus int) error {
	t0 := intended
	if t0.IsZero() {
		t0 = time.Now()
	}
	fail := func(err error) error {
		if ctx.Err() == nil {
			rec.Fail(op, ErrorCode(err))
		}
		return err
	}
	beginBase, finishBase := e.c.pair()
	var opts []byte
	if err := timed(ctx, rec, beginOp, true, func() (err error) {
		opts, err = e.c.call(ctx, beginBase, beginPath, bearer, beginBody, http.StatusOK)
		return err
	}); err != nil {
		return fail(err)
	}
	out, err := authenticate(opts)
	if err != nil {
		return fail(&authenticatorError{err: err})
	}
	if err := timed(ctx, rec, finishOp, true, func() error {
		_, err := e.c.call(ctx, finishBase, finishPath, bearer, out, finishStatus)
		return err
	}); err != nil {
		return fail(err)
	}
	rec.Observe(op, time.Since(t0))
	return nil
}

func (e *engine) register(ctx context.Context, rec *Recorder, u *vuser) error {
	body, _ := json.Marshal(map[string]string{"displayName": u.preset})
	return e.ceremony(ctx, rec, time.Time{}, OpRegistration, OpRegistrationBegin, OpRegistrationFinish,
		"/webauthn/registration/begin", "/webauthn/registration/finish", u.session, body,
		func(opts []byte) ([]byte, error) { return u.auth.Create(opts, e.cfg.Origin) }, http.StatusCreated)
}

func (e *engine) signIn(ctx context.Context, rec *Recorder, u *vuser, intended time.Time) error {
	body := []byte(`{}`)
	if !e.cfg.Discoverable {
		body, _ = json.Marshal(map[string]string{"userPrincipalName": u.UserPrincipalName})
	}
	return e.ceremony(ctx, rec, intended, OpSignIn, OpSignInBegin, OpSignInFinish,
		"/webauthn/authentication/begin", "/webauthn/authentication/finish", "", body,
		func(opts []byte) ([]byte, error) { return u.auth.Get(opts, e.cfg.Origin) }, http.StatusOK)
}

// signInPhase signs the ready users in until the duration or the count is
// reached. Users circulate through a pool so none is used by two workers
// at once (see doc.go); effective concurrency is min(Concurrency, users).
func (e *engine) signInPhase(parent context.Context, ready []*vuser) (Phase, string) {
	ctx := parent
	var cancel context.CancelFunc = func() {}
	if e.cfg.Duration > 0 {
		ctx, cancel = context.WithTimeout(parent, e.cfg.Duration)
	}
	defer cancel()

	pool := make(chan *vuser, len(ready))
	for _, u := range ready {
		pool <- u
	}
	rec := NewRecorder()
	stop := make(chan struct{})
	var pg sync.WaitGroup
	pg.Add(1)
	go e.progress(rec, "signin", "", stop, &pg)

	var issued atomic.Int64
	var wg sync.WaitGroup
	for range e.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := issued.Add(1)
				if e.cfg.SignIns > 0 && k > int64(e.cfg.SignIns) {
					return
				}
				scenario := e.cycle[int(k-1)%len(e.cycle)]
				var u *vuser
				if needsUser(scenario) {
					select {
					case u = <-pool:
					case <-ctx.Done():
						return
					}
				}
				_ = e.attempt(ctx, rec, scenario, u, time.Time{})
				if u != nil {
					pool <- u
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(rec.start)
	close(stop)
	pg.Wait()

	stoppedBy := "sign-ins"
	switch {
	case parent.Err() != nil:
		stoppedBy = "interrupted"
	case ctx.Err() != nil:
		stoppedBy = "duration"
	}
	return rec.Summary(elapsed), stoppedBy
}
