package totp

import (
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 vectors (8 digits there; the last 6 here).
func TestTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := Code(secret, StepAt(time.Unix(c.unix, 0))); got != c.want {
			t.Errorf("t=%d: got %s want %s", c.unix, got, c.want)
		}
	}
}

func TestVerifyTOTPWindow(t *testing.T) {
	secret := NewSecret()
	now := time.Unix(1_800_000_000, 0)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		code := Code(secret, StepAt(now.Add(d)))
		if step, ok := Verify(secret, code, now); !ok || step != StepAt(now.Add(d)) {
			t.Fatalf("drift %s refused", d)
		}
	}
	if _, ok := Verify(secret, Code(secret, StepAt(now.Add(-90*time.Second))), now); ok {
		t.Fatal("stale code accepted")
	}
	if _, ok := Verify(secret, "12345", now); ok {
		t.Fatal("short code accepted")
	}
	if u := ProvisioningURI(secret, "rpserver lab", "a@lab.example"); !strings.HasPrefix(u, "otpauth://totp/") || !strings.Contains(u, EncodeSecret(secret)) {
		t.Fatal(u)
	}
}
