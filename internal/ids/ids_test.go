package ids

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b":          true,
		"6F1C2B0E-3C4D-4E5F-8A9B-0C1D2E3F4A5B":          true,
		"urn:uuid:6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b": false,
		"{6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b}":        false,
		"6f1c2b0e3c4d4e5f8a9b0c1d2e3f4a5b":              false,
		"6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5\x00":       false,
		"": false,
	} {
		if Valid(s) != want {
			t.Errorf("Valid(%q) = %v", s, !want)
		}
	}
}
