package signin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/tokens"
)

// TAPRedeemer checks and spends a Temporary Access Pass (internal/methods
// owns the pass, its policy and its attempt limit). Checking and spending
// are separate so a pass is spent only by a sign-in that completes.
type TAPRedeemer interface {
	VerifyTAP(ctx context.Context, upn, pass string) (methods.Redeemed, error)
	ConsumeTAP(ctx context.Context, v methods.Redeemed) (methods.Redeemed, error)
	// ReleaseTAP gives back a pass ConsumeTAP used (consumed) when the
	// sign-in fails after all; before is what VerifyTAP returned.
	ReleaseTAP(ctx context.Context, consumed, before methods.Redeemed) error
}

// TAPRequest is a Temporary Access Pass sign-in: on its own (a fresh flow
// for the lab portal) or as the first factor of a flow from Begin.
type TAPRequest struct {
	UserPrincipalName   string
	TemporaryAccessPass string
	FlowToken           string // optional
	IP                  string
	UserAgent           string // for a pass on its own (a flow keeps its own)
}

// TAP signs in with a Temporary Access Pass. The pass is checked, then
// Conditional Access decides, and the pass is used up only when the sign-in
// then completes:
//
//   - if Conditional Access lets the sign-in through, it completes as any other;
//   - if not, and the sign-in is to the lab portal, it is tried as Entra's
//     "Register security information" user action: only policies targeting
//     that action (includeUserActions urn:user:registersecurityinfo) apply,
//     and when an enforced one applies and the pass satisfies it the session
//     is issued for registration only (ForRegistrationOnly) — how a user
//     with no phishing-resistant method bootstraps one under an enforced
//     policy;
//   - otherwise the step-up or the block is answered and logged, and the
//     pass is not used: a one-time pass is never burned on a sign-in that
//     cannot complete, and the flow token that comes back does not hold it.
func (s *Service) TAP(ctx context.Context, req TAPRequest) (Outcome, error) {
	var f *flow
	if req.FlowToken != "" {
		var err error
		if f, err = s.readFlow(req.FlowToken); err != nil {
			return Outcome{}, err
		}
		// Check the flow is this user's before checking a pass against it.
		uid, err := s.d.Users.UserIDByName(ctx, req.UserPrincipalName)
		if err != nil || uid != f.UserID {
			return Outcome{}, apperr.Forbidden(CodeWrongUser, "this sign-in flow is for another account")
		}
	}
	v, err := s.d.TAP.VerifyTAP(ctx, req.UserPrincipalName, req.TemporaryAccessPass)
	if err != nil {
		return Outcome{}, err
	}
	mode := policy.ModeTemporaryAccessPassMultiUse
	if v.Pass.IsUsableOnce {
		mode = policy.ModeTemporaryAccessPassOneTime
	}
	if f == nil {
		f = s.newFlow(v.User.ID, req.IP, req.UserAgent)
	}
	with := *f
	with.Steps = append(append([]Step(nil), f.Steps...), Step{Mode: mode, At: s.d.Now()})
	ev, err := s.evaluate(ctx, &with)
	if err != nil {
		return Outcome{}, err
	}
	ok := ev != nil && ev.Decision == policy.DecisionAllow
	if !ok && with.AppID == DefaultApplicationID && with.UserAction == "" {
		reg := with
		reg.UserAction = policy.UserActionRegisterSecurityInfo
		if ev, err = s.evaluate(ctx, &reg); err != nil {
			return Outcome{}, err
		}
		// Only an enforced policy for the action lets the pass through: with
		// none, the application policies' verdict stands, as in Entra.
		if ev != nil && ev.Decision == policy.DecisionAllow && enforcedSuccess(ev) {
			ok, with = true, reg
		}
	}
	if !ok {
		out, err := s.advance(ctx, &with)
		if err != nil || out.Status != "stepUpRequired" {
			return out, err
		}
		out.Message += "; the Temporary Access Pass was not used and stays valid: register methods before enforcing, " +
			"or add a Conditional Access policy for the user action \"Register security information\" (includeUserActions " +
			policy.UserActionRegisterSecurityInfo + ") that a Temporary Access Pass satisfies"
		return s.withFlowToken(out, f) // the flow goes on without the pass
	}
	used, err := s.d.TAP.ConsumeTAP(ctx, v)
	if err != nil {
		return Outcome{}, err
	}
	out, err := s.advance(ctx, &with)
	if err != nil {
		// The sign-in did not complete after the pass was used: its record
		// or session could not be written, or a change since the check (a
		// policy now blocking, the account disabled, sessions revoked) ends
		// it. The pass goes back rather than being burned on a sign-in that
		// never happened. If the database is down the release fails too and
		// a one-time pass stays used (an admin issues another).
		if rerr := s.d.TAP.ReleaseTAP(ctx, used, v); rerr != nil {
			return Outcome{}, fmt.Errorf("%w (and the Temporary Access Pass could not be given back: %v)", err, rerr)
		}
		return Outcome{}, err
	}
	return out, nil
}

// evaluate is Conditional Access's verdict on the flow as it stands,
// without logging or issuing anything; nil when the sign-in cannot go on
// at all (account disabled, sessions revoked since the flow began).
func (s *Service) evaluate(ctx context.Context, f *flow) (*policy.Evaluation, error) {
	facts, err := s.d.Factors.SignInFacts(ctx, f.UserID)
	if err != nil {
		return nil, err
	}
	if !facts.Enabled || (!f.issuedAt.IsZero() && revoked(f.issuedAt, facts.SessionsValidFrom)) {
		return nil, nil
	}
	sc := signInContext(f, &facts, registeredModes(&facts), s.d.Now())
	compiled, err := s.d.Policies.Compiled(ctx)
	if err != nil {
		return nil, err
	}
	locate(compiled, f, &sc)
	ev := compiled.Evaluate(&sc)
	return &ev, nil
}

// enforcedSuccess says whether an enforced policy applied and was satisfied.
func enforcedSuccess(ev *policy.Evaluation) bool {
	for _, p := range ev.AppliedConditionalAccessPolicies {
		if p.Result == policy.ResultSuccess {
			return true
		}
	}
	return false
}

// ForRegistrationOnly says whether a session was issued for the "Register
// security information" user action only: it may register and manage the
// user's own methods, but not exchange for an admin token.
func ForRegistrationOnly(c *tokens.Claims) bool {
	var sd sessionData
	return c != nil && json.Unmarshal(c.Data, &sd) == nil && sd.Action != ""
}
