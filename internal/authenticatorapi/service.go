package authenticatorapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/virtualauthn"
)

// Limits of one service.
const (
	MaxAuthenticators = 10000
	MaxCredentials    = 1000 // per authenticator
	MaxBodyBytes      = 256 << 10
)

var b64 = base64.RawURLEncoding

// Service holds the authenticators.
type Service struct {
	ca  *virtualauthn.TestCA
	now func() time.Time

	mu    sync.RWMutex
	auths map[string]*entry
	order []string
}

type entry struct {
	Info Info
	auth *virtualauthn.Authenticator
}

// Info describes an authenticator.
type Info struct {
	ID          string    `json:"id"`
	Preset      string    `json:"preset"`
	Name        string    `json:"name"`
	AAGUID      string    `json:"aaguid"`
	Format      string    `json:"attestationFormat"`
	Attachment  string    `json:"authenticatorAttachment,omitempty"`
	Transports  []string  `json:"transports"`
	Created     time.Time `json:"createdDateTime"`
	Credentials int       `json:"credentialCount"`
}

// Credential is a held credential, without its key.
type Credential struct {
	ID         string    `json:"id"` // base64url, as the RP sees it
	RPID       string    `json:"rpId"`
	UserHandle string    `json:"userHandle,omitempty"`
	Resident   bool      `json:"residentKey"`
	SignCount  uint32    `json:"signCount"`
	Created    time.Time `json:"createdDateTime"`
}

// New returns a service whose attested presets are signed by ca (the lab
// CA, so an RP that trusts it accepts their attestation).
func New(ca *virtualauthn.TestCA) *Service {
	return &Service{ca: ca, now: time.Now, auths: map[string]*entry{}}
}

// CA is the attestation CA (its root is served at /ca.pem).
func (s *Service) CA() *virtualauthn.TestCA { return s.ca }

// Error is a refusal with a stable code and the HTTP status it maps to.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func fail(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Create adds an authenticator of preset.
func (s *Service) Create(preset, name string) (Info, error) {
	mk, ok := virtualauthn.Presets[preset]
	if !ok {
		return Info{}, fail(400, "unknownPreset", "preset %q: want one of %s", preset, strings.Join(virtualauthn.PresetNames(), ", "))
	}
	cfg := mk(s.ca)
	if name != "" {
		if len(name) > 200 {
			return Info{}, fail(400, "invalidName", "name: at most 200 characters")
		}
		cfg.Name = name
	}
	a, err := virtualauthn.New(cfg)
	if err != nil {
		return Info{}, fmt.Errorf("authenticator %s: %w", preset, err)
	}
	info := Info{ID: uuid.NewString(), Preset: preset, Name: cfg.Name, AAGUID: cfg.AAGUID.String(), Format: string(cfg.Format),
		Attachment: cfg.Attachment, Transports: cfg.Transports, Created: s.now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.auths) >= MaxAuthenticators {
		return Info{}, fail(409, "tooManyAuthenticators", "at most %d authenticators; delete some", MaxAuthenticators)
	}
	s.auths[info.ID] = &entry{Info: info, auth: a}
	s.order = append(s.order, info.ID)
	return info, nil
}

func (s *Service) get(id string) (*entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.auths[id]
	if !ok {
		return nil, fail(404, "authenticatorNotFound", "no authenticator %q", id)
	}
	return e, nil
}

func (e *entry) info() Info {
	i := e.Info
	i.Credentials = e.auth.CredentialCount()
	return i
}

// Get describes one authenticator.
func (s *Service) Get(id string) (Info, error) {
	e, err := s.get(id)
	if err != nil {
		return Info{}, err
	}
	return e.info(), nil
}

// List describes every authenticator, oldest first.
func (s *Service) List() []Info {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Info, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.auths[id].info())
	}
	return out
}

// Delete removes an authenticator and its credentials.
func (s *Service) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.auths[id]; !ok {
		return fail(404, "authenticatorNotFound", "no authenticator %q", id)
	}
	delete(s.auths, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
	return nil
}

// Credentials lists an authenticator's credentials.
func (s *Service) Credentials(id string) ([]Credential, error) {
	e, err := s.get(id)
	if err != nil {
		return nil, err
	}
	var out []Credential
	for _, c := range e.auth.Credentials() {
		cr := Credential{ID: b64.EncodeToString(c.ID), RPID: c.RPID, Resident: c.Resident, SignCount: c.SignCount, Created: c.Created.UTC()}
		if c.UserHandle != nil {
			cr.UserHandle = b64.EncodeToString(c.UserHandle)
		}
		out = append(out, cr)
	}
	return out, nil
}

// DeleteCredential removes one credential (base64url id).
func (s *Service) DeleteCredential(id, credentialID string) error {
	e, err := s.get(id)
	if err != nil {
		return err
	}
	raw, err := b64.DecodeString(strings.TrimRight(credentialID, "="))
	if err != nil || len(raw) == 0 {
		return fail(400, "invalidCredentialId", "credential id must be base64url")
	}
	if !e.auth.DeleteCredential(raw) {
		return fail(404, "credentialNotFound", "authenticator %s holds no credential %s", id, credentialID)
	}
	return nil
}

// Tamper is the JSON form of virtualauthn.Tamper: what a negative test may
// break in one ceremony.
type Tamper struct {
	BadSignature       bool    `json:"badSignature"`       // flip a bit of the (attestation or assertion) signature
	CounterRollback    bool    `json:"counterRollback"`    // get: the last counter minus one
	SignCount          *uint32 `json:"signCount"`          // get: exactly this counter
	FlipBE             bool    `json:"flipBackupEligible"` // invert BE
	FlipBS             bool    `json:"flipBackupState"`    // invert BS
	Origin             string  `json:"origin"`             // clientDataJSON.origin instead of the request's
	RPID               string  `json:"rpId"`               // rpIdHash over this RP ID
	NoUserPresence     bool    `json:"noUserPresence"`
	NoUserVerification bool    `json:"noUserVerification"`
	Challenge          string  `json:"challenge"`          // base64url: sign this challenge instead
	UntrustedCA        bool    `json:"untrustedCA"`        // create: attestation from a CA nobody trusts
	ExpiredCertificate bool    `json:"expiredCertificate"` // create: attestation leaf expired yesterday
}

func (t *Tamper) toVirtual(create bool) (virtualauthn.Tamper, error) {
	if t == nil {
		return virtualauthn.Tamper{}, nil
	}
	v := virtualauthn.Tamper{CorruptSignature: t.BadSignature, FlipBE: t.FlipBE, FlipBS: t.FlipBS, Origin: t.Origin, RPID: t.RPID,
		NoUserPresence: t.NoUserPresence, NoUserVerification: t.NoUserVerification, ExpiredCert: t.ExpiredCertificate}
	if create && (t.CounterRollback || t.SignCount != nil) {
		return v, fail(400, "invalidTamper", "counterRollback and signCount apply to assertions (get), not to create")
	}
	if !create && (t.UntrustedCA || t.ExpiredCertificate) {
		return v, fail(400, "invalidTamper", "untrustedCA and expiredCertificate apply to attestation (create), not to get")
	}
	if t.CounterRollback && t.SignCount != nil {
		return v, fail(400, "invalidTamper", "give counterRollback or signCount, not both")
	}
	v.CounterRollback, v.SignCount = t.CounterRollback, t.SignCount
	if t.Challenge != "" {
		c, err := b64.DecodeString(strings.TrimRight(t.Challenge, "="))
		if err != nil || len(c) == 0 {
			return v, fail(400, "invalidTamper", "tamper.challenge must be base64url")
		}
		v.Challenge = c
	}
	if t.UntrustedCA {
		ca, err := virtualauthn.NewTestCA()
		if err != nil {
			return v, err
		}
		v.UntrustedCA = ca
	}
	return v, nil
}

// CreateCredential runs navigator.credentials.create on authenticator id.
func (s *Service) CreateCredential(id string, options []byte, origin string, t *Tamper) ([]byte, error) {
	e, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	if e.auth.CredentialCount() >= MaxCredentials {
		return nil, fail(409, "tooManyCredentials", "authenticator %s holds %d credentials, the most it may", id, MaxCredentials)
	}
	vt, err := t.toVirtual(true)
	if err != nil {
		return nil, err
	}
	out, err := e.auth.CreateTampered(options, origin, vt)
	return out, ceremonyError(err)
}

// GetAssertion runs navigator.credentials.get on authenticator id.
func (s *Service) GetAssertion(id string, options []byte, origin string, t *Tamper) ([]byte, error) {
	e, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	vt, err := t.toVirtual(false)
	if err != nil {
		return nil, err
	}
	out, err := e.auth.GetTampered(options, origin, vt)
	return out, ceremonyError(err)
}

// checkOrigin wants what a browser puts in clientDataJSON: scheme://host[:port].
func checkOrigin(origin string) error {
	if origin == "" {
		return fail(400, "originRequired", "origin is required: the page's origin, e.g. https://passkeys.lab.example or http://localhost:8080")
	}
	if !strings.HasPrefix(origin, "https://") && !strings.HasPrefix(origin, "http://") || strings.Count(origin, "/") != 2 {
		return fail(400, "invalidOrigin", "origin %q: want scheme://host[:port], no path", origin)
	}
	return nil
}

// ceremonyError maps virtualauthn's refusals to the DOMException a browser
// would raise.
func ceremonyError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, virtualauthn.ErrNoCredential):
		return fail(404, "NotAllowedError", "%v", err)
	case errors.Is(err, virtualauthn.ErrExcluded):
		return fail(409, "InvalidStateError", "%v", err)
	case errors.Is(err, virtualauthn.ErrUVUnavailable):
		return fail(400, "NotAllowedError", "%v", err)
	case errors.Is(err, virtualauthn.ErrAlgUnsupported):
		return fail(400, "NotSupportedError", "%v", err)
	}
	return fail(400, "invalidOptions", "%v", err)
}
