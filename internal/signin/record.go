package signin

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/useragent"
)

func (s *Service) log(ctx context.Context, f *flow, facts *Facts, ev *policy.Evaluation, code int, reason string) (*signinlog.SignIn, error) {
	return s.logSteps(ctx, f, facts, ev, code, reason, -1)
}

// logUse is log for a step that verified a passkey: its use (counter, last
// use) commits with the record, whatever the outcome (blocked or stepped
// up sign-ins used the passkey too), and a counter that no longer advances
// refuses the step. Without a use it is log.
func (s *Service) logUse(ctx context.Context, f *flow, facts *Facts, ev *policy.Evaluation, code int, reason string, use *signinlog.CredentialUse) (*signinlog.SignIn, error) {
	if use == nil {
		return s.log(ctx, f, facts, ev, code, reason)
	}
	rec := s.record(f, facts, ev, code, reason, -1)
	if err := s.d.Log.WriteUse(ctx, rec, use); err != nil {
		return nil, s.useRefused(ctx, use, err)
	}
	return &rec, nil
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
	app := f.appDisplayName()
	dev := useragent.Parse(f.UserAgent)
	if dev.OperatingSystem == "" {
		dev.OperatingSystem = f.Platform
	}
	rec := signinlog.SignIn{
		ID: uuid.NewString(), CreatedDateTime: now, UserID: facts.UserID, UserPrincipalName: facts.UserPrincipalName,
		UserDisplayName: facts.DisplayName, AppID: f.AppID, AppDisplayName: app, IPAddress: f.IP,
		ResourceID: f.AppID, ResourceDisplayName: app, RiskDetail: "none", RiskEventTypesV2: noRiskEvents, UserAgent: f.UserAgent,
		ClientAppUsed: clientAppUsed(f.ClientAppType), CorrelationID: f.CorrelationID, IsInteractive: true,
		ConditionalAccessStatus: "notApplied", AppliedConditionalAccessPolicies: []policy.AppliedConditionalAccessPolicy{},
		AuthenticationRequirement: "singleFactorAuthentication", RiskLevelDuringSignIn: "none", RiskLevelAggregated: riskOr(facts.UserRiskLevel), RiskState: riskState(facts.UserRiskLevel),
		Status: signinlog.SignInStatus{ErrorCode: code, FailureReason: reason, AdditionalDetails: f.additionalDetails}, DeviceDetail: signinlog.DeviceDetail{OperatingSystem: dev.OperatingSystem, Browser: dev.Browser},
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
		rec.AuthenticationDetails = append(rec.AuthenticationDetails, detailOf(st, ok, i == 0 || firstFactorSet.Has(st.Mode)))
		if ok {
			used = used.With(st.Mode)
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

// noRiskEvents is every record's riskEventTypes_v2: the lab detects no
// sign-in risk. Shared and never written to.
var noRiskEvents = []string{}

// methodName is the authenticationMethod text Entra's sign-in log shows.
func methodName(mode policy.Mode, detail string) string {
	switch mode {
	case policy.ModePassword:
		return "Password"
	case policy.ModeFido2:
		if detail != "" {
			if len(detail) >= 22 && detail[:22] == "Passkey (device-bound)" {
				return "Passkey (device-bound)"
			}
			if len(detail) >= 16 && detail[:16] == "Passkey (synced)" {
				return "Passkey (synced)"
			}
		}
		return "FIDO2 security key"
	case policy.ModeTemporaryAccessPassOneTime, policy.ModeTemporaryAccessPassMultiUse:
		return "Temporary Access Pass"
	case policy.ModeMicrosoftAuthenticatorPush:
		return "Mobile app notification"
	case policy.ModeSoftwareOath:
		return "OATH verification code"
	}
	return mode.String()
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
	case !ok && st.Mode == policy.ModePassword:
		d.AuthenticationStepResultDetail = "Invalid username or password or Invalid on-premise username or password."
	case !ok:
		d.AuthenticationStepResultDetail = "Authentication failed"
	case st.Mode == policy.ModePassword:
		d.AuthenticationStepResultDetail = "Correct password"
	default:
		d.AuthenticationStepResultDetail = "MFA successfully completed"
	}
	return d
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
