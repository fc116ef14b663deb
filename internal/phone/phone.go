// Package phone is a named user's emulated phone: a virtual authenticator
// (Microsoft Authenticator, a security key, a synced passkey provider) that
// keeps its passkeys, counters and push device token in a file between runs,
// and talks to rpserver over HTTP the way the real app and browser do:
//
//   - Register redeems a Temporary Access Pass for a session, registers a
//     passkey (attested by the lab CA) and, for the Authenticator presets,
//     the push method;
//   - SignIn runs the sign-in flow with the passkey (/signin/begin, then
//     /signin/passkey/begin and /finish), so Conditional Access applies;
//   - ApprovePush answers a pending push with the number on the screen.
//
// It is what `rpserver phone` runs: an admin rehearsing a rollout needs no
// browser and no code of their own for "the user registers a passkey".
package phone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/virtualauthn"
)

// Config opens a phone.
type Config struct {
	Target    string // server base URL
	Origin    string // origin the browser half claims; default the target's
	StorePath string
	UPN       string // required unless the store names one
	Preset    string // loadgen preset name; default the store's, else ms-ios
	CA        *virtualauthn.TestCA
	HTTP      *http.Client // default: 30 s timeout, no redirects
}

// Phone is one user's phone; not safe for concurrent use.
type Phone struct {
	cfg   Config
	store *Store
	auth  *virtualauthn.Authenticator
	http  *http.Client
}

// Open loads (or starts) the store and the authenticator it describes.
func Open(cfg Config) (*Phone, error) {
	if cfg.StorePath == "" {
		return nil, errors.New("phone: -store FILE is required: the phone keeps its passkeys there between calls")
	}
	if cfg.Target == "" {
		return nil, errors.New("phone: no target server URL")
	}
	cfg.Target = strings.TrimRight(cfg.Target, "/")
	if cfg.Origin == "" {
		cfg.Origin = cfg.Target
	}
	st, existed, err := LoadStore(cfg.StorePath)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.UPN == "" && st.UserPrincipalName == "":
		return nil, errors.New("phone: -upn is required (whose phone this is)")
	case cfg.UPN == "":
		cfg.UPN = st.UserPrincipalName
	case existed && st.UserPrincipalName != "" && !strings.EqualFold(cfg.UPN, st.UserPrincipalName):
		return nil, fmt.Errorf("phone: %s is the phone of %s, not %s: use another -store file", cfg.StorePath, st.UserPrincipalName, cfg.UPN)
	}
	switch {
	case cfg.Preset == "" && st.Preset == "":
		cfg.Preset = "ms-ios"
	case cfg.Preset == "":
		cfg.Preset = st.Preset
	case st.Preset != "" && cfg.Preset != st.Preset:
		return nil, fmt.Errorf("phone: %s holds a %s authenticator, not %s", cfg.StorePath, st.Preset, cfg.Preset)
	}
	preset, ok := loadgen.Presets[cfg.Preset]
	if !ok {
		return nil, fmt.Errorf("phone: unknown preset %q: want one of %s", cfg.Preset, strings.Join(loadgen.PresetNames(), ", "))
	}
	auth, err := virtualauthn.New(preset(cfg.CA))
	if err != nil {
		return nil, fmt.Errorf("phone: %w", err)
	}
	if err := auth.Import(st.Credentials...); err != nil {
		return nil, fmt.Errorf("phone store %s: %w", cfg.StorePath, err)
	}
	st.UserPrincipalName, st.Preset = cfg.UPN, cfg.Preset
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Phone{cfg: cfg, store: st, auth: auth, http: hc}, nil
}

// UPN is whose phone this is.
func (p *Phone) UPN() string { return p.cfg.UPN }

// Preset is the authenticator model's preset name.
func (p *Phone) Preset() string { return p.cfg.Preset }

// save writes the authenticator's current credentials and the device token.
func (p *Phone) save() error {
	creds, err := p.auth.Export()
	if err != nil {
		return err
	}
	p.store.Credentials = creds
	return p.store.Save(p.cfg.StorePath)
}

// sessionCookie is the server's session cookie (internal/api.SessionCookie).
const sessionCookie = "rpserver_session"

// Error is a refusal by the server, with its stable code.
type Error struct {
	Step    string // which call: "TAP sign-in", "registration finish", ...
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Step, e.Status, e.Code, e.Message)
}

// call POSTs in (JSON) and decodes the answer into out when the status is want.
func (p *Phone) call(ctx context.Context, step, path, bearer string, in any, want int, out any) error {
	return p.callWithCookie(ctx, step, path, bearer, "", in, want, out)
}

// callWithCookie is call with the browser's session cookie.
func (p *Phone) callWithCookie(ctx context.Context, step, path, bearer, session string, in any, want int, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.Target+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	res, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	if res.StatusCode != want {
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &env)
		if env.Error.Code == "" {
			env.Error.Code, env.Error.Message = fmt.Sprintf("http_%d", res.StatusCode), strings.TrimSpace(string(raw))
		}
		return &Error{Step: step, Status: res.StatusCode, Code: env.Error.Code, Message: env.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: the answer is not the expected JSON: %w", step, err)
	}
	return nil
}
