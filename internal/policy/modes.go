package policy

import (
	"fmt"
	"math/bits"
	"strings"
)

// Mode is one member of Graph's authenticationMethodModes flags enum. The
// enum is a flags enum in Graph too, which is why a combination such as
// "password,sms" is naturally a ModeSet: testing whether a sign-in satisfied
// it is a single AND instead of string handling on the sign-in path.
type Mode uint32

// ModeSet is a set of Modes (a combination, or what a sign-in used).
type ModeSet uint32

// authenticationMethodModes members, in Graph's declaration order.
const (
	ModePassword Mode = 1 << iota
	ModeVoice
	ModeHardwareOath
	ModeSoftwareOath
	ModeSMS
	ModeFido2
	ModeWindowsHelloForBusiness
	ModeMicrosoftAuthenticatorPush
	ModeDeviceBasedPush
	ModeTemporaryAccessPassOneTime
	ModeTemporaryAccessPassMultiUse
	ModeEmail
	ModeX509CertificateSingleFactor
	ModeX509CertificateMultiFactor
	ModeFederatedSingleFactor
	ModeFederatedMultiFactor
	ModeQRCodePin
	modeEnd
)

var modeNames = [...]string{
	"password",
	"voice",
	"hardwareOath",
	"softwareOath",
	"sms",
	"fido2",
	"windowsHelloForBusiness",
	"microsoftAuthenticatorPush",
	"deviceBasedPush",
	"temporaryAccessPassOneTime",
	"temporaryAccessPassMultiUse",
	"email",
	"x509CertificateSingleFactor",
	"x509CertificateMultiFactor",
	"federatedSingleFactor",
	"federatedMultiFactor",
	"qrCodePin",
}

// String returns Graph's member name, or "" for an invalid Mode.
func (m Mode) String() string {
	if m == 0 || m >= modeEnd || m&(m-1) != 0 {
		return ""
	}
	return modeNames[bits.TrailingZeros32(uint32(m))]
}

// MarshalText writes Graph's member name, so a Mode in JSON (a flow or
// session token) reads as the enum does.
func (m Mode) MarshalText() ([]byte, error) {
	s := m.String()
	if s == "" {
		return nil, fmt.Errorf("policy: %d is not an authenticationMethodModes member", uint32(m))
	}
	return []byte(s), nil
}

// UnmarshalText reads Graph's member name.
func (m *Mode) UnmarshalText(b []byte) error {
	v, ok := ParseMode(string(b))
	if !ok {
		return fmt.Errorf("policy: %q is not an authenticationMethodModes member", b)
	}
	*m = v
	return nil
}

// ParseMode maps a Graph authenticationMethodModes name to its Mode. It is a
// switch rather than a map so the sign-in path parses without hashing.
func ParseMode(s string) (Mode, bool) {
	switch s {
	case "password":
		return ModePassword, true
	case "voice":
		return ModeVoice, true
	case "hardwareOath":
		return ModeHardwareOath, true
	case "softwareOath":
		return ModeSoftwareOath, true
	case "sms":
		return ModeSMS, true
	case "fido2":
		return ModeFido2, true
	case "windowsHelloForBusiness":
		return ModeWindowsHelloForBusiness, true
	case "microsoftAuthenticatorPush":
		return ModeMicrosoftAuthenticatorPush, true
	case "deviceBasedPush":
		return ModeDeviceBasedPush, true
	case "temporaryAccessPassOneTime":
		return ModeTemporaryAccessPassOneTime, true
	case "temporaryAccessPassMultiUse":
		return ModeTemporaryAccessPassMultiUse, true
	case "email":
		return ModeEmail, true
	case "x509CertificateSingleFactor":
		return ModeX509CertificateSingleFactor, true
	case "x509CertificateMultiFactor":
		return ModeX509CertificateMultiFactor, true
	case "federatedSingleFactor":
		return ModeFederatedSingleFactor, true
	case "federatedMultiFactor":
		return ModeFederatedMultiFactor, true
	case "qrCodePin":
		return ModeQRCodePin, true
	}
	return 0, false
}

// Has reports whether m is in s.
func (s ModeSet) Has(m Mode) bool { return s&ModeSet(m) != 0 }

// Contains reports whether every mode of c is in s.
func (s ModeSet) Contains(c ModeSet) bool { return s&c == c }

// With returns s plus m.
func (s ModeSet) With(m Mode) ModeSet { return s | ModeSet(m) }

// Len is the number of modes in s.
func (s ModeSet) Len() int { return bits.OnesCount32(uint32(s)) }

// Modes lists s's members in Graph's declaration order.
func (s ModeSet) Modes() []Mode {
	out := make([]Mode, 0, s.Len())
	for m := Mode(1); m < modeEnd; m <<= 1 {
		if s.Has(m) {
			out = append(out, m)
		}
	}
	return out
}

// String renders s the way Graph's v1.0 endpoint returns combinations:
// comma-separated, no spaces, in declaration order.
func (s ModeSet) String() string {
	var b strings.Builder
	for m := Mode(1); m < modeEnd; m <<= 1 {
		if s.Has(m) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(m.String())
		}
	}
	return b.String()
}

// ParseCombination parses "password,sms" or "password, sms" (Graph has
// returned both spellings) into a ModeSet. Order does not matter, which is
// why Graph's "sms,federatedSingleFactor" and "federatedSingleFactor, sms" are
// the same combination. ok is false for an empty or unknown member.
func ParseCombination(s string) (set ModeSet, ok bool) {
	for part := range strings.SplitSeq(s, ",") {
		m, found := ParseMode(strings.TrimSpace(part))
		if !found {
			return 0, false
		}
		set |= ModeSet(m)
	}
	return set, set != 0
}

// ModesFromStrings parses a list of mode names, reporting the first unknown
// one. It is for callers holding registered methods as strings.
func ModesFromStrings(names []string) (ModeSet, string, bool) {
	var s ModeSet
	for _, n := range names {
		m, ok := ParseMode(n)
		if !ok {
			return 0, n, false
		}
		s = s.With(m)
	}
	return s, "", true
}

// knownCombinations are the combinations Entra offers when building a custom
// strength (the authenticationMethodModes list API). Combinations outside it
// are refused: Entra would refuse them, and a lab that accepted them would
// teach the wrong thing.
var knownCombinations = func() map[ModeSet]bool {
	m := map[ModeSet]bool{}
	singles := []Mode{
		ModeWindowsHelloForBusiness, ModeFido2, ModeX509CertificateMultiFactor,
		ModeDeviceBasedPush, ModeTemporaryAccessPassOneTime, ModeTemporaryAccessPassMultiUse,
		ModeFederatedMultiFactor, ModePassword, ModeSMS, ModeEmail,
		ModeX509CertificateSingleFactor, ModeFederatedSingleFactor, ModeQRCodePin,
	}
	for _, s := range singles {
		m[ModeSet(s)] = true
	}
	seconds := []Mode{ModeMicrosoftAuthenticatorPush, ModeSoftwareOath, ModeHardwareOath, ModeSMS, ModeVoice}
	for _, first := range []Mode{ModePassword, ModeFederatedSingleFactor} {
		for _, second := range seconds {
			m[ModeSet(first)|ModeSet(second)] = true
		}
	}
	return m
}()

// IsKnownCombination reports whether c is a combination Entra accepts.
func IsKnownCombination(c ModeSet) bool { return knownCombinations[c] }

// singleFactorModes are the modes that are only one factor on their own;
// a combination made only of these cannot satisfy an MFA requirement.
const singleFactorModes = ModeSet(ModePassword | ModeSMS | ModeEmail |
	ModeX509CertificateSingleFactor | ModeFederatedSingleFactor | ModeQRCodePin |
	ModeVoice | ModeHardwareOath | ModeSoftwareOath | ModeMicrosoftAuthenticatorPush)

// IsMultifactor reports whether combination c is MFA: either it contains an
// intrinsically multifactor mode or it is two single factors.
func IsMultifactor(c ModeSet) bool {
	return c&^singleFactorModes != 0 || c.Len() >= 2
}
