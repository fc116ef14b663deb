package attestation

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/google/uuid"
)

// Authenticator is what the catalog knows of a model: a display name and
// icons for light and dark backgrounds (data: URIs of SVG or PNG). It is for
// display only: an AAGUID is a claim by the authenticator, never evidence,
// unless the attestation was Trusted.
type Authenticator struct {
	AAGUID    string `json:"aaguid"`
	Name      string `json:"name"`
	IconLight string `json:"iconLight,omitempty"`
	IconDark  string `json:"iconDark,omitempty"`
	// Source is the layer the name came from: "file" (the operator's
	// catalog), "mds" (the FIDO MDS blob), "community"
	// (passkeydeveloper/passkey-authenticator-aaguids) or "rpserver".
	Source string `json:"source"`
}

// Sources of catalog entries, highest precedence first.
const (
	SourceFile      = "file"
	SourceMDS       = "mds"
	SourceCommunity = "community"
	SourceRPServer  = "rpserver"
)

// passkey-authenticator-aaguids.json is aaguid.json of the community list
// passkeydeveloper/passkey-authenticator-aaguids (see NOTICE.md beside it),
// embedded unchanged so it can be diffed against upstream.
//
//go:embed passkey-authenticator-aaguids.json
var communityJSON []byte

// aaguids.json names models the community list leaves to FIDO MDS
// (security keys, Microsoft Authenticator), for labs without a blob.
//
//go:embed aaguids.json
var rpserverJSON []byte

var embedded = func() []catalogLayer {
	community, err := parseCatalog(communityJSON, SourceCommunity)
	if err != nil {
		panic("attestation: " + err.Error())
	}
	names := map[string]string{}
	if err := json.Unmarshal(rpserverJSON, &names); err != nil {
		panic("attestation: aaguids.json: " + err.Error())
	}
	ours := catalogLayer{source: SourceRPServer, m: map[uuid.UUID]Authenticator{}}
	for k, v := range names {
		u, err := uuid.Parse(k)
		if err != nil {
			panic("attestation: aaguids.json: " + err.Error())
		}
		ours.m[u] = Authenticator{AAGUID: u.String(), Name: v, Source: SourceRPServer}
	}
	return []catalogLayer{community, ours}
}()

type catalogLayer struct {
	source string
	m      map[uuid.UUID]Authenticator
}

// maxIconSize bounds one icon data URI; the community list's largest is
// about 20 KiB.
const maxIconSize = 64 << 10

// validIcon accepts base64 data URIs of SVG or PNG only: they are shown in
// <img>, where neither can run script, and pages allow data: images only.
func validIcon(s string) bool {
	if s == "" || len(s) > maxIconSize {
		return false
	}
	return strings.HasPrefix(s, "data:image/svg+xml;base64,") || strings.HasPrefix(s, "data:image/png;base64,")
}

// parseCatalog reads the community list's format: an object keyed by
// AAGUID of {name, icon_light, icon_dark} (go-webauthn's
// metadata.PasskeyAuthenticator). A bad icon is an error, not dropped: the
// file is someone's deliberate configuration.
func parseCatalog(b []byte, source string) (catalogLayer, error) {
	var raw metadata.PasskeyAuthenticator
	if err := json.Unmarshal(b, &raw); err != nil {
		return catalogLayer{}, fmt.Errorf("AAGUID catalog (%s): %w", source, err)
	}
	l := catalogLayer{source: source, m: make(map[uuid.UUID]Authenticator, len(raw))}
	for k, v := range raw {
		u, err := uuid.Parse(k)
		if err != nil {
			return l, fmt.Errorf("AAGUID catalog (%s): key %q: %w", source, k, err)
		}
		if strings.TrimSpace(v.Name) == "" {
			return l, fmt.Errorf("AAGUID catalog (%s): %s has no name", source, u)
		}
		for _, icon := range []string{v.IconLight, v.IconDark} {
			if icon != "" && !validIcon(icon) {
				return l, fmt.Errorf("AAGUID catalog (%s): %s: icons must be SVG or PNG base64 data: URIs of at most %d bytes", source, u, maxIconSize)
			}
		}
		l.m[u] = Authenticator{AAGUID: u.String(), Name: strings.TrimSpace(v.Name), IconLight: v.IconLight, IconDark: v.IconDark, Source: source}
	}
	return l, nil
}

// LoadCatalogFile adds the operator's AAGUID catalog (the community list's
// format), which takes precedence over MDS and the embedded lists.
func (s *TrustStore) LoadCatalogFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	l, err := parseCatalog(b, SourceFile)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catalog = &l
	return len(l.m), nil
}

// Authenticator names aaguid: the operator's file, then the MDS entry's
// description and icon, then the community list, then this project's own
// list. A layer without an icon lends one from the layers below when they
// name the same AAGUID, so an MDS name does not lose the community icons.
func (s *TrustStore) Authenticator(aaguid uuid.UUID) (Authenticator, bool) {
	if aaguid == uuid.Nil {
		return Authenticator{}, false
	}
	var layers []catalogLayer
	if s != nil {
		s.mu.RLock()
		if s.catalog != nil {
			layers = append(layers, *s.catalog)
		}
		if s.mds != nil {
			if e := s.mds.entries[aaguid]; e != nil && e.MetadataStatement.Description != "" {
				a := Authenticator{AAGUID: aaguid.String(), Name: e.MetadataStatement.Description, Source: SourceMDS}
				if st := e.MetadataStatement; st.Icon != nil && validIcon(st.Icon.String()) {
					a.IconLight = st.Icon.String()
				}
				if st := e.MetadataStatement; st.IconDark != nil && validIcon(st.IconDark.String()) {
					a.IconDark = st.IconDark.String()
				}
				layers = append(layers, catalogLayer{source: SourceMDS, m: map[uuid.UUID]Authenticator{aaguid: a}})
			}
		}
		s.mu.RUnlock()
	}
	layers = append(layers, embedded...)
	var out Authenticator
	found := false
	for _, l := range layers {
		a, ok := l.m[aaguid]
		if !ok {
			continue
		}
		if !found {
			out, found = a, true
		}
		if out.IconLight == "" && out.IconDark == "" {
			out.IconLight, out.IconDark = a.IconLight, a.IconDark
		}
	}
	return out, found
}

// ModelName is the catalog's name for aaguid ("" when unknown).
func (s *TrustStore) ModelName(aaguid string) string {
	u, err := uuid.Parse(strings.TrimSpace(aaguid))
	if err != nil {
		return ""
	}
	a, _ := s.Authenticator(u)
	return a.Name
}

// Authenticators lists the catalog's models whose name contains search
// (case-insensitive) or whose AAGUID starts with it, merged across layers
// as Authenticator merges one, sorted by name then AAGUID, at most limit
// (for the admin pages' AAGUID picker). The second result is how many
// matched before the limit.
func (s *TrustStore) Authenticators(search string, limit int) ([]Authenticator, int) {
	ids := map[uuid.UUID]bool{}
	if s != nil {
		s.mu.RLock()
		if s.catalog != nil {
			for u := range s.catalog.m {
				ids[u] = true
			}
		}
		if s.mds != nil {
			for u, e := range s.mds.entries {
				if e != nil && e.MetadataStatement.Description != "" {
					ids[u] = true
				}
			}
		}
		s.mu.RUnlock()
	}
	for _, l := range embedded {
		for u := range l.m {
			ids[u] = true
		}
	}
	q := strings.ToLower(strings.TrimSpace(search))
	var out []Authenticator
	for u := range ids {
		a, ok := s.Authenticator(u)
		if ok && (q == "" || strings.Contains(strings.ToLower(a.Name), q) || strings.HasPrefix(a.AAGUID, q)) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Authenticator) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.AAGUID, b.AAGUID)
	})
	n := len(out)
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, n
}
