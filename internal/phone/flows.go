package phone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Outcome is the sign-in flow's answer, as much as the phone shows.
type Outcome struct {
	Status            string   `json:"status"` // credentialRequired, stepUpRequired, completed
	ErrorCode         string   `json:"errorCode,omitempty"`
	Message           string   `json:"message,omitempty"`
	FlowToken         string   `json:"flowToken,omitempty"`
	SessionToken      string   `json:"sessionToken,omitempty"`
	UserID            string   `json:"userId"`
	UserPrincipalName string   `json:"userPrincipalName"`
	MethodsSatisfied  []string `json:"methodsSatisfied"`
	Prompt            *struct {
		Method       string   `json:"method"`
		Alternatives []string `json:"alternatives"`
	} `json:"prompt,omitempty"`
	SignIn *SignInRecord `json:"signIn,omitempty"`
}

// SignInRecord is the part of the sign-in log record the phone prints.
type SignInRecord struct {
	ID                               string `json:"id"`
	ConditionalAccessStatus          string `json:"conditionalAccessStatus"`
	AuthenticationRequirement        string `json:"authenticationRequirement"`
	AppliedConditionalAccessPolicies []struct {
		DisplayName string `json:"displayName"`
		Result      string `json:"result"`
	} `json:"appliedConditionalAccessPolicies"`
	Status struct {
		ErrorCode     int    `json:"errorCode"`
		FailureReason string `json:"failureReason"`
	} `json:"status"`
	AuthenticationDetails []struct {
		AuthenticationMethod           string `json:"authenticationMethod"`
		Succeeded                      bool   `json:"succeeded"`
		AuthenticationStepResultDetail string `json:"authenticationStepResultDetail"`
	} `json:"authenticationDetails"`
}

// Registered is what Register did.
type Registered struct {
	Session json.RawMessage `json:"-"`
	// Passkey is the server's fido2AuthenticationMethod (with its attestation report).
	Passkey struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		Model       string `json:"model"`
		AAGUID      string `json:"aaGuid"`
		Attestation struct {
			Format   string `json:"format"`
			Attested bool   `json:"attested"`
			Trusted  bool   `json:"trusted"`
			Reason   string `json:"reason"`
		} `json:"attestation"`
		PasskeyType string `json:"passkeyType"`
	}
	// PushRegistered is true when the Authenticator app's push method was
	// registered too.
	PushRegistered bool
}

// RegisterOptions are register's flags.
type RegisterOptions struct {
	TAP         string
	DisplayName string // the passkey's name; default the preset's model
	// Push registers the Authenticator app's push method too (the
	// Microsoft Authenticator presets do by default).
	Push bool
}

// Register redeems the TAP for a session, registers a passkey with it and,
// when asked, the push method; the store is saved after each success, so a
// later failure never loses a passkey the server already holds.
func (p *Phone) Register(ctx context.Context, o RegisterOptions) (*Registered, error) {
	if o.TAP == "" {
		return nil, errors.New("phone register: -tap is required (issue one with POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods)")
	}
	var out Outcome
	if err := p.call(ctx, "TAP sign-in", "/signin/tap", "", map[string]string{"userPrincipalName": p.cfg.UPN, "temporaryAccessPass": o.TAP}, http.StatusOK, &out); err != nil {
		return nil, err
	}
	if out.Status != "completed" || out.SessionToken == "" {
		return nil, fmt.Errorf("TAP sign-in did not complete: status %s, %s: %s", out.Status, out.ErrorCode, out.Message)
	}
	session := out.SessionToken
	name := o.DisplayName
	if name == "" {
		name = p.auth.Config().Name
	}
	var opts json.RawMessage
	if err := p.call(ctx, "registration begin", "/webauthn/registration/begin", session, map[string]string{"displayName": name}, http.StatusOK, &opts); err != nil {
		return nil, err
	}
	cred, err := p.auth.Create(opts, p.cfg.Origin)
	if err != nil {
		return nil, fmt.Errorf("authenticator: %w", err)
	}
	reg := &Registered{}
	if err := p.call(ctx, "registration finish", "/webauthn/registration/finish", session, json.RawMessage(cred), http.StatusCreated, &reg.Passkey); err != nil {
		return nil, err
	}
	if err := p.save(); err != nil {
		return reg, err
	}
	if !o.Push {
		return reg, nil
	}
	var dev struct {
		DeviceToken string `json:"deviceToken"`
	}
	if err := p.call(ctx, "push registration", "/me/authentication/microsoftAuthenticatorMethods", session,
		map[string]string{"displayName": p.auth.Config().Name}, http.StatusCreated, &dev); err != nil {
		return reg, err
	}
	p.store.DeviceToken = dev.DeviceToken
	reg.PushRegistered = true
	return reg, p.save()
}

// SignInOptions choose how the user signs in.
type SignInOptions struct {
	AppID string // application id; "" is the lab portal
	// Password signs in with the password first instead of the passkey;
	// when the server then offers a push, the phone approves its own push
	// (the user typing the number the screen shows).
	Password string
	// Fresh forgets the browser session, so nothing is previously satisfied.
	Fresh bool
}

// SignIn runs the sign-in flow (/signin/begin, then the passkey or the
// password and push) so Conditional Access applies. A step-up the phone
// cannot satisfy comes back as the Outcome (status stepUpRequired with its
// errorCode); a block as an *Error. A completed sign-in's session is kept
// for the next one, as a browser keeps its cookie.
func (p *Phone) SignIn(ctx context.Context, o SignInOptions) (*Outcome, error) {
	if o.Password == "" && p.auth.CredentialCount() == 0 {
		return nil, fmt.Errorf("phone signin: %s holds no passkey yet: run register first (or sign in with -password)", p.cfg.StorePath)
	}
	begin := map[string]string{"userPrincipalName": p.cfg.UPN}
	if o.AppID != "" {
		begin["applicationId"] = o.AppID
	}
	session := p.store.SessionToken
	if o.Fresh {
		session = ""
	}
	var out Outcome
	if err := p.callWithCookie(ctx, "sign-in begin", "/signin/begin", "", session, begin, http.StatusOK, &out); err != nil {
		return nil, err
	}
	res, err := p.firstFactor(ctx, &out, o)
	if err != nil {
		return nil, err
	}
	// "Sign in another way": after a password, the push when the server
	// offers it at all (it may prefer the passkey).
	if o.Password != "" && res.Status == "stepUpRequired" && offers(res, "microsoftAuthenticatorPush") && p.store.DeviceToken != "" {
		if res, err = p.push(ctx, res.FlowToken); err != nil {
			return nil, err
		}
	}
	if res.Status == "completed" && res.SessionToken != "" {
		p.store.SessionToken = res.SessionToken
		if err := p.save(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// offers says whether a step-up prompt accepts the method, first or as an
// alternative.
func offers(o *Outcome, method string) bool {
	return o.Prompt != nil && (o.Prompt.Method == method || slices.Contains(o.Prompt.Alternatives, method))
}

// firstFactor proves the password or the passkey, unless begin already
// completed (previously satisfied).
func (p *Phone) firstFactor(ctx context.Context, begun *Outcome, o SignInOptions) (*Outcome, error) {
	if begun.Status == "completed" {
		return begun, nil
	}
	var done Outcome
	if o.Password != "" {
		err := p.call(ctx, "password", "/signin/password", "", map[string]string{"flowToken": begun.FlowToken, "password": o.Password}, http.StatusOK, &done)
		return &done, err
	}
	var opts json.RawMessage
	if err := p.call(ctx, "passkey begin", "/signin/passkey/begin", "", map[string]string{"flowToken": begun.FlowToken}, http.StatusOK, &opts); err != nil {
		return nil, err
	}
	cred, err := p.auth.Get(opts, p.cfg.Origin)
	if err != nil {
		return nil, fmt.Errorf("authenticator: %w", err)
	}
	// The counter moved: save before the server answers, as a real
	// authenticator's counter does not roll back when a sign-in fails.
	if err := p.save(); err != nil {
		return nil, err
	}
	err = p.call(ctx, "passkey finish", "/signin/passkey/finish", "",
		map[string]any{"flowToken": begun.FlowToken, "credential": json.RawMessage(cred)}, http.StatusOK, &done)
	return &done, err
}

// push sends a push, answers it from this phone with the number the
// sign-in screen shows, and completes the step.
func (p *Phone) push(ctx context.Context, flowToken string) (*Outcome, error) {
	var ch struct {
		PushRequestID string `json:"pushRequestId"`
		NumberMatch   int    `json:"numberMatch"`
	}
	if err := p.call(ctx, "push begin", "/signin/push/begin", "", map[string]string{"flowToken": flowToken}, http.StatusOK, &ch); err != nil {
		return nil, err
	}
	body := map[string]any{"deviceToken": p.store.DeviceToken, "pushRequestId": ch.PushRequestID, "numberMatch": ch.NumberMatch}
	if err := p.call(ctx, "push answer", "/authenticator/push/respond", "", body, http.StatusNoContent, nil); err != nil {
		return nil, err
	}
	var done Outcome
	err := p.call(ctx, "push complete", "/signin/push/complete", "", map[string]string{"flowToken": flowToken, "pushRequestId": ch.PushRequestID}, http.StatusOK, &done)
	return &done, err
}

// PendingPush is a push awaiting this phone.
type PendingPush struct {
	PushRequestID   string `json:"pushRequestId"`
	ApplicationName string `json:"applicationName"`
	ExpiresDateTime string `json:"expiresDateTime"`
}

// ApprovePush answers the pending push requestID (default: the newest) with
// the number shown on the sign-in screen, or denies it.
func (p *Phone) ApprovePush(ctx context.Context, number int, requestID string, deny bool) (*PendingPush, error) {
	if p.store.DeviceToken == "" {
		return nil, fmt.Errorf("phone approve-push: %s has no Authenticator push method: register with -push first", p.cfg.StorePath)
	}
	if number == 0 && !deny {
		return nil, errors.New("phone approve-push: -number N is required: the number the sign-in screen shows (/signin/push/begin's numberMatch)")
	}
	var list struct {
		Value []PendingPush `json:"value"`
	}
	if err := p.call(ctx, "pending pushes", "/authenticator/push/pending", "", map[string]string{"deviceToken": p.store.DeviceToken}, http.StatusOK, &list); err != nil {
		return nil, err
	}
	var pick *PendingPush
	for i := range list.Value {
		if requestID == "" || strings.EqualFold(list.Value[i].PushRequestID, requestID) {
			pick = &list.Value[i] // oldest first: the last match is the newest
		}
	}
	if pick == nil {
		return nil, errors.New("phone approve-push: no push is waiting for this phone (start one with /signin/push/begin)")
	}
	approve := !deny
	body := map[string]any{"deviceToken": p.store.DeviceToken, "pushRequestId": pick.PushRequestID, "numberMatch": number, "approve": approve}
	if err := p.call(ctx, "push answer", "/authenticator/push/respond", "", body, http.StatusNoContent, nil); err != nil {
		return pick, err
	}
	return pick, nil
}
