package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpserver/rpserver/virtualauthn"
)

// vuser is one person with one authenticator, and what the generator was
// told about their sign-ins: the ledger the check compares with the server.
type vuser struct {
	id, upn string
	auth    *virtualauthn.Authenticator
	counted bool // the preset's signature counter increments

	mu          sync.Mutex
	acked       int    // sign-ins answered 2xx
	lastCounter uint32 // signCount of the last acknowledged assertion
	session     string // session token of the last acknowledged sign-in
}

// driver sends ceremonies to the lab's servers as a load balancer would:
// round robin, begin and finish on different servers, and a request that
// could not reach a server (refused, reset before an answer) goes to the
// next one. Only a 2xx from finish counts as acknowledged.
type driver struct {
	lab     *lab
	targets []string
	admin   string
	hc      *http.Client
	next    atomic.Uint64

	mu     sync.Mutex
	errors map[string]int
	lat    []time.Duration // admitted (2xx) sign-in latencies
	retry  atomic.Int64    // requests re-sent to another server after a transport error
}

func newDriver(l *lab, admin string) *driver {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &driver{lab: l, targets: l.urls(), admin: admin, errors: map[string]int{},
		hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// from returns a driver whose requests come from another loopback address
// (any of 127.0.0.0/8 is this machine), so a check that trips the
// per-client failure limit does not cool down the other checks' client.
func (d *driver) from(ip string) *driver {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &driver{lab: d.lab, targets: d.targets, admin: d.admin, errors: map[string]int{},
		hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// manyClients returns a driver whose connections come from n loopback
// addresses in turn (127.0.1.1 ...), as n people's browsers would: the
// per-client limits (failed attempts, outstanding challenges) then see n
// clients, not one generator.
func (d *driver) manyClients(n int) *driver {
	var next atomic.Uint64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		k := next.Add(1) % uint64(n)
		ip := net.IPv4(127, 0, byte(1+k/250), byte(1+k%250))
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
		return dialer.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{DialContext: dial, MaxIdleConnsPerHost: n, IdleConnTimeout: 30 * time.Second}
	return &driver{lab: d.lab, targets: d.targets, admin: d.admin, errors: map[string]int{},
		hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

type apiError struct {
	status int
	code   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.code) }

// transportError is a request that got no HTTP answer.
type transportError struct{ err error }

func (e *transportError) Error() string { return "transport: " + e.err.Error() }

func codeOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%d %s", ae.status, ae.code)
	}
	var te *transportError
	if errors.As(err, &te) {
		return "noAnswer"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "other: " + err.Error()
}

// do sends one request to targets[start], moving to the next server when
// no answer came back at all (at most once per server).
// maxResponse bounds what the driver reads of one answer.
const maxResponse = 8 << 20

func (d *driver) do(ctx context.Context, start int, method, path, bearer string, body []byte, want int) ([]byte, error) {
	var last error
	for i := 0; i < len(d.targets); i++ {
		base := d.targets[(start+i)%len(d.targets)]
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := d.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = &transportError{err}
			d.retry.Add(1)
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
		res.Body.Close()
		if err == nil && len(raw) > maxResponse {
			// A truncated body would surface later as "unexpected end of
			// JSON input"; say what happened instead.
			return nil, fmt.Errorf("%s %s: response larger than %d bytes", method, path, maxResponse)
		}
		if err != nil {
			last = &transportError{err}
			d.retry.Add(1)
			continue
		}
		if res.StatusCode != want {
			var e struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			_ = json.Unmarshal(raw, &e)
			return nil, &apiError{status: res.StatusCode, code: e.Error.Code}
		}
		return raw, nil
	}
	return nil, last
}

func (d *driver) doJSON(ctx context.Context, start int, method, path, bearer string, in any, want int, out any) error {
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	raw, err := d.do(ctx, start, method, path, bearer, body, want)
	if err != nil {
		return err
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// enableMethods turns on passkeys and TAP for everyone, as a tenant does
// before bootstrapping users.
func (d *driver) enableMethods(ctx context.Context) error {
	const base = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"
	all := []map[string]any{{"id": "all_users", "targetType": "group", "isRegistrationRequired": false}}
	if err := d.doJSON(ctx, 0, http.MethodPatch, base+"fido2", d.admin,
		map[string]any{"state": "enabled", "isSelfServiceRegistrationAllowed": true, "includeTargets": all}, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("enable passkeys: %w", err)
	}
	if err := d.doJSON(ctx, 0, http.MethodPatch, base+"temporaryAccessPass", d.admin,
		map[string]any{"state": "enabled", "includeTargets": all}, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("enable TAP: %w", err)
	}
	return nil
}

// setupUsers creates n users with a registered passkey each: the admin
// issues a TAP, the user redeems it and registers, as in the seed scenario.
// Half carry a security key (incrementing counter), half Microsoft
// Authenticator (counter always 0).
func (d *driver) setupUsers(ctx context.Context, run string, n int, ca *virtualauthn.TestCA) ([]*vuser, error) {
	users := make([]*vuser, n)
	errc := make(chan error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := d.setupUser(ctx, run, i, ca)
			if err != nil {
				errc <- fmt.Errorf("user %d: %w", i, err)
				return
			}
			users[i] = u
		}(i)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return users, nil
}

func (d *driver) setupUser(ctx context.Context, run string, i int, ca *virtualauthn.TestCA) (*vuser, error) {
	cfg := virtualauthn.MicrosoftAuthenticatorIOS(ca)
	counted := i%2 == 0
	if counted {
		cfg = virtualauthn.YubiKey5(ca)
	}
	auth, err := virtualauthn.New(cfg)
	if err != nil {
		return nil, err
	}
	u := &vuser{upn: fmt.Sprintf("faults-%s-%03d@lab.example", run, i), auth: auth, counted: counted}
	var created struct {
		ID string `json:"id"`
	}
	if err := d.doJSON(ctx, i, http.MethodPost, "/v1.0/users", d.admin,
		map[string]any{"userPrincipalName": u.upn, "displayName": u.upn, "accountEnabled": true}, http.StatusCreated, &created); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	u.id = created.ID
	var tap struct {
		Pass string `json:"temporaryAccessPass"`
	}
	if err := d.doJSON(ctx, i, http.MethodPost, "/v1.0/users/"+url.PathEscape(u.id)+"/authentication/temporaryAccessPassMethods", d.admin,
		map[string]any{}, http.StatusCreated, &tap); err != nil {
		return nil, fmt.Errorf("issue TAP: %w", err)
	}
	var s struct {
		Token string `json:"sessionToken"`
	}
	if err := d.doJSON(ctx, i, http.MethodPost, "/signin/tap", "",
		map[string]string{"userPrincipalName": u.upn, "temporaryAccessPass": tap.Pass}, http.StatusOK, &s); err != nil {
		return nil, fmt.Errorf("TAP sign-in: %w", err)
	}
	opts, err := d.do(ctx, i, http.MethodPost, "/webauthn/registration/begin", s.Token, []byte(`{"displayName":"faults"}`), http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("registration begin: %w", err)
	}
	cred, err := auth.Create(opts, d.lab.origin)
	if err != nil {
		return nil, fmt.Errorf("authenticator create: %w", err)
	}
	if _, err := d.do(ctx, i+1, http.MethodPost, "/webauthn/registration/finish", s.Token, cred, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("registration finish: %w", err)
	}
	return u, nil
}

// signIn runs one passkey sign-in: begin on one server, finish on the next.
func (d *driver) signIn(ctx context.Context, u *vuser) error {
	start := int(d.next.Add(1))
	body, _ := json.Marshal(map[string]string{"userPrincipalName": u.upn})
	t0 := time.Now()
	opts, err := d.do(ctx, start, http.MethodPost, "/webauthn/authentication/begin", "", body, http.StatusOK)
	if err != nil {
		return err
	}
	assertion, err := u.auth.Get(opts, d.lab.origin)
	if err != nil {
		return fmt.Errorf("authenticator: %w", err)
	}
	raw, err := d.do(ctx, start+1, http.MethodPost, "/webauthn/authentication/finish", "", assertion, http.StatusOK)
	if err != nil {
		return err
	}
	var out struct {
		SessionToken string `json:"sessionToken"`
	}
	_ = json.Unmarshal(raw, &out)
	counter, _ := signCountOf(assertion)
	u.mu.Lock()
	u.acked++
	if counter > u.lastCounter {
		u.lastCounter = counter
	}
	u.session = out.SessionToken
	u.mu.Unlock()
	d.mu.Lock()
	d.lat = append(d.lat, time.Since(t0))
	d.mu.Unlock()
	return nil
}

// signCountOf reads the signature counter the authenticator put in its
// assertion (authenticatorData bytes 33..36).
func signCountOf(assertion []byte) (uint32, error) {
	var a struct {
		Response struct {
			AuthenticatorData string `json:"authenticatorData"`
		} `json:"response"`
	}
	if err := json.Unmarshal(assertion, &a); err != nil {
		return 0, err
	}
	ad, err := base64.RawURLEncoding.DecodeString(a.Response.AuthenticatorData)
	if err != nil || len(ad) < 37 {
		return 0, fmt.Errorf("authenticatorData: %v", err)
	}
	return binary.BigEndian.Uint32(ad[33:37]), nil
}

// load runs sign-ins with `workers` concurrent users until ctx ends (and
// at most maxOps). A user is used by one worker at a time, as a person
// signs in once at a time.
func (d *driver) load(ctx context.Context, users []*vuser, workers, maxOps int) (ops int64) {
	return d.loadUsers(ctx, users, workers, maxOps, false)
}

// loadShared lets several workers sign the same user in at once (as one
// person on several devices): only for authenticators whose counter is
// always 0, since concurrent assertions may reach the server out of order.
func (d *driver) loadShared(ctx context.Context, users []*vuser, workers, maxOps int) (ops int64) {
	return d.loadUsers(ctx, users, workers, maxOps, true)
}

func (d *driver) loadUsers(ctx context.Context, users []*vuser, workers, maxOps int, shared bool) (ops int64) {
	pool := make(chan *vuser, len(users))
	for _, u := range users {
		pool <- u
	}
	var rr atomic.Uint64
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && n.Add(1) <= int64(maxOps) {
				var u *vuser
				if shared {
					u = users[rr.Add(1)%uint64(len(users))]
				} else {
					select {
					case u = <-pool:
					case <-ctx.Done():
						return
					}
				}
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				err := d.signIn(rctx, u)
				cancel()
				if !shared {
					pool <- u
				}
				if err != nil {
					d.mu.Lock()
					d.errors[codeOf(err)]++
					d.mu.Unlock()
					if errors.Is(err, context.Canceled) {
						return
					}
					// A server that refuses under a fault should not be
					// hammered in a tight loop; a busy one asked for a pause
					// (Retry-After), which a client honours in part.
					pause := 5 * time.Millisecond
					if strings.Contains(codeOf(err), "serverBusy") {
						pause = 100*time.Millisecond + time.Duration(rand.Int64N(int64(100*time.Millisecond)))
					}
					time.Sleep(pause)
				}
			}
		}()
	}
	wg.Wait()
	return min(n.Load(), int64(maxOps))
}

func (d *driver) errorSummary() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.errors))
	for k, v := range d.errors {
		out[k] = v
	}
	return out
}

func (d *driver) failed() int {
	n := 0
	for _, v := range d.errorSummary() {
		n += v
	}
	return n
}

func (d *driver) percentile(p float64) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d.lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
