package attestation

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/metadata"
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
	mds      *mdsBlob
	catalog  *catalogLayer // the operator's AAGUID catalog file, if any
	// refuseStale: trust that rests on the MDS blob is refused once the
	// blob is past its nextUpdate (the default only reports it).
	refuseStale bool
}

// NewTrustStore returns an empty store (nothing is trusted).
func NewTrustStore() *TrustStore {
	return &TrustStore{byAAGUID: map[uuid.UUID][]*x509.Certificate{}}
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
		if s.mds != nil {
			if e := s.mds.entries[aaguid]; e != nil {
				out = append(out, e.MetadataStatement.AttestationRootCertificates...)
			}
		}
	}
	return out
}

func (s *TrustStore) refusesStale() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.refuseStale
}

// RefuseStaleMDS makes trust that rests on the MDS blob fail once the blob
// is past its nextUpdate, instead of only being reported as stale.
func (s *TrustStore) RefuseStaleMDS(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseStale = refuse
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
	var sum Summary
	aaguids := map[uuid.UUID]bool{}
	for u, roots := range s.byAAGUID {
		aaguids[u] = true
		sum.Roots += len(roots)
	}
	if s.mds != nil {
		for u, e := range s.mds.entries {
			if n := len(e.MetadataStatement.AttestationRootCertificates); n > 0 {
				aaguids[u] = true
				sum.Roots += n
			}
			if slices.ContainsFunc(e.StatusReports, func(r metadata.StatusReport) bool { return slices.Contains(undesiredStatuses, r.Status) }) {
				sum.Distrusted++
			}
		}
	}
	sum.AAGUIDs = len(aaguids)
	for _, c := range s.any {
		sum.AnyAAGUID = append(sum.AnyAAGUID, c.Subject.String())
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
	// RefuseStaleMDS refuses trust that rests on the blob once it is past
	// its nextUpdate; by default a stale blob is only reported.
	RefuseStaleMDS bool
	// AAGUIDCatalog is a JSON file of authenticator names and icons in the
	// community list's format; it takes precedence over MDS and the
	// embedded lists.
	AAGUIDCatalog string
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
		s.RefuseStaleMDS(cfg.RefuseStaleMDS)
	}
	if cfg.AAGUIDCatalog != "" {
		if _, err := s.LoadCatalogFile(cfg.AAGUIDCatalog); err != nil {
			return nil, err
		}
	}
	return s, nil
}
