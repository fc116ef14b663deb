package loadgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rpserver/rpserver/virtualauthn"
)

// Presets maps the -mix names to virtualauthn models (virtualauthn.Presets).
// Attested presets are signed by the run's TestCA; the server reports them
// as trusted only if it trusts that CA's root (the lab CA by default).
var Presets = virtualauthn.Presets

// PresetNames lists the preset names, sorted.
func PresetNames() []string { return virtualauthn.PresetNames() }

// MixEntry is one preset with its relative weight.
type MixEntry struct {
	Preset string `json:"preset"`
	Weight int    `json:"weight"`
}

// ParseMix reads "ms-ios=2,ms-android=2,yubikey=1,synced=1"; a name without
// "=n" weighs 1.
func ParseMix(s string) ([]MixEntry, error) {
	var mix []MixEntry
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasW := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if _, ok := Presets[name]; !ok {
			return nil, fmt.Errorf("mix: unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("mix: preset %q given twice", name)
		}
		seen[name] = true
		weight := 1
		if hasW {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil || n < 1 || n > 1000 {
				return nil, fmt.Errorf("mix: weight of %q must be an integer 1..1000", name)
			}
			weight = n
		}
		mix = append(mix, MixEntry{Preset: name, Weight: weight})
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix: no presets")
	}
	return mix, nil
}

// assign returns the preset of each of n users: the weights repeated in
// order (2,2,1,1 over 6 users gives ios,ios,android,android,yubikey,synced),
// so every run with the same flags has the same population.
func assign(mix []MixEntry, n int) []string {
	var cycle []string
	for _, m := range mix {
		for range m.Weight {
			cycle = append(cycle, m.Preset)
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = cycle[i%len(cycle)]
	}
	return out
}
