package signin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/methods/campaign"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/internal/useragent"
)

// Step is one verified factor of a sign-in.
type Step struct {
	Mode     policy.Mode `json:"m"`
	AAGUID   string      `json:"a,omitempty"`
	Detail   string      `json:"d,omitempty"` // e.g. the passkey's model
	At       time.Time   `json:"t"`
	Previous bool        `json:"p,omitempty"` // carried from an earlier sign-in of the session
}

// flow is the state carried by a flow token.
type flow struct {
	UserID        string `json:"u"`
	AppID         string `json:"app"`
	ClientAppType string `json:"cat"`
	Platform      string `json:"plat,omitempty"`
	IP            string `json:"ip,omitempty"`
	// UserAgent is the client's User-Agent header where the flow began
	// (capped at useragent.MaxLen): the flow's later steps come from the
	// same browser, and the record parses it for deviceDetail.
	UserAgent     string `json:"uag,omitempty"`
	CorrelationID string `json:"cid"`
	// additionalDetails goes into this step's sign-in record (not sealed).
	additionalDetails string
	Steps             []Step `json:"steps"`
	// UserAction is set when the sign-in registers security information
	// (policy.UserActionRegisterSecurityInfo) rather than opening the app.
	UserAction string `json:"ua,omitempty"`
	// AuthContexts the app asked for (an OpenID Connect sign-in with
	// acr_values or a claims challenge); Conditional Access policies
	// targeting them apply. PrevContexts were satisfied earlier in the
	// session.
	AuthContexts []string `json:"acx,omitempty"`
	PrevContexts []string `json:"pacx,omitempty"`
	// AppName is the registered app's display name, for the log.
	AppName string `json:"an,omitempty"`

	// lockedOutNow marks a failure that just locked the user out (smart
	// lockout): the burst of failures an emergency account's alert is
	// raised for, once.
	lockedOutNow bool
	// issuedAt is when the presented flow token was minted (zero for a flow
	// begun in this request): a flow older than the user's last session
	// revocation is refused.
	issuedAt time.Time
}

// Outcome is the answer to every step of the flow.
type Outcome struct {
	// Status: credentialRequired (no first factor yet), stepUpRequired
	// (Conditional Access wants more), completed.
	Status            string               `json:"status"`
	ErrorCode         string               `json:"errorCode,omitempty"`
	Message           string               `json:"message,omitempty"`
	FlowToken         string               `json:"flowToken,omitempty"`
	SessionToken      string               `json:"sessionToken,omitempty"`
	UserID            string               `json:"userId"`
	UserPrincipalName string               `json:"userPrincipalName"`
	MethodsSatisfied  []string             `json:"methodsSatisfied"`
	Prompt            *policy.MethodChoice `json:"prompt,omitempty"`
	Requirements      []policy.Requirement `json:"requirements,omitempty"`
	SignInID          string               `json:"signInId,omitempty"`
	// RegistrationCampaign, on a completed sign-in, is the campaign's
	// "set up Microsoft Authenticator" interrupt (docs/signin-flow.md).
	RegistrationCampaign *campaign.Nudge `json:"registrationCampaign,omitempty"`
	// Log is the sign-in record written for this step, when one was.
	Log *signinlog.SignIn `json:"signIn,omitempty"`
	// Session lifetime, for the cookie; 0 (persistentBrowser never) makes
	// it a browser-session cookie.
	SessionTTL time.Duration `json:"-"`
	// For an app sign-in (BeginForApp), once completed: the authentication
	// contexts the session satisfies and when the user last authenticated.
	AuthContexts []string  `json:"-"`
	AuthTime     time.Time `json:"-"`
	SessionAt    time.Time `json:"-"`
}

// BeginRequest starts a sign-in to an application.
type BeginRequest struct {
	UserPrincipalName string `json:"userPrincipalName"`
	ApplicationID     string `json:"applicationId"`
	ClientAppType     string `json:"clientAppType"`
	Platform          string `json:"platform"`
	IP                string `json:"-"`
	UserAgent         string `json:"-"`
}

var clientAppTypes = map[string]bool{"browser": true, "mobileAppsAndDesktopClients": true, "exchangeActiveSync": true, "other": true}

var platforms = map[string]bool{"": true, "android": true, "iOS": true, "windows": true, "windowsPhone": true, "macOS": true, "linux": true}

// Begin opens a flow. With a valid session of the same user, its methods
// count as previously satisfied and the sign-in may complete at once.
func (s *Service) Begin(ctx context.Context, req BeginRequest, session *tokens.Claims) (Outcome, error) {
	if req.ApplicationID == "" {
		req.ApplicationID = DefaultApplicationID
	}
	if _, ok := Applications[req.ApplicationID]; !ok {
		if !ids.Valid(req.ApplicationID) {
			return Outcome{}, apperr.Invalid(CodeInvalidApplicationID, "applicationId must be a GUID (an app registered in the lab, or any GUID)").WithTarget("applicationId")
		}
	}
	if req.ClientAppType == "" {
		req.ClientAppType = "browser"
	}
	if !clientAppTypes[req.ClientAppType] {
		return Outcome{}, apperr.Invalid(CodeInvalidClientAppType, "clientAppType must be browser, mobileAppsAndDesktopClients, exchangeActiveSync or other").WithTarget("clientAppType")
	}
	if !platforms[req.Platform] {
		return Outcome{}, apperr.Invalid(CodeInvalidPlatform, "platform must be android, iOS, windows, windowsPhone, macOS or linux").WithTarget("platform")
	}
	userID, err := s.d.Users.UserIDByName(ctx, req.UserPrincipalName)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return Outcome{}, apperr.NotFound(CodeUserNotFound, "no account %q exists in the lab tenant", req.UserPrincipalName).WithTarget("userPrincipalName")
		}
		return Outcome{}, err
	}
	f := &flow{UserID: userID, AppID: req.ApplicationID, ClientAppType: req.ClientAppType, Platform: req.Platform, IP: req.IP,
		UserAgent: useragent.Truncate(req.UserAgent), CorrelationID: uuid.NewString()}
	if session != nil && session.Subject == userID {
		var sd sessionData
		if json.Unmarshal(session.Data, &sd) == nil && sd.Action == "" && s.sessionValid(ctx, session) == nil {
			for _, st := range sd.Steps {
				st.Previous = true
				f.Steps = append(f.Steps, st)
			}
		}
	}
	return s.advance(ctx, f)
}

func (s *Service) readFlow(token string) (*flow, error) {
	c, err := s.d.Issuer.Verify(token, tokens.AudienceFlow)
	if err != nil {
		return nil, apperr.Invalid(CodeInvalidFlow, "the sign-in flow token is invalid or expired; begin again").WithTarget("flowToken")
	}
	var f flow
	if err := json.Unmarshal(c.Data, &f); err != nil || f.UserID == "" {
		return nil, apperr.Invalid(CodeInvalidFlow, "the sign-in flow token is malformed").WithTarget("flowToken")
	}
	if c.IssuedAt != nil {
		f.issuedAt = c.IssuedAt.Time
	}
	return &f, nil
}

// requirePrimary refuses a second factor before the first: a push or a code
// alone proves nothing here, and a push to the user's phone must not be
// triggerable by anyone who merely knows the UPN.
func requirePrimary(f *flow) error {
	for _, st := range f.Steps {
		if firstFactorSet.Has(st.Mode) {
			return nil
		}
	}
	return apperr.Invalid(CodeFirstFactorRequired, "sign in with a passkey, a Temporary Access Pass or a password first")
}

// advance decides what a flow needs next, and completes it when nothing.
func (s *Service) advance(ctx context.Context, f *flow) (Outcome, error) {
	facts, err := s.d.Factors.SignInFacts(ctx, f.UserID)
	if err != nil {
		return Outcome{}, err
	}
	return s.decide(ctx, f, &facts, prefetched{})
}

// prefetched is what a caller already read in an earlier round trip (the
// passkey sign-in reads it with its challenge), and the credential use to
// commit with the sign-in's record.
type prefetched struct {
	policyVersion *int64 // the Conditional Access version read with the facts; nil: unknown
	use           *signinlog.CredentialUse
}

// decide is advance on facts already read.
func (s *Service) decide(ctx context.Context, f *flow, fp *Facts, pre prefetched) (Outcome, error) {
	ctx, span := tracer.Start(ctx, "signin.decide")
	defer span.End()
	facts := *fp
	if !f.issuedAt.IsZero() && revoked(f.issuedAt, facts.SessionsValidFrom) {
		return Outcome{}, apperr.Invalid(CodeInvalidFlow, "the user's sessions were revoked after this sign-in began; begin again").WithTarget("flowToken")
	}
	out := Outcome{UserID: facts.UserID, UserPrincipalName: facts.UserPrincipalName, MethodsSatisfied: modes(f.Steps)}
	registered := registeredModes(&facts)
	primary := false
	for _, st := range f.Steps {
		primary = primary || firstFactorSet.Has(st.Mode)
	}
	if !primary {
		// Nothing is proven yet: the answer tells nothing of the account's
		// state and nothing is written (an anonymous caller must not fill
		// the sign-in log or learn that an account is disabled).
		choice := policy.ChooseSystemPreferredMethod(registered&firstFactorSet, 0, [][]policy.ModeSet{{ms(policy.ModeFido2), ms(policy.ModeTemporaryAccessPassOneTime), ms(policy.ModePassword)}})
		out.Status, out.Prompt = "credentialRequired", &choice
		return s.withFlowToken(out, f)
	}
	if !facts.Enabled {
		_, _ = s.log(ctx, f, &facts, nil, errUserDisabled, "User account is disabled.")
		return out, apperr.Forbidden(CodeUserDisabled, "the account is disabled")
	}

	sc := signInContext(f, &facts, registered, s.d.Now())
	compiled, err := s.policies(ctx, pre.policyVersion)
	if err != nil {
		return Outcome{}, err
	}
	locate(compiled, f, &sc)
	ev := compiled.Evaluate(&sc)
	if ev.Decision == policy.DecisionAllow {
		// The sign-in ends here: report-only policies are judged on what it
		// finished with.
		sc.Final = true
		ev = compiled.Evaluate(&sc)
	}

	switch ev.Decision {
	case policy.DecisionAllow:
		return s.complete(ctx, f, &facts, &ev, out, pre.use)
	case policy.DecisionBlock:
		rec, err := s.logUse(ctx, f, &facts, &ev, errBlockedByCA, "Access has been blocked by Conditional Access policies.", pre.use)
		if err != nil && pre.use != nil {
			return Outcome{}, err
		}
		out.Log = rec
		return out, apperr.Forbidden(CodeBlocked, "access has been blocked by Conditional Access policies%s", policyNames(ev.UnmetRequirements))
	}
	// Step-up: an enforced policy wants more than the sign-in has proven.
	out.Status, out.Prompt, out.Requirements = "stepUpRequired", s.stepUpPrompt(ctx, &facts, ev.Prompt), ev.UnmetRequirements
	out.ErrorCode, out.Message = CodeMFARequired, "Conditional Access requires multifactor authentication"+policyNames(ev.UnmetRequirements)
	for _, r := range ev.UnmetRequirements {
		if r.AuthenticationStrength != nil {
			out.ErrorCode, out.Message = CodeStrengthRequired, "Conditional Access requires the authentication strength "+r.AuthenticationStrength.DisplayName+policyNames(ev.UnmetRequirements)
			break
		}
	}
	if ev.Prompt != nil && ev.Prompt.RegistrationRequired {
		out.ErrorCode = CodeRegistrationRequired
		out.Message += "; the user has no registered method that satisfies it and must register one"
	}
	rec, err := s.logUse(ctx, f, &facts, &ev, errStrongAuth, out.Message, pre.use)
	if err != nil && pre.use != nil {
		return Outcome{}, err
	}
	out.Log = rec
	return s.withFlowToken(out, f)
}

// locate fills the named locations the client's address falls in.
func locate(compiled *policy.CompiledPolicies, f *flow, sc *policy.SignInContext) {
	if ip, err := netip.ParseAddr(f.IP); err == nil {
		sc.LocationIDs, sc.IsTrustedLocation = compiled.Locate(ip)
	}
}

// signInContext is what Conditional Access sees of the flow.
func signInContext(f *flow, facts *Facts, registered policy.ModeSet, now time.Time) policy.SignInContext {
	sc := policy.SignInContext{
		UserID: facts.UserID, GroupIDs: policy.NewSet(facts.GroupIDs...), RoleTemplateIDs: facts.RoleTemplateIDs,
		IsEmergencyAccount: facts.IsEmergencyAccess, ApplicationID: f.AppID, ClientAppType: f.ClientAppType, Platform: f.Platform,
		RegisteredMethods: registered, UserRiskLevel: facts.UserRiskLevel, UserAction: f.UserAction,
		AuthenticationContexts: f.AuthContexts,
	}
	for _, st := range f.Steps {
		m := policy.SatisfiedMethod{Mode: st.Mode.String(), PreviouslySatisfied: st.Previous, AAGUID: st.AAGUID}
		if st.Previous && !st.At.IsZero() {
			m.Age = now.Sub(st.At) // for signInFrequency timeBased
		}
		sc.Methods = append(sc.Methods, m)
	}
	return sc
}

func policyNames(reqs []policy.Requirement) string {
	if len(reqs) == 0 {
		return ""
	}
	s := " (policy"
	if len(reqs) > 1 {
		s += "ies"
	}
	for i, r := range reqs {
		if i > 0 {
			s += ","
		}
		s += " \"" + r.DisplayName + "\""
	}
	return s + ")"
}

func (s *Service) withFlowToken(out Outcome, f *flow) (Outcome, error) {
	tok, err := s.d.Issuer.Mint(tokens.Claims{Data: mustJSON(f)}.WithSubject(f.UserID), tokens.AudienceFlow, s.d.FlowTTL)
	if err != nil {
		return Outcome{}, err
	}
	out.FlowToken = tok
	return out, nil
}

// complete issues the session and logs the success.
func (s *Service) complete(ctx context.Context, f *flow, facts *Facts, ev *policy.Evaluation, out Outcome, use *signinlog.CredentialUse) (Outcome, error) {
	now := s.d.Now()
	authTime := lastAuthentication(f.Steps)
	steps := dedupe(f.Steps)
	contexts := unionSorted(f.PrevContexts, f.AuthContexts)
	tok, err := s.d.Issuer.Mint(tokens.Claims{
		UPN: facts.UserPrincipalName, Name: facts.DisplayName, AMR: modes(steps), AuthTime: now.Unix(),
		SID: uuid.NewString(), Data: sessionJSON(sessionData{Steps: steps, App: f.AppID, Action: f.UserAction, Contexts: contexts}),
	}.WithSubject(facts.UserID), tokens.AudienceSession, s.d.SessionTTL)
	if err != nil {
		return Outcome{}, err
	}
	out.AuthContexts, out.AuthTime, out.SessionAt = contexts, authTime, now
	// No session without its record (an acknowledged sign-in that the log
	// does not show is exactly what an audit must never find), and a
	// passkey's counter commits with it: one commit, neither without the
	// other.
	out.RegistrationCampaign, f.additionalDetails = s.registrationNudge(ctx, facts)
	rec, err := s.logUse(ctx, f, facts, ev, 0, "", use)
	if err != nil {
		return Outcome{}, err
	}
	out.Status, out.SessionToken, out.SessionTTL, out.Log, out.SignInID = "completed", tok, s.d.SessionTTL, rec, rec.ID
	if ev != nil && ev.PersistentBrowser == "never" {
		// persistentBrowser never: a cookie without Max-Age, which the
		// browser drops when it closes (the token itself keeps its TTL).
		out.SessionTTL = 0
	}
	return out, nil
}

// fail logs a failed factor and returns the error.
func (s *Service) fail(ctx context.Context, f *flow, mode policy.Mode, cause error, code int) (Outcome, error) {
	facts, err := s.d.Factors.SignInFacts(ctx, f.UserID)
	if err != nil {
		return Outcome{}, cause
	}
	reason := cause.Error()
	if e, ok := apperr.As(cause); ok {
		reason = e.Message
	}
	failed := append(append([]Step(nil), f.Steps...), Step{Mode: mode, At: s.d.Now()})
	g := *f
	g.Steps = failed
	rec, _ := s.logSteps(ctx, &g, &facts, nil, code, reason, len(failed)-1)
	return Outcome{UserID: facts.UserID, UserPrincipalName: facts.UserPrincipalName, Log: rec}, cause
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("signin: marshal %T: %v", v, err))
	}
	return b
}

func modes(steps []Step) []string {
	out := []string{}
	for _, st := range steps {
		out = appendUnique(out, st.Mode.String())
	}
	return out
}

// dedupe keeps the latest step of each mode, so a session does not grow
// with every sign-in that reuses it.
func dedupe(steps []Step) []Step {
	seen := map[policy.Mode]int{}
	var out []Step
	for _, st := range steps {
		if i, ok := seen[st.Mode]; ok {
			if !st.Previous {
				out[i] = st
			}
			continue
		}
		seen[st.Mode] = len(out)
		out = append(out, st)
	}
	for i := range out {
		out[i].Previous = false
	}
	return out
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func ms(m policy.Mode) policy.ModeSet { return policy.ModeSet(m) }

var firstFactorSet = ms(policy.ModeFido2) | ms(policy.ModeTemporaryAccessPassOneTime) | ms(policy.ModeTemporaryAccessPassMultiUse) | ms(policy.ModePassword)

func registeredModes(f *Facts) policy.ModeSet {
	var m policy.ModeSet
	if f.HasPassword {
		m = m.With(policy.ModePassword)
	}
	if f.HasPasskey {
		m = m.With(policy.ModeFido2)
	}
	if f.HasTOTP {
		m = m.With(policy.ModeSoftwareOath)
	}
	if f.HasPush {
		m = m.With(policy.ModeMicrosoftAuthenticatorPush)
	}
	if f.HasTAP {
		m = m.With(policy.ModeTemporaryAccessPassOneTime)
	}
	return m
}

// RegisteredModesOf reports the methods a user could perform now, read from
// the factor store: Conditional Access's lockout check needs it to tell "the
// admin will be asked for a passkey" from "the admin has none". A function
// of the store, not of the Service, so Conditional Access can be built
// before the sign-in flow that depends on it.
func RegisteredModesOf(store FactsStore) func(ctx context.Context, userID string) (policy.ModeSet, error) {
	return func(ctx context.Context, userID string) (policy.ModeSet, error) {
		facts, err := store.SignInFacts(ctx, userID)
		if err != nil {
			return 0, err
		}
		return registeredModes(&facts), nil
	}
}

// SecondFactorsOf reports whether a user holds a method that can serve as
// a second factor (passkey, verification-code app, push app), read from the
// factor store, for the methods service's rule on changing one's own
// methods. A function of the store, so the methods service can be built
// before the ceremony and sign-in services that depend on it.
func SecondFactorsOf(store FactsStore) func(ctx context.Context, userID string) (bool, error) {
	return func(ctx context.Context, userID string) (bool, error) {
		facts, err := store.SignInFacts(ctx, userID)
		if err != nil {
			return false, err
		}
		return facts.HasPasskey || facts.HasTOTP || facts.HasPush, nil
	}
}
