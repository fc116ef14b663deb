package attestation_test

import (
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/virtualauthn"
)

// FuzzInspect drives the untrusted-CBOR path (decode limits, authData, COSE
// keys, statement procedures). Seeds are real objects of every format so the
// fuzzer starts deep inside the parsers.
func FuzzInspect(f *testing.F) {
	fx := newFixture(f)
	for i, cfg := range []virtualauthn.Config{
		virtualauthn.YubiKey5(fx.ca),
		virtualauthn.MicrosoftAuthenticatorAndroid(fx.ca),
		{Format: virtualauthn.FormatApple, CA: fx.ca},
		{Format: virtualauthn.FormatPackedSelf},
		virtualauthn.GooglePasswordManager(),
	} {
		a, err := virtualauthn.New(cfg)
		if err != nil {
			f.Fatal(err)
		}
		o := fx.register(f, a, &user{id: []byte{byte(i), 'f'}}, virtualauthn.Tamper{})
		f.Add(o.attObj, o.cdJSON)
	}
	f.Add([]byte{0xa0}, []byte(`{}`))
	f.Add([]byte{0x9f, 0xff}, []byte(`{}`))                                           // indefinite length: forbidden
	f.Add([]byte{0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte(`{}`)) // absurd byte string length
	store, now := fx.store, time.Now()
	f.Fuzz(func(t *testing.T, attObj, cdJSON []byte) {
		in, err := attestation.Inspect(attObj, cdJSON, store, now)
		if err != nil {
			return
		}
		if in.Trusted && in.Reason != "" {
			t.Fatalf("trusted with reason %q", in.Reason)
		}
	})
}
