package authenticatorapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rpserver/rpserver/virtualauthn"
)

// A page on another site whose name rebinds to 127.0.0.1 must not reach
// the authenticators: a non-loopback Host or any Origin is refused.
func TestOnlyLocalToolsAreServed(t *testing.T) {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(New(ca))
	for _, c := range []struct {
		host, origin string
		want         int
	}{
		{"127.0.0.1:7777", "", 200},
		{"localhost:7777", "", 200},
		{"[::1]:7777", "", 200},
		{"evil.example:7777", "", 403},
		{"127.0.0.1:7777", "https://evil.example", 403},
		{"127.0.0.1:7777", "http://127.0.0.1:7777", 403},
	} {
		req := httptest.NewRequest(http.MethodGet, "/authenticators", nil)
		req.Host = c.host
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("Host %s Origin %q: %d, want %d", c.host, c.origin, rec.Code, c.want)
		}
	}
}
