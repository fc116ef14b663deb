package attestation

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// mdsBlob is a loaded FIDO MDS3 blob: entries parsed by go-webauthn's
// metadata package (EntryJSON.Parse), keyed by AAGUID.
type mdsBlob struct {
	number     int
	nextUpdate time.Time
	entries    map[uuid.UUID]*metadata.Entry
	// skipped counts entries that are not FIDO2 (UAF/U2F keyed by AAID or
	// key identifier) or that failed to parse; they are reported, not fatal,
	// because one vendor's malformed entry must not take every other
	// authenticator's metadata down with it.
	skipped []string
}

// MDSInfo describes the loaded blob, for logs and operators.
type MDSInfo struct {
	Number     int       `json:"no"`
	NextUpdate time.Time `json:"nextUpdate"`
	Entries    int       `json:"entries"`
	Skipped    []string  `json:"skipped,omitempty"`
}

// MDSInfo returns what LoadMDS loaded (zero when no blob is loaded).
func (s *TrustStore) MDSInfo() MDSInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mds == nil {
		return MDSInfo{}
	}
	return MDSInfo{Number: s.mds.number, NextUpdate: s.mds.nextUpdate, Entries: len(s.mds.entries), Skipped: s.mds.skipped}
}

// undesiredStatuses are the statuses that refuse trust: go-webauthn's
// default list (REVOKED, ATTESTATION_KEY_COMPROMISE, USER_VERIFICATION_BYPASS,
// USER_KEY_REMOTE_COMPROMISE, USER_KEY_PHYSICAL_COMPROMISE and RETIRED,
// which go-webauthn treats as undesired too: the vendor says it should not
// be accepted any longer).
var undesiredStatuses = metadata.DefaultUndesiredAuthenticatorStatuses()

// LoadMDS loads a FIDO MDS3 blob: every FIDO2 entry's metadata statement
// (attestation roots, attestation types, algorithms, name, icon) and status
// reports, scoped to its AAGUID. It returns the number of entries loaded.
//
// The blob's JWT signature and its x5c chain to rootPEM are verified here,
// at now, instead of by go-webauthn's metadata.Decoder, because the decoder
// checks the chain's revocation online (OCSP/CRL) and this server never
// fetches; revocation of the blob-signing chain is therefore not checked.
// Entries are parsed by go-webauthn (metadata.EntryJSON.Parse).
//
// nextUpdate is kept: a blob past it is stale, which Evaluate reports and,
// with refuseStale, refuses to base trust on.
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
	var p metadata.PayloadJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return 0, fmt.Errorf("MDS payload: %w", err)
	}
	next, err := time.Parse(time.DateOnly, p.NextUpdate)
	if err != nil {
		return 0, fmt.Errorf("MDS payload nextUpdate %q: %w", p.NextUpdate, err)
	}
	b := &mdsBlob{number: p.Number, nextUpdate: next, entries: map[uuid.UUID]*metadata.Entry{}}
	for i, ej := range p.Entries {
		if ej.AaGUID == "" {
			b.skipped = append(b.skipped, fmt.Sprintf("entry %d: no AAGUID (UAF or U2F metadata)", i))
			continue
		}
		e, err := ej.Parse()
		if err != nil {
			b.skipped = append(b.skipped, fmt.Sprintf("entry %d (%s): %v", i, ej.AaGUID, err))
			continue
		}
		if e.AaGUID == uuid.Nil {
			b.skipped = append(b.skipped, fmt.Sprintf("entry %d: the zero AAGUID", i))
			continue
		}
		b.entries[e.AaGUID] = &e
	}
	s.mu.Lock()
	s.mds = b
	s.mu.Unlock()
	return len(b.entries), nil
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

// mdsEntry returns the metadata of aaguid and the blob's nextUpdate.
func (s *TrustStore) mdsEntry(aaguid uuid.UUID) (*metadata.Entry, time.Time) {
	if s == nil {
		return nil, time.Time{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mds == nil {
		return nil, time.Time{}
	}
	return s.mds.entries[aaguid], s.mds.nextUpdate
}

// undesiredStatus is the first status report of e that is in effect at now,
// has an undesired status, and applies to this authenticator: a report
// naming a certificate or batch certificate applies only when that
// certificate is in the attestation chain (a compromised batch key does not
// condemn every batch of the model).
func undesiredStatus(e *metadata.Entry, chain []*x509.Certificate, now time.Time) *metadata.StatusReport {
	for _, r := range metadata.EffectiveStatusReports(e.StatusReports, now) {
		if !slices.Contains(undesiredStatuses, r.Status) {
			continue
		}
		if scoped := certScope(r); scoped != nil && !slices.ContainsFunc(chain, scoped.Equal) {
			continue
		}
		return &r
	}
	return nil
}

func certScope(r metadata.StatusReport) *x509.Certificate {
	if r.Certificate != nil {
		return r.Certificate
	}
	return r.BatchCertificate
}

// mdsAttestationType is our attestation type in the metadata statement's
// vocabulary (FIDO Registry §3.6.3).
func mdsAttestationType(t string) metadata.AuthenticatorAttestationType {
	switch t {
	case TypeBasic:
		return metadata.BasicFull
	case TypeSelf:
		return metadata.BasicSurrogate
	case TypeAttCA:
		return metadata.AttCA
	case TypeAnonCA:
		return metadata.AnonCA
	}
	return metadata.None
}

// checkStatement compares what the attestation proved with what the
// metadata statement says the model does: its attestation types and its
// authentication algorithms. An authenticator attesting in a way its
// vendor never declared is not the model it claims to be.
func checkStatement(st *metadata.Statement, attType string, credAlg int64) (reason, msg string) {
	if len(st.AttestationTypes) > 0 && !slices.Contains(st.AttestationTypes, mdsAttestationType(attType)) {
		return ReasonAttestationTypeMismatch, fmt.Sprintf("attestation type %s is not among the metadata statement's %v", attType, st.AttestationTypes)
	}
	if len(st.AuthenticationAlgorithms) > 0 && credAlg != 0 {
		for _, a := range st.AuthenticationAlgorithms {
			if c, ok := a.COSEAlgorithmIdentifier(); ok && int64(c) == credAlg {
				return "", ""
			}
		}
		return ReasonAlgorithmMismatch, fmt.Sprintf("credential algorithm %d is not among the metadata statement's %v", credAlg, st.AuthenticationAlgorithms)
	}
	return "", ""
}
