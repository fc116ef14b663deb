package attestation

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// TrustStore holds attestation trust anchors. Anchors are scoped per AAGUID
// because a vendor root typically signs many models: trusting "Yubico's root"
// for any AAGUID would let a cheaper Yubico model claim a certified one's
// AAGUID. Catch-all anchors exist for labs and for AAGUID-less fido-u2f.
type TrustStore struct {
	mu       sync.RWMutex
	byAAGUID map[uuid.UUID][]*x509.Certificate
	any      []*x509.Certificate
	revoked  map[uuid.UUID]string // AAGUID -> MDS status that forbids trust
}

// NewTrustStore returns an empty store (nothing is trusted).
func NewTrustStore() *TrustStore {
	return &TrustStore{byAAGUID: map[uuid.UUID][]*x509.Certificate{}, revoked: map[uuid.UUID]string{}}
}

// AddRoots trusts certs for aaguid; uuid.Nil means "for any AAGUID".
func (s *TrustStore) AddRoots(aaguid uuid.UUID, certs ...*x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if aaguid == uuid.Nil {
		s.any = append(s.any, certs...)
		return
	}
	s.byAAGUID[aaguid] = append(s.byAAGUID[aaguid], certs...)
}

// AddPEM trusts every CERTIFICATE block in pemBytes for aaguid (uuid.Nil:
// any AAGUID).
func (s *TrustStore) AddPEM(aaguid uuid.UUID, pemBytes []byte) error {
	certs, err := parsePEMCerts(pemBytes)
	if err != nil {
		return err
	}
	s.AddRoots(aaguid, certs...)
	return nil
}

func parsePEMCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("attestation: no CERTIFICATE in PEM")
	}
	return out, nil
}

// anchors returns the roots that may terminate a chain for aaguid.
func (s *TrustStore) anchors(aaguid uuid.UUID) []*x509.Certificate {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*x509.Certificate, 0, len(s.any)+len(s.byAAGUID[aaguid]))
	out = append(out, s.any...)
	if aaguid != uuid.Nil {
		out = append(out, s.byAAGUID[aaguid]...)
	}
	return out
}

func (s *TrustStore) revokedStatus(aaguid uuid.UUID) string {
	if s == nil {
		return ""
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.revoked[aaguid]
}

// Summary says what a store trusts, for the server's start log.
type Summary struct {
	AnyAAGUID  []string // subjects of the roots trusted for any AAGUID
	AAGUIDs    int      // AAGUIDs with roots of their own (from files or MDS)
	Roots      int      // roots bound to an AAGUID
	Distrusted int      // AAGUIDs whose MDS status forbids trust
}

// Summary returns what s trusts.
func (s *TrustStore) Summary() Summary {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sum := Summary{AAGUIDs: len(s.byAAGUID), Distrusted: len(s.revoked)}
	for _, c := range s.any {
		sum.AnyAAGUID = append(sum.AnyAAGUID, c.Subject.String())
	}
	for _, roots := range s.byAAGUID {
		sum.Roots += len(roots)
	}
	return sum
}

// TrustConfig is the file-based configuration of a TrustStore.
type TrustConfig struct {
	// Entries are "AAGUID=path.pem" pairs.
	Entries []string
	// CatchAll are PEM files trusted for any AAGUID.
	CatchAll []string
	// MDSBlob is a local FIDO MDS3 blob (JWT). It is never fetched.
	MDSBlob string
	// MDSRoot is the PEM root that signs the blob (the FIDO Alliance
	// "GlobalSign Root CA - R3" for production blobs). Required unless
	// AllowUnverifiedMDS is set.
	MDSRoot string
	// AllowUnverifiedMDS accepts a blob whose signature cannot be checked
	// (lab use: hand-edited blobs). The anchors then are only as trustworthy
	// as the file system.
	AllowUnverifiedMDS bool
}

// ParseEntry splits an "AAGUID=path" configuration entry.
func ParseEntry(s string) (uuid.UUID, string, error) {
	id, path, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(path) == "" {
		return uuid.Nil, "", fmt.Errorf("attestation: trust entry %q is not AAGUID=path.pem", s)
	}
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("attestation: trust entry %q: %w", s, err)
	}
	return u, strings.TrimSpace(path), nil
}

// LoadTrustStore builds a store from files. now is used for the MDS chain.
func LoadTrustStore(cfg TrustConfig, now time.Time) (*TrustStore, error) {
	s := NewTrustStore()
	for _, e := range cfg.Entries {
		u, path, err := ParseEntry(e)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := s.AddPEM(u, b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, path := range cfg.CatchAll {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := s.AddPEM(uuid.Nil, b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if cfg.MDSBlob != "" {
		blob, err := os.ReadFile(cfg.MDSBlob)
		if err != nil {
			return nil, err
		}
		var root []byte
		if cfg.MDSRoot != "" {
			if root, err = os.ReadFile(cfg.MDSRoot); err != nil {
				return nil, err
			}
		}
		if _, err := s.LoadMDS(blob, root, cfg.AllowUnverifiedMDS, now); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.MDSBlob, err)
		}
	}
	return s, nil
}

// Minimal view of an MDS3 payload: only what trust needs.
type mdsPayload struct {
	No         int    `json:"no"`
	NextUpdate string `json:"nextUpdate"`
	Entries    []struct {
		AAGUID            string `json:"aaguid"`
		MetadataStatement struct {
			AttestationRootCertificates []string `json:"attestationRootCertificates"`
		} `json:"metadataStatement"`
		StatusReports []struct {
			Status        string `json:"status"`
			EffectiveDate string `json:"effectiveDate"`
		} `json:"statusReports"`
	} `json:"entries"`
}

// Statuses after which an authenticator must not be trusted (MDS3 §3.1.4).
var distrustStatus = map[string]bool{
	"REVOKED":                      true,
	"ATTESTATION_KEY_COMPROMISE":   true,
	"USER_KEY_REMOTE_COMPROMISE":   true,
	"USER_KEY_PHYSICAL_COMPROMISE": true,
	"USER_VERIFICATION_BYPASS":     true,
}

// LoadMDS adds the attestationRootCertificates of every FIDO2 entry in an
// MDS3 blob, scoped to that entry's AAGUID, and records distrusted statuses.
//
// We verify the blob ourselves instead of using go-webauthn's metadata
// decoder because that decoder checks certificate revocation online
// (OCSP/CRL), and this server must never fetch. Consequently revocation of
// the blob-signing chain is NOT checked; chain and JWT signature are.
func (s *TrustStore) LoadMDS(blob, rootPEM []byte, allowUnverified bool, now time.Time) (int, error) {
	token := strings.TrimSpace(string(blob))
	claims := jwt.MapClaims{}
	if len(rootPEM) > 0 {
		roots, err := parsePEMCerts(rootPEM)
		if err != nil {
			return 0, err
		}
		parser := jwt.NewParser(jwt.WithValidMethods([]string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}))
		_, err = parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
			return mdsSigningKey(t, roots, now)
		})
		if err != nil {
			return 0, fmt.Errorf("MDS blob signature: %w", err)
		}
	} else {
		if !allowUnverified {
			return 0, errors.New("MDS blob given without MDSRoot; refusing unverified metadata")
		}
		if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
			return 0, err
		}
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		return 0, err
	}
	var p mdsPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return 0, err
	}
	n := 0
	for _, e := range p.Entries {
		if e.AAGUID == "" {
			continue // UAF/U2F entries are keyed by AAID/key identifier; not supported
		}
		u, err := uuid.Parse(e.AAGUID)
		if err != nil || u == uuid.Nil {
			continue
		}
		for _, b64 := range e.MetadataStatement.AttestationRootCertificates {
			der, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				continue
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				continue
			}
			s.AddRoots(u, c)
			n++
		}
		// The newest report wins; reports are ordered by effectiveDate.
		latest, latestDate := "", ""
		for _, r := range e.StatusReports {
			if r.EffectiveDate >= latestDate {
				latest, latestDate = r.Status, r.EffectiveDate
			}
		}
		if distrustStatus[latest] {
			s.mu.Lock()
			s.revoked[u] = latest
			s.mu.Unlock()
		}
	}
	return n, nil
}

func mdsSigningKey(t *jwt.Token, roots []*x509.Certificate, now time.Time) (any, error) {
	x5c, _ := t.Header["x5c"].([]any)
	if len(x5c) == 0 {
		return nil, errors.New("MDS blob header has no x5c")
	}
	var certs []*x509.Certificate
	for _, v := range x5c {
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("x5c entry is not a string")
		}
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	opts := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, r := range roots {
		opts.Roots.AddCert(r)
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return nil, err
	}
	return certs[0].PublicKey, nil
}
