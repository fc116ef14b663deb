package signin

import (
	"context"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/policy"
)

// TAPRedeemer checks and spends a Temporary Access Pass (internal/methods
// owns the pass, its policy and its attempt limit).
type TAPRedeemer interface {
	RedeemTAP(ctx context.Context, upn, pass string) (methods.Redeemed, error)
}

// TAPRequest is a Temporary Access Pass sign-in: on its own (a fresh flow
// for the lab portal) or as the first factor of a flow from Begin.
type TAPRequest struct {
	UserPrincipalName   string
	TemporaryAccessPass string
	FlowToken           string // optional
	IP                  string
}

// TAP signs in with a Temporary Access Pass: the pass is redeemed, then the
// flow runs Conditional Access, issues the session and logs the sign-in.
func (s *Service) TAP(ctx context.Context, req TAPRequest) (Outcome, error) {
	var f *flow
	if req.FlowToken != "" {
		var err error
		if f, err = s.readFlow(req.FlowToken); err != nil {
			return Outcome{}, err
		}
		// Check the flow is this user's before spending a one-time pass on it.
		uid, err := s.d.Users.UserIDByName(ctx, req.UserPrincipalName)
		if err != nil || uid != f.UserID {
			return Outcome{}, apperr.Forbidden(CodeWrongUser, "this sign-in flow is for another account")
		}
	}
	res, err := s.d.TAP.RedeemTAP(ctx, req.UserPrincipalName, req.TemporaryAccessPass)
	if err != nil {
		return Outcome{}, err
	}
	mode := policy.ModeTemporaryAccessPassMultiUse
	if res.Pass.IsUsableOnce {
		mode = policy.ModeTemporaryAccessPassOneTime
	}
	if f == nil {
		f = s.newFlow(res.User.ID, req.IP)
	}
	f.Steps = append(f.Steps, Step{Mode: mode.String(), At: s.d.Now()})
	return s.advance(ctx, f)
}
