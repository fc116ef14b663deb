package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeCrossSiteRequestRefused answers a state-changing request that a page
// of another origin made a browser send.
const CodeCrossSiteRequestRefused = "crossSiteRequestRefused"

// refuseCrossSite is the CSRF guard. The session cookie is SameSite=Strict,
// which already keeps it off cross-site requests, but "site" ignores ports
// and schemes' subtleties (http://localhost:9999 is same-site with
// :8080), and the /signin/* posts need no cookie to drive a flow. So unsafe
// methods carrying an Origin header must name one of the configured origins,
// and Sec-Fetch-Site: cross-site is refused even without Origin. Requests
// with neither header come from non-browser clients (tests, curl, the load
// generator), which no page can forge, and stay allowed.
func (s *Server) refuseCrossSite(next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(s.deps.Origins))
	for _, o := range s.deps.Origins {
		allowed[normalizeOrigin(o)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			next.ServeHTTP(w, r)
			return
		}
		if s.deps.OIDC.CookieFree(r.URL.Path) {
			// The provider's token, revocation and userinfo endpoints never
			// read the session cookie (clients prove themselves with a
			// secret, PKCE or a bearer token), and single-page apps call
			// them cross-origin by design.
			next.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		foreign := false
		switch {
		case origin != "":
			foreign = !originAllowed(allowed, origin)
		case r.Header.Get("Sec-Fetch-Site") == "cross-site":
			foreign = true
		}
		if foreign {
			if origin == "" {
				origin = "another site"
			}
			writeError(w, r, apperr.Forbidden(CodeCrossSiteRequestRefused,
				"%s %s was sent from %s; state-changing calls are accepted only from this server's own pages", r.Method, r.URL.Path, origin))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed compares with the configured origins (the server always
// has some: config defaults them). "null" (sandboxed frames, file: pages)
// never matches.
func originAllowed(allowed map[string]bool, origin string) bool {
	o := normalizeOrigin(origin)
	return o != "" && allowed[o]
}

// normalizeOrigin reduces an origin to scheme://host[:port] in lower case,
// dropping default ports, so configuration spelling does not matter; "" for
// anything that is not an http(s) origin.
func normalizeOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return u.Scheme + "://" + host
}
