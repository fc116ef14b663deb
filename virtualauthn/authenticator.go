package virtualauthn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Format selects the attestation statement an authenticator produces.
type Format string

const (
	FormatNone       Format = "none"
	FormatPackedSelf Format = "packed-self" // fmt "packed" without x5c, signed by the credential key
	FormatPacked     Format = "packed"      // fmt "packed" with x5c from the TestCA
	FormatApple      Format = "apple"
	FormatAndroidKey Format = "android-key"
)

// CounterMode selects how the signature counter behaves.
type CounterMode int

const (
	// CounterIncrement: per-credential counter, 1 at registration, +1 per assertion (security keys).
	CounterIncrement CounterMode = iota
	// CounterZero: always 0, as synced passkeys and most platform authenticators report.
	CounterZero
)

// Config describes one authenticator model. Presets return a Config so a test
// can start from a realistic model and change one knob.
type Config struct {
	Name   string    // human label, also used as attestation cert CN
	AAGUID uuid.UUID // reported in attested credential data
	Format Format
	CA     *TestCA // issuer for packed/apple/android-key; required for those formats

	// Subject of packed attestation certs (C and O); OU is always the §8.2.1 literal.
	CertCountry, CertOrganization string

	UserVerification bool // sets UV; "required" requests fail when false
	BackupEligible   bool // BE flag
	BackupState      bool // BS flag
	Counter          CounterMode
	ResidentKey      bool // store the user handle and return it in assertions
	Transports       []string
	Attachment       string // "platform" or "cross-platform"

	// HonorNoneConveyance makes the authenticator behave like a browser when
	// the RP asks for attestation "none": the statement is replaced by fmt
	// "none" (the AAGUID is kept, as current Chromium and Safari do). When
	// false the configured statement is always sent, which is convenient for
	// attestation tests against servers that do not ask for "direct".
	HonorNoneConveyance bool

	// AndroidKey controls where origin/purpose go in the key description.
	AndroidKey AndroidAuthorizations

	// Algorithms are the COSE algorithms this authenticator can make keys
	// for (AlgES256, AlgEdDSA, AlgRS256); empty means ES256 only. Which one
	// a credential gets is the relying party's choice: the first entry of
	// pubKeyCredParams that is supported. apple and android-key statements
	// need ES256 (their certificates certify the credential key).
	Algorithms []int
}

// Tamper breaks one property of a ceremony for negative tests. The zero value
// produces a valid ceremony.
type Tamper struct {
	CorruptSignature      bool      // flip a bit of the attestation (create) or assertion (get) signature
	WrongAppleNonce       bool      // apple: nonce extension over other data
	WrongAndroidChallenge bool      // android-key: attestationChallenge != clientDataHash
	UntrustedCA           *TestCA   // issue the attestation leaf from this CA instead of Config.CA
	ExpiredCert           bool      // leaf validity ended yesterday
	CertAAGUID            uuid.UUID // packed: AAGUID extension carries this value instead of Config.AAGUID (when non-nil)
	Origin                string    // clientDataJSON.origin override
	RPID                  string    // rpIdHash computed over this instead of the requested rp.id
	SignCount             *uint32   // force this signCount (and do not advance the counter)
	BSWithoutBE           bool      // BE=0, BS=1 (invalid per §6.1)
	NoUserPresence        bool      // clear UP
	NoUserVerification    bool      // clear UV
	Challenge             []byte    // sign this challenge instead of the requested one
	CounterRollback       bool      // get: sign the last counter minus one and do not advance (a cloned key's tell)
	FlipBE                bool      // invert the BE (backup eligible) flag
	FlipBS                bool      // invert the BS (backed up) flag
}

// Errors returned for ceremonies a real authenticator/browser would refuse.
var (
	ErrNoCredential   = errors.New("virtualauthn: no matching credential (NotAllowedError)")
	ErrExcluded       = errors.New("virtualauthn: authenticator holds an excluded credential (InvalidStateError)")
	ErrUVUnavailable  = errors.New("virtualauthn: user verification required but not supported (NotAllowedError)")
	ErrAlgUnsupported = errors.New("virtualauthn: no supported algorithm in pubKeyCredParams (NotSupportedError)")
)

type credential struct {
	id         []byte
	key        crypto.Signer
	alg        int
	rpID       string
	userHandle []byte
	resident   bool
	created    time.Time
	counter    atomic.Uint32
}

// Authenticator is a virtual authenticator holding ES256, EdDSA or RS256
// credentials.
type Authenticator struct {
	cfg Config

	mu    sync.RWMutex
	creds map[string]*credential // by string(credential ID)
	order []*credential          // creation order, newest last, for discoverable selection

	batchOnce sync.Once
	batchKey  *ecdsa.PrivateKey
	batchX5C  [][]byte
	batchErr  error
}

// New returns an authenticator for cfg.
func New(cfg Config) (*Authenticator, error) {
	switch cfg.Format {
	case FormatNone, FormatPackedSelf:
	case FormatPacked, FormatApple, FormatAndroidKey:
		if cfg.CA == nil {
			return nil, fmt.Errorf("virtualauthn: format %s needs Config.CA", cfg.Format)
		}
	case "":
		cfg.Format = FormatNone
	default:
		return nil, fmt.Errorf("virtualauthn: unknown format %q", cfg.Format)
	}
	return &Authenticator{cfg: cfg, creds: make(map[string]*credential)}, nil
}

// Config returns the authenticator's configuration.
func (a *Authenticator) Config() Config { return a.cfg }

// Clone returns an independent authenticator with copies of all credentials
// and their current counters: the classic cloned-key scenario. Whichever copy
// signs second presents a counter that does not advance.
func (a *Authenticator) Clone() *Authenticator {
	a.mu.RLock()
	defer a.mu.RUnlock()
	b := &Authenticator{cfg: a.cfg, creds: make(map[string]*credential, len(a.creds))}
	for _, c := range a.order {
		nc := &credential{id: c.id, key: c.key, rpID: c.rpID, userHandle: c.userHandle, resident: c.resident, created: c.created}
		nc.counter.Store(c.counter.Load())
		b.creds[string(nc.id)] = nc
		b.order = append(b.order, nc)
	}
	return b
}

// CredentialCount returns the number of stored credentials.
func (a *Authenticator) CredentialCount() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.creds)
}

// --- JSON shapes -----------------------------------------------------------

type credDescriptor struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
}

type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	} `json:"pubKeyCredParams"`
	ExcludeCredentials     []credDescriptor `json:"excludeCredentials"`
	AuthenticatorSelection struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment"`
		ResidentKey             string `json:"residentKey"`
		RequireResidentKey      bool   `json:"requireResidentKey"`
		UserVerification        string `json:"userVerification"`
	} `json:"authenticatorSelection"`
	Attestation string                     `json:"attestation"`
	Extensions  map[string]json.RawMessage `json:"extensions"`
}

type requestOptions struct {
	Challenge        string                     `json:"challenge"`
	RPID             string                     `json:"rpId"`
	AllowCredentials []credDescriptor           `json:"allowCredentials"`
	UserVerification string                     `json:"userVerification"`
	Extensions       map[string]json.RawMessage `json:"extensions"`
}

// unwrapPublicKey accepts both {"publicKey":{...}} and the bare options.
func unwrapPublicKey(raw []byte, into any) error {
	var env struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("virtualauthn: options JSON: %w", err)
	}
	if len(env.PublicKey) > 0 && string(env.PublicKey) != "null" {
		raw = env.PublicKey
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("virtualauthn: options JSON: %w", err)
	}
	return nil
}

var b64 = base64.RawURLEncoding

// decodeB64 tolerates padding and standard alphabet because servers differ.
func decodeB64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("virtualauthn: invalid base64 %q", s)
}

type clientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

func makeClientData(typ string, challenge []byte, origin string) ([]byte, [32]byte) {
	cd, _ := json.Marshal(clientData{Type: typ, Challenge: b64.EncodeToString(challenge), Origin: origin})
	return cd, sha256.Sum256(cd)
}

func rpIDFromOrigin(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Flag bits of authenticator data (§6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func (a *Authenticator) flags(t *Tamper) byte {
	var f byte = flagUP
	if a.cfg.UserVerification {
		f |= flagUV
	}
	if a.cfg.BackupEligible {
		f |= flagBE
	}
	if a.cfg.BackupState {
		f |= flagBS
	}
	if t.BSWithoutBE {
		f = f&^flagBE | flagBS
	}
	if t.FlipBE {
		f ^= flagBE
	}
	if t.FlipBS {
		f ^= flagBS
	}
	if t.NoUserPresence {
		f &^= flagUP
	}
	if t.NoUserVerification {
		f &^= flagUV
	}
	return f
}

// --- Registration ----------------------------------------------------------

// Create performs navigator.credentials.create with the server's creation
// options JSON and returns the PublicKeyCredential JSON a browser would POST.
func (a *Authenticator) Create(optionsJSON []byte, origin string) ([]byte, error) {
	return a.CreateTampered(optionsJSON, origin, Tamper{})
}

// CreateTampered is Create with one or more properties deliberately broken.
func (a *Authenticator) CreateTampered(optionsJSON []byte, origin string, t Tamper) ([]byte, error) {
	var o creationOptions
	if err := unwrapPublicKey(optionsJSON, &o); err != nil {
		return nil, err
	}
	challenge, rpID, err := ceremonyTarget(o.Challenge, o.RP.ID, origin, &t)
	if err != nil {
		return nil, err
	}
	userID, err := decodeB64(o.User.ID)
	if err != nil || len(userID) == 0 {
		return nil, errors.New("virtualauthn: missing or invalid user.id")
	}
	var offered []int
	for _, p := range o.PubKeyCredParams {
		if p.Type == "" || p.Type == "public-key" {
			offered = append(offered, p.Alg)
		}
	}
	if len(o.PubKeyCredParams) > 0 && len(offered) == 0 {
		return nil, ErrAlgUnsupported
	}
	alg, ok := chooseAlg(offered, a.cfg.Algorithms)
	if !ok {
		return nil, ErrAlgUnsupported
	}
	if alg != AlgES256 && (a.cfg.Format == FormatApple || a.cfg.Format == FormatAndroidKey) {
		return nil, fmt.Errorf("virtualauthn: %s attestation is implemented for ES256 credentials only", a.cfg.Format)
	}
	if o.AuthenticatorSelection.UserVerification == "required" && !a.cfg.UserVerification {
		return nil, ErrUVUnavailable
	}
	if err := a.checkExcluded(rpID, o.ExcludeCredentials); err != nil {
		return nil, err
	}

	key, err := newCredentialKey(alg)
	if err != nil {
		return nil, err
	}
	credID := make([]byte, 32)
	if _, err := rand.Read(credID); err != nil {
		return nil, err
	}
	coseKey, err := EncodeCOSEKey(key.Public())
	if err != nil {
		return nil, err
	}

	var count uint32
	if a.cfg.Counter == CounterIncrement {
		count = 1
	}
	if t.SignCount != nil {
		count = *t.SignCount
	}
	hashRP := rpID
	if t.RPID != "" {
		hashRP = t.RPID
	}
	rpHash := sha256.Sum256([]byte(hashRP))
	authData := make([]byte, 0, 37+16+2+len(credID)+len(coseKey))
	authData = append(authData, rpHash[:]...)
	authData = append(authData, a.flags(&t)|flagAT)
	authData = binary.BigEndian.AppendUint32(authData, count)
	authData = append(authData, a.cfg.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(credID)))
	authData = append(authData, credID...)
	authData = append(authData, coseKey...)

	if origin == "" {
		origin = "https://" + rpID
	}
	if t.Origin != "" {
		origin = t.Origin
	}
	cdJSON, cdHash := makeClientData("webauthn.create", challenge, origin)

	format := a.cfg.Format
	if a.cfg.HonorNoneConveyance && (o.Attestation == "" || o.Attestation == "none") {
		format = FormatNone
	}
	fmtName, stmt, err := a.statement(format, key, authData, cdHash[:], &t)
	if err != nil {
		return nil, err
	}
	attObj, err := EncodeAttestationObject(fmtName, stmt, authData)
	if err != nil {
		return nil, err
	}

	resident := a.cfg.ResidentKey || o.AuthenticatorSelection.RequireResidentKey ||
		(o.AuthenticatorSelection.ResidentKey == "required") ||
		(o.AuthenticatorSelection.ResidentKey == "preferred" && a.cfg.Attachment == "platform")
	c := &credential{id: credID, key: key, alg: alg, rpID: rpID, userHandle: userID, resident: resident, created: time.Now()}
	c.counter.Store(count)
	a.mu.Lock()
	a.creds[string(credID)] = c
	a.order = append(a.order, c)
	a.mu.Unlock()

	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	ext := map[string]any{}
	if _, ok := o.Extensions["credProps"]; ok {
		ext["credProps"] = map[string]bool{"rk": resident}
	}
	transports := a.cfg.Transports
	if transports == nil {
		transports = []string{}
	}
	resp := map[string]any{
		"id":    b64.EncodeToString(credID),
		"rawId": b64.EncodeToString(credID),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":     b64.EncodeToString(cdJSON),
			"attestationObject":  b64.EncodeToString(attObj),
			"authenticatorData":  b64.EncodeToString(authData),
			"publicKey":          b64.EncodeToString(spki),
			"publicKeyAlgorithm": alg,
			"transports":         transports,
		},
		"clientExtensionResults": ext,
	}
	if a.cfg.Attachment != "" {
		resp["authenticatorAttachment"] = a.cfg.Attachment
	}
	return json.Marshal(resp)
}

func (a *Authenticator) checkExcluded(rpID string, list []credDescriptor) error {
	if len(list) == 0 {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, d := range list {
		id, err := decodeB64(d.ID)
		if err != nil {
			continue
		}
		if c, ok := a.creds[string(id)]; ok && c.rpID == rpID {
			return ErrExcluded
		}
	}
	return nil
}

func signES256(key *ecdsa.PrivateKey, parts ...[]byte) ([]byte, error) {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return ecdsa.SignASN1(rand.Reader, key, h.Sum(nil))
}

func corrupt(sig []byte) []byte {
	out := slices.Clone(sig)
	out[len(out)-1] ^= 0x01
	return out
}

func (a *Authenticator) issuer(t *Tamper) *TestCA {
	if t.UntrustedCA != nil {
		return t.UntrustedCA
	}
	return a.cfg.CA
}

func (t *Tamper) validity() (time.Time, time.Time) {
	if t.ExpiredCert {
		return time.Now().AddDate(-2, 0, 0), time.Now().AddDate(0, 0, -1)
	}
	return time.Time{}, time.Time{}
}

// statement builds fmt and attStmt for the credential just created.
func (a *Authenticator) statement(format Format, credKey crypto.Signer, authData, cdHash []byte, t *Tamper) (string, map[string]any, error) {
	switch format {
	case FormatNone:
		return "none", map[string]any{}, nil
	case FormatPackedSelf:
		alg, err := algOf(credKey)
		if err != nil {
			return "", nil, err
		}
		sig, err := sign(credKey, authData, cdHash)
		if err != nil {
			return "", nil, err
		}
		if t.CorruptSignature {
			sig = corrupt(sig)
		}
		return "packed", map[string]any{"alg": alg, "sig": sig}, nil
	case FormatPacked:
		attKey, x5c, err := a.packedSigner(t)
		if err != nil {
			return "", nil, err
		}
		sig, err := signES256(attKey, authData, cdHash)
		if err != nil {
			return "", nil, err
		}
		if t.CorruptSignature {
			sig = corrupt(sig)
		}
		return "packed", map[string]any{"alg": AlgES256, "sig": sig, "x5c": x5c}, nil
	case FormatApple:
		nonce := sha256.Sum256(slices.Concat(authData, cdHash))
		if t.WrongAppleNonce {
			nonce = sha256.Sum256([]byte("not the attested data"))
		}
		nb, na := t.validity()
		x5c, err := a.issuer(t).Issue(LeafSpec{Format: FormatApple, PublicKey: credKey.Public().(*ecdsa.PublicKey), Nonce: nonce[:], NotBefore: nb, NotAfter: na})
		if err != nil {
			return "", nil, err
		}
		// Apple anonymous attestation carries no signature: the nonce in the
		// CA-signed leaf binds the certificate to this ceremony. A "corrupt
		// signature" therefore corrupts the leaf's own signature.
		if t.CorruptSignature {
			x5c[0] = corrupt(x5c[0])
		}
		return "apple", map[string]any{"x5c": x5c}, nil
	case FormatAndroidKey:
		challenge := cdHash
		if t.WrongAndroidChallenge {
			wrong := sha256.Sum256([]byte("not the client data"))
			challenge = wrong[:]
		}
		nb, na := t.validity()
		x5c, err := a.issuer(t).Issue(LeafSpec{Format: FormatAndroidKey, PublicKey: credKey.Public().(*ecdsa.PublicKey), Challenge: challenge, Android: a.cfg.AndroidKey, NotBefore: nb, NotAfter: na})
		if err != nil {
			return "", nil, err
		}
		sig, err := sign(credKey, authData, cdHash)
		if err != nil {
			return "", nil, err
		}
		if t.CorruptSignature {
			sig = corrupt(sig)
		}
		return "android-key", map[string]any{"alg": AlgES256, "sig": sig, "x5c": x5c}, nil
	}
	return "", nil, fmt.Errorf("virtualauthn: unknown format %q", format)
}

// packedSigner returns the batch attestation key and x5c. Real security keys
// share one attestation key across a batch of >=100k devices, so one cached
// key per Authenticator is both realistic and fast; tampering that changes
// the certificate gets a fresh one.
func (a *Authenticator) packedSigner(t *Tamper) (*ecdsa.PrivateKey, [][]byte, error) {
	if t.UntrustedCA == nil && !t.ExpiredCert && t.CertAAGUID == uuid.Nil {
		a.batchOnce.Do(func() {
			a.batchKey, a.batchX5C, a.batchErr = a.newPackedCert(a.cfg.CA, a.cfg.AAGUID, t)
		})
		return a.batchKey, a.batchX5C, a.batchErr
	}
	aaguid := a.cfg.AAGUID
	if t.CertAAGUID != uuid.Nil {
		aaguid = t.CertAAGUID
	}
	k, x5c, err := a.newPackedCert(a.issuer(t), aaguid, t)
	return k, x5c, err
}

func (a *Authenticator) newPackedCert(ca *TestCA, aaguid uuid.UUID, t *Tamper) (*ecdsa.PrivateKey, [][]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	nb, na := t.validity()
	country, org := a.cfg.CertCountry, a.cfg.CertOrganization
	subj := pkix.Name{CommonName: a.cfg.Name}
	if country != "" {
		subj.Country = []string{country}
	}
	if org != "" {
		subj.Organization = []string{org}
	}
	x5c, err := ca.Issue(LeafSpec{Format: FormatPacked, PublicKey: &k.PublicKey, AAGUID: aaguid, Subject: subj, NotBefore: nb, NotAfter: na})
	return k, x5c, err
}

// --- Authentication --------------------------------------------------------

// Get performs navigator.credentials.get with the server's request options
// JSON. With an empty allowCredentials it behaves as a discoverable-credential
// (passkey) login and picks the newest resident credential for the RP ID.
func (a *Authenticator) Get(optionsJSON []byte, origin string) ([]byte, error) {
	return a.GetTampered(optionsJSON, origin, Tamper{})
}

// GetTampered is Get with one or more properties deliberately broken.
func (a *Authenticator) GetTampered(optionsJSON []byte, origin string, t Tamper) ([]byte, error) {
	var o requestOptions
	if err := unwrapPublicKey(optionsJSON, &o); err != nil {
		return nil, err
	}
	challenge, rpID, err := ceremonyTarget(o.Challenge, o.RPID, origin, &t)
	if err != nil {
		return nil, err
	}
	if o.UserVerification == "required" && !a.cfg.UserVerification {
		return nil, ErrUVUnavailable
	}
	c, err := a.find(rpID, o.AllowCredentials)
	if err != nil {
		return nil, err
	}

	var count uint32
	switch {
	case t.SignCount != nil:
		count = *t.SignCount
	case t.CounterRollback:
		if last := c.counter.Load(); last > 0 {
			count = last - 1
		}
	case a.cfg.Counter == CounterIncrement:
		count = c.counter.Add(1)
	}
	hashRP := rpID
	if t.RPID != "" {
		hashRP = t.RPID
	}
	rpHash := sha256.Sum256([]byte(hashRP))
	authData := make([]byte, 0, 37)
	authData = append(authData, rpHash[:]...)
	authData = append(authData, a.flags(&t))
	authData = binary.BigEndian.AppendUint32(authData, count)

	if origin == "" {
		origin = "https://" + rpID
	}
	if t.Origin != "" {
		origin = t.Origin
	}
	cdJSON, cdHash := makeClientData("webauthn.get", challenge, origin)
	sig, err := sign(c.key, authData, cdHash[:])
	if err != nil {
		return nil, err
	}
	if t.CorruptSignature {
		sig = corrupt(sig)
	}
	response := map[string]any{
		"clientDataJSON":    b64.EncodeToString(cdJSON),
		"authenticatorData": b64.EncodeToString(authData),
		"signature":         b64.EncodeToString(sig),
	}
	if c.resident {
		response["userHandle"] = b64.EncodeToString(c.userHandle)
	}
	resp := map[string]any{
		"id":                     b64.EncodeToString(c.id),
		"rawId":                  b64.EncodeToString(c.id),
		"type":                   "public-key",
		"response":               response,
		"clientExtensionResults": map[string]any{},
	}
	if a.cfg.Attachment != "" {
		resp["authenticatorAttachment"] = a.cfg.Attachment
	}
	return json.Marshal(resp)
}

func (a *Authenticator) find(rpID string, allow []credDescriptor) (*credential, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if len(allow) == 0 {
		for i := len(a.order) - 1; i >= 0; i-- {
			if c := a.order[i]; c.resident && c.rpID == rpID {
				return c, nil
			}
		}
		return nil, ErrNoCredential
	}
	for _, d := range allow {
		id, err := decodeB64(d.ID)
		if err != nil {
			continue
		}
		if c, ok := a.creds[string(id)]; ok && c.rpID == rpID {
			return c, nil
		}
	}
	return nil, ErrNoCredential
}

// ceremonyTarget decodes the challenge to sign (or the tampered one) and
// resolves the RP ID the way a browser does: the options' value, else the
// origin's host.
func ceremonyTarget(challengeB64, rpID, origin string, t *Tamper) ([]byte, string, error) {
	challenge, err := decodeB64(challengeB64)
	if err != nil || len(challenge) == 0 {
		return nil, "", errors.New("virtualauthn: missing or invalid challenge")
	}
	if t.Challenge != nil {
		challenge = t.Challenge
	}
	if rpID == "" {
		rpID = rpIDFromOrigin(origin)
	}
	return challenge, rpID, nil
}
