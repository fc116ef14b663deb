package signin_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/tap"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/secrethash"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/tokens"
)

// Unit tests of the flow with fakes for its stores and collaborators; the
// HTTP and PostgreSQL paths are covered by internal/api's tests.

const (
	aliceID  = "0b5e6a4e-1111-4c1d-9e0f-000000000001"
	aliceUPN = "alice@lab.example"
	bobID    = "0b5e6a4e-2222-4c1d-9e0f-000000000002"
	bobUPN   = "bob@lab.example"
	alicePW  = "correct horse battery"
)

// factors is an in-memory FactorStore + FactsStore. Methods the tests do
// not reach panic through the nil embedded interface.
type factors struct {
	signin.FactorStore
	signin.FactsStore // only TakePasskeyAssertion, which these tests do not reach
	mu                sync.Mutex
	facts             map[string]signin.Facts
	hash              map[string]string
	totp              map[string][]totp.Method
	// guesses counts failed guesses by user and factor (smart lockout).
	guesses map[string]int
}

func (f *factors) SignInFacts(_ context.Context, id string) (signin.Facts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fa, ok := f.facts[id]
	if !ok {
		return fa, apperr.NotFound(apperr.CodeNotFound, "no user")
	}
	return fa, nil
}

func (f *factors) PasswordHash(_ context.Context, id string) (string, error) {
	if h, ok := f.hash[id]; ok {
		return h, nil
	}
	return "", apperr.NotFound(apperr.CodeNotFound, "no password")
}

func (f *factors) AddTOTP(_ context.Context, m totp.Method) (totp.Method, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.totp[m.UserID] = append(f.totp[m.UserID], m)
	return m, nil
}

func (f *factors) ListTOTP(_ context.Context, id string) ([]totp.Method, error) {
	return f.totp[id], nil
}

func (f *factors) UseTOTPStep(_ context.Context, id string, step int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for u, ms := range f.totp {
		for i := range ms {
			if ms[i].ID == id {
				if step <= ms[i].LastStep {
					return false, nil
				}
				f.totp[u][i].LastStep = step
				return true, nil
			}
		}
	}
	return false, apperr.NotFound(apperr.CodeNotFound, "no method")
}

// ReserveGuess counts every guess as a failure until it succeeds; past the
// threshold the bucket is locked (one bucket per user and factor here).
func (f *factors) ReserveGuess(_ context.Context, g signin.Guess, p signin.LockoutPolicy) (signin.GuessVerdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := g.UserID + "/" + g.Factor
	if f.guesses[k] >= p.Threshold {
		return signin.GuessVerdict{Failures: f.guesses[k], Locked: true, LockedUntil: g.At.Add(p.Duration)}, nil
	}
	f.guesses[k]++
	return signin.GuessVerdict{Failures: f.guesses[k]}, nil
}

func (f *factors) GuessSucceeded(_ context.Context, g signin.Guess, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.guesses, g.UserID+"/"+g.Factor)
	return nil
}

func (f *factors) GuessUnchecked(_ context.Context, g signin.Guess, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := g.UserID + "/" + g.Factor; f.guesses[k] > 0 {
		f.guesses[k]--
	}
	return nil
}

type users map[string]string // UPN -> id

func (u users) UserIDByName(_ context.Context, upn string) (string, error) {
	if id, ok := u[upn]; ok {
		return id, nil
	}
	return "", apperr.NotFound(apperr.CodeNotFound, "no user")
}

type staticPolicies struct{ c *policy.CompiledPolicies }

func (p staticPolicies) Compiled(context.Context) (*policy.CompiledPolicies, error) { return p.c, nil }

type records struct {
	mu   sync.Mutex
	list []signinlog.SignIn
	fail error // when set, every write fails with it (the log's commit failed)
}

func (r *records) Write(_ context.Context, s signinlog.SignIn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.list = append(r.list, s)
	return nil
}

func (r *records) WriteUse(ctx context.Context, s signinlog.SignIn, _ *signinlog.CredentialUse) error {
	return r.Write(ctx, s)
}

func (r *records) last(t *testing.T) signinlog.SignIn {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) == 0 {
		t.Fatal("no sign-in record written")
	}
	return r.list[len(r.list)-1]
}

// redeemer is a fake TAP check: one pass per user, counting checks and
// passes used up.
type redeemer struct {
	passes   map[string]string // UPN -> pass
	ids      users
	verified int
	consumed int
	released int
}

func (r *redeemer) VerifyTAP(_ context.Context, upn, pass string) (methods.Redeemed, error) {
	r.verified++
	if r.passes[upn] != pass {
		return methods.Redeemed{}, apperr.Unauthenticated(methods.CodeInvalidTAP, "wrong pass")
	}
	return methods.Redeemed{User: directory.User{ID: r.ids[upn], UserPrincipalName: upn}, Pass: tap.Record{IsUsableOnce: true}}, nil
}

func (r *redeemer) ConsumeTAP(_ context.Context, v methods.Redeemed) (methods.Redeemed, error) {
	r.consumed++
	return v, nil
}

func (r *redeemer) ReleaseTAP(context.Context, methods.Redeemed, methods.Redeemed) error {
	r.released++
	return nil
}

type memKeys struct {
	mu   sync.Mutex
	keys map[string]tokens.StoredKey // by algorithm
}

func (k *memKeys) EnsureSigningKey(_ context.Context, alg string, gen func() (tokens.StoredKey, error)) (tokens.StoredKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]tokens.StoredKey{}
	}
	if _, ok := k.keys[alg]; !ok {
		sk, err := gen()
		if err != nil {
			return sk, err
		}
		k.keys[alg] = sk
	}
	return k.keys[alg], nil
}

func (k *memKeys) PublicKeys(context.Context) ([]tokens.StoredKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []tokens.StoredKey
	for _, sk := range k.keys {
		out = append(out, sk)
	}
	return out, nil
}

type lab struct {
	svc     *signin.Service
	sealer  *tokens.Sealer
	issuer  *tokens.Issuer
	factors *factors
	log     *records
	tap     *redeemer
	now     time.Time
}

func newLab(t *testing.T, policies ...policy.ConditionalAccessPolicy) *lab {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := tokens.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := tokens.NewIssuer(context.Background(), &memKeys{}, sealer, "http://localhost")
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := policy.Compile(policies, policy.StrengthMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	ids := users{aliceUPN: aliceID, bobUPN: bobID}
	l := &lab{
		issuer: iss, sealer: sealer, log: &records{}, now: time.Now(),
		factors: &factors{
			facts: map[string]signin.Facts{
				aliceID: {UserID: aliceID, UserPrincipalName: aliceUPN, Enabled: true, HasPassword: true, UserRiskLevel: "none"},
				bobID:   {UserID: bobID, UserPrincipalName: bobUPN, Enabled: true, HasTAP: true, UserRiskLevel: "none"},
			},
			hash:    map[string]string{aliceID: secrethash.Hash(alicePW)},
			totp:    map[string][]totp.Method{},
			guesses: map[string]int{},
		},
		tap: &redeemer{passes: map[string]string{bobUPN: "bob-pass-1234"}, ids: ids},
	}
	l.svc = signin.New(signin.Deps{
		Issuer: iss, Sealer: sealer, Users: ids, Factors: l.factors, TAP: l.tap,
		Policies: staticPolicies{compiled}, Log: l.log, Now: func() time.Time { return l.now },
	})
	return l
}

func requireMFA(state string) policy.ConditionalAccessPolicy {
	return policy.ConditionalAccessPolicy{
		ID: "11111111-1111-4111-8111-111111111111", DisplayName: "Require MFA", State: state,
		Conditions: policy.ConditionalAccessConditionSet{
			Users:          policy.ConditionalAccessUsers{IncludeUsers: []string{"All"}},
			Applications:   policy.ConditionalAccessApplications{IncludeApplications: []string{"All"}},
			ClientAppTypes: []string{"all"},
		},
		GrantControls: &policy.ConditionalAccessGrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}},
	}
}

func block() policy.ConditionalAccessPolicy {
	p := requireMFA(policy.StateEnabled)
	p.DisplayName, p.GrantControls.BuiltInControls = "Block", []string{"block"}
	return p
}

func (l *lab) begin(t *testing.T, upn string) signin.Outcome {
	t.Helper()
	out, err := l.svc.Begin(context.Background(), signin.BeginRequest{UserPrincipalName: upn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("error %v (code %q), want %s", err, got, code)
	}
}

func TestPasswordWithoutPoliciesCompletesAndLogs(t *testing.T) {
	l := newLab(t)
	begin := l.begin(t, aliceUPN)
	if begin.Status != "credentialRequired" || begin.Prompt == nil || begin.Prompt.Method != "password" {
		t.Fatalf("begin: %+v", begin)
	}
	out, err := l.svc.Password(context.Background(), begin.FlowToken, alicePW)
	if err != nil || out.Status != "completed" || out.SessionToken == "" {
		t.Fatalf("password: %+v %v", out, err)
	}
	c, err := l.issuer.Verify(out.SessionToken, tokens.AudienceSession)
	if err != nil || c.Subject != aliceID || len(c.AMR) != 1 || c.AMR[0] != "password" {
		t.Fatalf("session: %+v %v", c, err)
	}
	rec := l.log.last(t)
	if rec.Status.ErrorCode != 0 || rec.UserID != aliceID || rec.ConditionalAccessStatus != "notApplied" ||
		len(rec.AuthenticationMethodsUsed) != 1 || rec.AuthenticationMethodsUsed[0] != "Password" || out.SignInID != rec.ID {
		t.Fatalf("record: %+v", rec)
	}
}

func TestWrongPasswordIsLoggedAsAFailedStep(t *testing.T) {
	l := newLab(t)
	begin := l.begin(t, aliceUPN)
	_, err := l.svc.Password(context.Background(), begin.FlowToken, "not the password")
	wantCode(t, err, signin.CodeInvalidPassword)
	rec := l.log.last(t)
	if rec.Status.ErrorCode != 50126 || len(rec.AuthenticationDetails) != 1 || rec.AuthenticationDetails[0].Succeeded {
		t.Fatalf("record: %+v", rec)
	}
}

// Smart lockout: past the threshold even the right password is refused
// unchecked, and the refusal is logged with Entra's 50053.
func TestLockoutRefusesTheRightPasswordAfterTooManyWrongOnes(t *testing.T) {
	l := newLab(t)
	for range signin.DefaultLockout.Threshold {
		_, err := l.svc.Password(context.Background(), l.begin(t, aliceUPN).FlowToken, "wrong guess")
		wantCode(t, err, signin.CodeInvalidPassword)
	}
	_, err := l.svc.Password(context.Background(), l.begin(t, aliceUPN).FlowToken, alicePW)
	wantCode(t, err, signin.CodeAccountLocked)
	if rec := l.log.last(t); rec.Status.ErrorCode != 50053 {
		t.Fatalf("record: %+v", rec)
	}
}

func TestMFAPolicyStepsUpToTOTPAndCompletes(t *testing.T) {
	l := newLab(t, requireMFA(policy.StateEnabled))
	ctx := context.Background()
	reg, err := (&totp.Registrar{Store: l.factors, Sealer: l.sealer, Issuer: "lab"}).Register(ctx, aliceID, aliceUPN)
	if err != nil {
		t.Fatal(err)
	}
	fa := l.factors.facts[aliceID]
	fa.HasTOTP = true
	l.factors.facts[aliceID] = fa

	out, err := l.svc.Password(ctx, l.begin(t, aliceUPN).FlowToken, alicePW)
	if err != nil || out.Status != "stepUpRequired" || out.ErrorCode != signin.CodeMFARequired || out.Prompt == nil || out.Prompt.Method != "softwareOath" {
		t.Fatalf("after the password: %+v %v", out, err)
	}
	if rec := l.log.last(t); rec.Status.ErrorCode != 50074 {
		t.Fatalf("interrupted record: %+v", rec)
	}
	var secret []byte
	if secret, err = decodeSecret(reg.SecretKey); err != nil {
		t.Fatal(err)
	}
	code := totp.Code(secret, totp.StepAt(l.now))
	done, err := l.svc.TOTP(ctx, out.FlowToken, code)
	if err != nil || done.Status != "completed" {
		t.Fatalf("code: %+v %v", done, err)
	}
	rec := l.log.last(t)
	if rec.Status.ErrorCode != 0 || rec.ConditionalAccessStatus != "success" || rec.AuthenticationRequirement != "multiFactorAuthentication" {
		t.Fatalf("record: %+v", rec)
	}
	// The same code is refused the second time.
	again, err := l.svc.Password(ctx, l.begin(t, aliceUPN).FlowToken, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.svc.TOTP(ctx, again.FlowToken, code)
	wantCode(t, err, signin.CodeCodeReused)
}

func TestBlockAndDisabledAreRefusedAndLogged(t *testing.T) {
	l := newLab(t, block())
	_, err := l.svc.Password(context.Background(), l.begin(t, aliceUPN).FlowToken, alicePW)
	wantCode(t, err, signin.CodeBlocked)
	if rec := l.log.last(t); rec.Status.ErrorCode != 53003 || rec.ConditionalAccessStatus != "failure" {
		t.Fatalf("blocked record: %+v", rec)
	}

	l = newLab(t)
	fa := l.factors.facts[aliceID]
	fa.Enabled = false
	l.factors.facts[aliceID] = fa
	// An anonymous begin learns nothing and writes nothing; the right
	// password then learns that the account is disabled.
	begin := l.begin(t, aliceUPN)
	if begin.Status != "credentialRequired" || len(l.log.list) != 0 {
		t.Fatalf("begin for a disabled account: %+v, %d records", begin, len(l.log.list))
	}
	_, err = l.svc.Password(context.Background(), begin.FlowToken, alicePW)
	wantCode(t, err, signin.CodeUserDisabled)
	if rec := l.log.last(t); rec.Status.ErrorCode != 50057 {
		t.Fatalf("disabled record: %+v", rec)
	}
}

func TestTAPOnItsOwnAndWithinAFlow(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out, err := l.svc.TAP(ctx, signin.TAPRequest{UserPrincipalName: bobUPN, TemporaryAccessPass: "bob-pass-1234", IP: "127.0.0.1"})
	if err != nil || out.Status != "completed" || out.MethodsSatisfied[0] != "temporaryAccessPassOneTime" {
		t.Fatalf("TAP alone: %+v %v", out, err)
	}
	if rec := l.log.last(t); rec.IPAddress != "127.0.0.1" || rec.AppID != signin.DefaultApplicationID || l.tap.consumed != 1 {
		t.Fatalf("record: %+v, passes used %d", rec, l.tap.consumed)
	}
	// A flow begun for Alice does not even check Bob's pass.
	before := l.tap.verified
	_, err = l.svc.TAP(ctx, signin.TAPRequest{UserPrincipalName: bobUPN, TemporaryAccessPass: "bob-pass-1234", FlowToken: l.begin(t, aliceUPN).FlowToken})
	wantCode(t, err, signin.CodeWrongUser)
	if l.tap.verified != before {
		t.Fatal("the pass was checked against another user's flow")
	}
	_, err = l.svc.TAP(ctx, signin.TAPRequest{UserPrincipalName: bobUPN, TemporaryAccessPass: "wrong"})
	wantCode(t, err, methods.CodeInvalidTAP)
}

// A pass used for a sign-in whose record cannot be written is given back:
// the client got an error, so nothing may have been spent.
func TestTAPIsGivenBackWhenTheRecordCannotBeWritten(t *testing.T) {
	l := newLab(t)
	l.log.fail = errors.New("log commit failed")
	_, err := l.svc.TAP(context.Background(), signin.TAPRequest{UserPrincipalName: bobUPN, TemporaryAccessPass: "bob-pass-1234"})
	if err == nil || l.tap.consumed != 1 || l.tap.released != 1 {
		t.Fatalf("err %v, passes used %d, given back %d", err, l.tap.consumed, l.tap.released)
	}
}

// A pass that cannot complete the sign-in (Conditional Access wants more)
// is not used up.
func TestTAPIsNotUsedWhenTheSignInCannotComplete(t *testing.T) {
	p := requireMFA(policy.StateEnabled)
	p.GrantControls.BuiltInControls = nil
	p.GrantControls.AuthenticationStrength = &policy.AuthenticationStrengthPolicy{ID: policy.StrengthIDPhishingResistant}
	l := newLab(t, p)
	out, err := l.svc.TAP(context.Background(), signin.TAPRequest{UserPrincipalName: bobUPN, TemporaryAccessPass: "bob-pass-1234"})
	if err != nil || out.Status != "stepUpRequired" || l.tap.consumed != 0 {
		t.Fatalf("%+v %v, passes used %d", out, err, l.tap.consumed)
	}
}

func TestSecondFactorsNeedAFirst(t *testing.T) {
	l := newLab(t)
	_, err := l.svc.TOTP(context.Background(), l.begin(t, aliceUPN).FlowToken, "123456")
	wantCode(t, err, signin.CodeFirstFactorRequired)
	_, err = l.svc.PushBegin(context.Background(), l.begin(t, aliceUPN).FlowToken)
	wantCode(t, err, signin.CodeFirstFactorRequired)
}

func TestFlowBegunBeforeRevocationCannotFinish(t *testing.T) {
	l := newLab(t)
	begin := l.begin(t, aliceUPN)
	fa := l.factors.facts[aliceID]
	fa.SessionsValidFrom = time.Now().Add(time.Second)
	l.factors.facts[aliceID] = fa
	_, err := l.svc.Password(context.Background(), begin.FlowToken, alicePW)
	wantCode(t, err, signin.CodeInvalidFlow)
}

func TestFlowTokenIsNotASession(t *testing.T) {
	l := newLab(t)
	begin := l.begin(t, aliceUPN)
	if _, err := l.issuer.Verify(begin.FlowToken, tokens.AudienceSession); err == nil {
		t.Fatal("a flow token verified as a session")
	}
	_, err := l.svc.Password(context.Background(), "not-a-token", alicePW)
	wantCode(t, err, signin.CodeInvalidFlow)
}

func TestPortalSessionDataNamesModes(t *testing.T) {
	var sd struct {
		Steps []struct {
			M string `json:"m"`
		} `json:"steps"`
		App string `json:"app"`
	}
	if err := json.Unmarshal(signin.PortalSessionData(policy.ModeTemporaryAccessPassOneTime), &sd); err != nil {
		t.Fatal(err)
	}
	if sd.App != signin.DefaultApplicationID || len(sd.Steps) != 1 || sd.Steps[0].M != "temporaryAccessPassOneTime" {
		t.Fatalf("%+v", sd)
	}
}

func decodeSecret(s string) ([]byte, error) {
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, errors.New("secret is not base32")
	}
	return b, nil
}
