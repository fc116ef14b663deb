package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPBehindTrustedProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, c := range []struct {
		peer, xff, want string
		trusted         []netip.Prefix
	}{
		{"203.0.113.7:5000", "198.51.100.1", "203.0.113.7", proxies},                  // peer not a proxy: header ignored
		{"10.1.2.3:5000", "198.51.100.1", "198.51.100.1", proxies},                    // one proxy
		{"10.1.2.3:5000", "1.1.1.1, 198.51.100.1, 10.9.9.9", "198.51.100.1", proxies}, // left of the first untrusted hop is the client's claim
		{"10.1.2.3:5000", "", "10.1.2.3", proxies},
		{"10.1.2.3:5000", "not-an-ip", "10.1.2.3", proxies},
		{"10.1.2.3:5000", "198.51.100.1", "10.1.2.3", nil}, // no proxies configured
		{"[::1]:5000", "2001:db8::1", "2001:db8::1", proxies},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientIP(r, c.trusted); got != c.want {
			t.Errorf("peer %s XFF %q: got %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
