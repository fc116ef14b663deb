package ceremony

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/rpserver/rpserver/virtualauthn"
)

// libraryAssertionJSON decodes as go-webauthn's
// ParseCredentialRequestResponseBytes does before it calls Parse (its
// unexported decodeBytes): one json.Decoder value, then nothing but
// whitespace.
func libraryAssertionJSON(body []byte) (protocol.CredentialAssertionResponse, error) {
	var car protocol.CredentialAssertionResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&car); err != nil {
		return car, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return car, errors.New("body contains trailing data")
	}
	return car, nil
}

// sameAsLibrary checks that where decodeAssertionJSON reads a body, the
// library decodes it to the same value, and Parse gives what
// ParseCredentialRequestResponseBytes gives; it reports whether the fast
// path read it.
func sameAsLibrary(t *testing.T, body []byte) bool {
	t.Helper()
	car, ok := decodeAssertionJSON(body)
	if !ok {
		return false
	}
	want, err := libraryAssertionJSON(body)
	if err != nil {
		t.Fatalf("fast path read a body the library refuses (%v): %q", err, body)
	}
	if !reflect.DeepEqual(car, want) {
		t.Fatalf("fast path decoded\n%#v\nthe library\n%#v\nfrom %q", car, want, body)
	}
	got, gotErr := car.Parse()
	lib, libErr := protocol.ParseCredentialRequestResponseBytes(body)
	if (gotErr == nil) != (libErr == nil) || (gotErr != nil && gotErr.Error() != libErr.Error()) {
		t.Fatalf("Parse: %v, library: %v", gotErr, libErr)
	}
	if !reflect.DeepEqual(got, lib) {
		t.Fatalf("Parse gave\n%#v\nthe library\n%#v", got, lib)
	}
	return true
}

// realAssertions are sign-in responses of the virtual authenticators: a
// phone's passkey (with its attachment) and a security key's (counting,
// without an attachment).
func realAssertions(t testing.TB) [][]byte {
	out := newBenchLab(t).assertions(t, 1)
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	key := virtualauthn.YubiKey5(ca)
	key.Attachment = ""
	return append(out, newBenchLabWith(t, key).assertions(t, 1)...)
}

func TestAssertionJSONMatchesLibrary(t *testing.T) {
	reals := realAssertions(t)
	for i, body := range reals {
		if !sameAsLibrary(t, body) {
			t.Fatalf("real assertion %d not on the fast path: %s", i, body)
		}
	}
	body := string(reals[0])
	var m map[string]json.RawMessage
	if err := json.Unmarshal(reals[0], &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["authenticatorAttachment"]; !ok {
		t.Fatalf("the passkey's assertion has no authenticatorAttachment: %s", body)
	}
	if !strings.Contains(string(m["response"]), `"userHandle"`) {
		t.Fatalf("the passkey's assertion has no userHandle: %s", body)
	}
	indented := &bytes.Buffer{}
	if err := json.Indent(indented, reals[0], "", "\t"); err != nil {
		t.Fatal(err)
	}
	id := strings.Trim(string(m["id"]), `"`)
	cases := []struct {
		name string
		body string
		fast bool
	}{
		{"indented, with a trailing newline", indented.String() + "\r\n", true},
		{"padded base64", strings.Replace(body, `"rawId":"`+id+`"`, `"rawId":"`+id+`=="`, 1), true},
		{"empty members", `{"id":"","rawId":"","type":"","response":{"clientDataJSON":"","authenticatorData":"","signature":""}}`, true},
		{"no members", `{}`, true},
		{"nested empty response", `{"response":{}}`, true},
		{"an unknown member", strings.Replace(body, `{`, `{"extra":1,`, 1), false},
		{"a member in another case", strings.Replace(body, `"rawId"`, `"rawid"`, 1), false},
		{"a duplicate member", strings.Replace(body, `{`, `{"id":"AAAA",`, 1), false},
		{"a duplicate response member", strings.Replace(body, `"signature":`, `"signature":"AAAA","signature":`, 1), false},
		{"an escape", strings.Replace(body, `"type":"public-key"`, `"type":"public\u002dkey"`, 1), false},
		{"a null user handle", strings.Replace(body, `"userHandle":"`, `"userHandle":null,"x":"`, 1), false},
		{"extension results", strings.Replace(body, `"clientExtensionResults":{}`, `"clientExtensionResults":{"appid":true}`, 1), false},
		{"trailing data", body + `{}`, false},
		{"trailing garbage", body + `x`, false},
		{"not base64", strings.Replace(body, `"rawId":"`, `"rawId":"*`, 1), false},
		{"a number", strings.Replace(body, `"type":"public-key"`, `"type":5`, 1), false},
		{"non-ASCII", strings.Replace(body, `"type":"public-key"`, `"type":"pübl"`, 1), false},
		{"truncated", body[:len(body)/2], false},
		{"an array", `[` + body + `]`, false},
		{"empty", ``, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameAsLibrary(t, []byte(tc.body)); got != tc.fast {
				t.Fatalf("fast path %v, want %v", got, tc.fast)
			}
		})
	}
}

func FuzzAssertionJSON(f *testing.F) {
	for _, b := range realAssertions(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"AA","response":{"userHandle":"=="}}`))
	f.Add([]byte(` {"type":"x" , "clientExtensionResults" : { } } `))
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsLibrary(t, body)
	})
}

// BenchmarkAssertionJSON compares reading a passkey's sign-in response on
// the fast path with go-webauthn's decoder (both then Parse).
func BenchmarkAssertionJSON(b *testing.B) {
	body := realAssertions(b)[0]
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			car, ok := decodeAssertionJSON(body)
			if !ok {
				b.Fatal("not on the fast path")
			}
			if _, err := car.Parse(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := protocol.ParseCredentialRequestResponseBytes(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
