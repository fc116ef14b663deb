package signin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/tokens"
)

// Entra's error codes, so a lab log reads like a tenant's.
const (
	errBlockedByCA     = 53003  // access has been blocked by Conditional Access policies
	errStrongAuth      = 50074  // strong authentication is required
	errUserDisabled    = 50057  // the user account is disabled
	errInvalidPassword = 50126  // invalid username or password
	errMFAFailed       = 500121 // authentication failed during strong authentication request
)

var firstFactors = map[string]bool{"password": true, "fido2": true, "temporaryAccessPassOneTime": true, "temporaryAccessPassMultiUse": true}

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
	facts := *fp
	if !f.issuedAt.IsZero() && revoked(f.issuedAt, facts.SessionsValidFrom) {
		return Outcome{}, apperr.Invalid(CodeInvalidFlow, "the user's sessions were revoked after this sign-in began; begin again").WithTarget("flowToken")
	}
	out := Outcome{UserID: facts.UserID, UserPrincipalName: facts.UserPrincipalName, MethodsSatisfied: modes(f.Steps)}
	registered := registeredModes(&facts)
	primary := false
	for _, st := range f.Steps {
		primary = primary || firstFactors[st.Mode]
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

	sc := signInContext(f, &facts, registered)
	compiled, err := s.policies(ctx, pre.policyVersion)
	if err != nil {
		return Outcome{}, err
	}
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
		rec, _ := s.log(ctx, f, &facts, &ev, errBlockedByCA, "Access has been blocked by Conditional Access policies.")
		out.Log = rec
		return out, apperr.Forbidden(CodeBlocked, "access has been blocked by Conditional Access policies%s", policyNames(ev.UnmetRequirements))
	}
	// Step-up: an enforced policy wants more than the sign-in has proven.
	out.Status, out.Prompt, out.Requirements = "stepUpRequired", ev.Prompt, ev.UnmetRequirements
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
	out.Log, _ = s.log(ctx, f, &facts, &ev, errStrongAuth, out.Message)
	return s.withFlowToken(out, f)
}

// signInContext is what Conditional Access sees of the flow.
func signInContext(f *flow, facts *Facts, registered policy.ModeSet) policy.SignInContext {
	sc := policy.SignInContext{
		UserID: facts.UserID, GroupIDs: policy.NewSet(facts.GroupIDs...), RoleTemplateIDs: facts.RoleTemplateIDs,
		IsEmergencyAccount: facts.IsEmergencyAccess, ApplicationID: f.AppID, ClientAppType: f.ClientAppType, Platform: f.Platform,
		RegisteredMethods: registered, UserRiskLevel: facts.UserRiskLevel, UserAction: f.UserAction,
		AuthenticationContexts: f.AuthContexts,
	}
	for _, st := range f.Steps {
		sc.Methods = append(sc.Methods, policy.SatisfiedMethod{Mode: st.Mode, PreviouslySatisfied: st.Previous, AAGUID: st.AAGUID})
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
		SID: uuid.NewString(), Data: mustJSON(sessionData{Steps: steps, App: f.AppID, Action: f.UserAction, Contexts: contexts}),
	}.WithSubject(facts.UserID), tokens.AudienceSession, s.d.SessionTTL)
	if err != nil {
		return Outcome{}, err
	}
	out.AuthContexts, out.AuthTime, out.SessionAt = contexts, authTime, now
	var rec *signinlog.SignIn
	if use != nil {
		// The passkey's counter commits with the record: one commit, and
		// neither without the other.
		r := s.record(f, facts, ev, 0, "", -1)
		if err := s.d.Log.WriteUse(ctx, r, use); err != nil {
			return Outcome{}, s.useRefused(ctx, use, err)
		}
		rec = &r
	} else if rec, err = s.log(ctx, f, facts, ev, 0, ""); err != nil {
		// No session without its record: an acknowledged sign-in that the
		// log does not show is exactly what an audit must never find.
		return Outcome{}, err
	}
	out.Status, out.SessionToken, out.SessionTTL, out.Log, out.SignInID = "completed", tok, s.d.SessionTTL, rec, rec.ID
	return out, nil
}

// fail logs a failed factor and returns the error.
func (s *Service) fail(ctx context.Context, f *flow, mode string, cause error, code int) (Outcome, error) {
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

func (s *Service) log(ctx context.Context, f *flow, facts *Facts, ev *policy.Evaluation, code int, reason string) (*signinlog.SignIn, error) {
	return s.logSteps(ctx, f, facts, ev, code, reason, -1)
}

// logSteps writes the sign-in record durably; failedStep marks the step
// that failed (-1: none). The caller decides what a failed write means: a
// success must not be answered without its record (the sign-in fails, 503
// when the database is gone), while a refusal is answered as a refusal
// whether or not its record could be kept (the error is logged here).
func (s *Service) logSteps(ctx context.Context, f *flow, facts *Facts, ev *policy.Evaluation, code int, reason string, failedStep int) (*signinlog.SignIn, error) {
	rec := s.record(f, facts, ev, code, reason, failedStep)
	if err := s.d.Log.Write(ctx, rec); err != nil {
		slog.ErrorContext(ctx, "sign-in log write failed", "sign_in_id", rec.ID, "user_id", rec.UserID, "err", err)
		return nil, fmt.Errorf("sign-in log: %w", err)
	}
	return &rec, nil
}

// record builds the sign-in record of a flow step; failedStep marks the
// step that failed (-1: none).
func (s *Service) record(f *flow, facts *Facts, ev *policy.Evaluation, code int, reason string, failedStep int) signinlog.SignIn {
	now := s.d.Now()
	rec := signinlog.SignIn{
		ID: uuid.NewString(), CreatedDateTime: now, UserID: facts.UserID, UserPrincipalName: facts.UserPrincipalName,
		UserDisplayName: facts.DisplayName, AppID: f.AppID, AppDisplayName: appName(f.AppID), IPAddress: f.IP,
		ClientAppUsed: clientAppUsed(f.ClientAppType), CorrelationID: f.CorrelationID, IsInteractive: true,
		ConditionalAccessStatus: "notApplied", AppliedConditionalAccessPolicies: []policy.AppliedConditionalAccessPolicy{},
		AuthenticationRequirement: "singleFactorAuthentication", RiskLevelDuringSignIn: "none", RiskLevelAggregated: riskOr(facts.UserRiskLevel), RiskState: riskState(facts.UserRiskLevel),
		Status: signinlog.SignInStatus{ErrorCode: code, FailureReason: reason}, DeviceDetail: signinlog.DeviceDetail{OperatingSystem: f.Platform},
		IsEmergencyAccess: facts.IsEmergencyAccess,
		// An emergency account is worth an alert when a right credential
		// was used (the sign-in completed, or went on past its first
		// factor), and once when a burst of failures locked it out; not for
		// every anonymous wrong guess.
		RaisesAlert: facts.IsEmergencyAccess && (failedStep < 0 || f.lockedOutNow),
	}
	for _, c := range f.AuthContexts {
		detail := "required"
		for _, p := range f.PrevContexts {
			if p == c {
				detail = "previouslySatisfied"
			}
		}
		rec.AuthenticationContextClassReferences = append(rec.AuthenticationContextClassReferences, signinlog.AuthenticationContext{ID: c, Detail: detail})
	}
	if ev != nil {
		rec.ConditionalAccessStatus = ev.ConditionalAccessStatus
		rec.AppliedConditionalAccessPolicies = ev.AppliedConditionalAccessPolicies
	}
	var used policy.ModeSet
	for i, st := range f.Steps {
		ok := i != failedStep
		rec.AuthenticationDetails = append(rec.AuthenticationDetails, detailOf(st, ok, i == 0 || firstFactors[st.Mode]))
		if m, known := policy.ParseMode(st.Mode); known && ok {
			used = used.With(m)
		}
		if ok && !st.Previous {
			rec.AuthenticationMethodsUsed = appendUnique(rec.AuthenticationMethodsUsed, methodName(st.Mode, st.Detail))
		}
	}
	if policy.IsMultifactor(used) {
		rec.AuthenticationRequirement = "multiFactorAuthentication"
	}
	if rec.AuthenticationMethodsUsed == nil {
		rec.AuthenticationMethodsUsed = []string{}
	}
	return rec
}

func appName(id string) string {
	if n, ok := Applications[id]; ok {
		return n
	}
	return id
}

// clientAppUsed maps the CA client app type to the sign-in log's wording.
func clientAppUsed(t string) string {
	switch t {
	case "browser":
		return "Browser"
	case "mobileAppsAndDesktopClients":
		return "Mobile Apps and Desktop clients"
	case "exchangeActiveSync":
		return "Exchange ActiveSync"
	}
	return "Other clients"
}

// methodName is the authenticationMethod text Entra's sign-in log shows.
func methodName(mode, detail string) string {
	switch mode {
	case "password":
		return "Password"
	case "fido2":
		if detail != "" {
			if len(detail) >= 22 && detail[:22] == "Passkey (device-bound)" {
				return "Passkey (device-bound)"
			}
			if len(detail) >= 16 && detail[:16] == "Passkey (synced)" {
				return "Passkey (synced)"
			}
		}
		return "FIDO2 security key"
	case "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse":
		return "Temporary Access Pass"
	case "microsoftAuthenticatorPush":
		return "Mobile app notification"
	case "softwareOath":
		return "OATH verification code"
	}
	return mode
}

func detailOf(st Step, ok, primary bool) signinlog.AuthenticationDetail {
	d := signinlog.AuthenticationDetail{AuthenticationStepDateTime: st.At, AuthenticationMethod: methodName(st.Mode, st.Detail),
		AuthenticationMethodDetail: st.Detail, Succeeded: ok, AuthenticationStepRequirement: "Primary authentication"}
	if !primary {
		d.AuthenticationStepRequirement = "Multifactor authentication"
	}
	switch {
	case st.Previous && primary:
		d.AuthenticationMethod, d.AuthenticationStepResultDetail = "Previously satisfied", "First factor requirement satisfied by claim in the token"
	case st.Previous:
		d.AuthenticationMethod, d.AuthenticationStepResultDetail = "Previously satisfied", "MFA requirement satisfied by claim in the token"
	case !ok && st.Mode == "password":
		d.AuthenticationStepResultDetail = "Invalid username or password or Invalid on-premise username or password."
	case !ok:
		d.AuthenticationStepResultDetail = "Authentication failed"
	case st.Mode == "password":
		d.AuthenticationStepResultDetail = "Correct password"
	default:
		d.AuthenticationStepResultDetail = "MFA successfully completed"
	}
	return d
}

func modes(steps []Step) []string {
	out := []string{}
	for _, st := range steps {
		out = appendUnique(out, st.Mode)
	}
	return out
}

// dedupe keeps the latest step of each mode, so a session does not grow
// with every sign-in that reuses it.
func dedupe(steps []Step) []Step {
	seen := map[string]int{}
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

func riskOr(level string) string {
	if level == "" {
		return "none"
	}
	return level
}

func riskState(level string) string {
	if level == "" || level == "none" {
		return "none"
	}
	return "atRisk"
}

// revoked reports whether a token issued at iat predates the user's
// sessions-valid-from instant. Both have microsecond precision (tokens and
// PostgreSQL), so the comparison is exact.
func revoked(iat, validFrom time.Time) bool {
	return iat.Before(validFrom.Truncate(time.Microsecond))
}
