package api

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSessionCookieAsSetCookie holds setSessionCookie's header to
// http.SetCookie's for the same cookie, on its fast path and off it.
func TestSessionCookieAsSetCookie(t *testing.T) {
	tokens := []string{"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln-_", "a", "", "with space", "with,comma", `quo"te`, "é", "semi;colon"}
	for _, tok := range tokens {
		for _, ttl := range []time.Duration{0, -time.Second, time.Second / 2, time.Hour, 90 * 24 * time.Hour} {
			for _, secure := range []bool{false, true} {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				if secure {
					r.TLS = &tls.ConnectionState{}
				}
				got := httptest.NewRecorder()
				setSessionCookie(got, r, tok, ttl)
				want := httptest.NewRecorder()
				http.SetCookie(want, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: secure,
					SameSite: http.SameSiteStrictMode, MaxAge: int(ttl.Seconds())})
				if g, w := got.Header().Values("Set-Cookie"), want.Header().Values("Set-Cookie"); len(g) != len(w) || (len(g) == 1 && g[0] != w[0]) {
					t.Fatalf("token %q, ttl %v, secure %v: %q, http.SetCookie %q", tok, ttl, secure, g, w)
				}
			}
		}
	}
}

func TestDateHeader(t *testing.T) {
	h := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Cache-Control", "private") // must not write into the shared value
	}))
	for range 2 {
		w := httptest.NewRecorder()
		before := time.Now().Truncate(time.Second)
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		d, err := http.ParseTime(w.Header().Get("Date"))
		if err != nil || d.Before(before) || d.After(time.Now()) {
			t.Fatalf("Date %q (%v), want the second of the request", w.Header().Get("Date"), err)
		}
		if got := w.Header().Values("Cache-Control"); len(got) != 2 || got[0] != "no-store" {
			t.Fatalf("Cache-Control %q", got)
		}
	}
	if headerNoStore[0] != "no-store" || len(headerNoStore) != 1 {
		t.Fatalf("the shared value changed: %q", headerNoStore)
	}
}
