package api

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ids"
)

// CodeBadContentEncoding refuses request bodies in an encoding the server
// cannot read (anything but gzip and identity).
const CodeBadContentEncoding = "unsupportedContentEncoding"

// decodeContentEncoding turns a gzip request body (msgraph-sdk-go's default
// compression middleware sends every body so) into plain bytes. The cap of
// limitBody applies to what arrives and again to what decompresses, so a
// small gzip bomb cannot expand past MaxBodyBytes; other encodings are
// refused rather than read as JSON.
func (s *Server) decodeContentEncoding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
		switch enc {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				writeError(w, r, apperr.Invalid(CodeBadJSON, "the request body is not valid gzip: %v", err))
				return
			}
			r.Header.Del("Content-Encoding")
			r.ContentLength = -1
			r.Body = &limitedBody{r: zr, closer: r.Body, left: s.deps.MaxBodyBytes, limit: s.deps.MaxBodyBytes}
		default:
			writeError(w, r, apperr.UnsupportedMedia(CodeBadContentEncoding, "Content-Encoding %q is not supported; send gzip or no encoding", enc))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitedBody reads at most limit bytes, then fails as http.MaxBytesReader
// does so decodeJSON maps the overrun to 413 the same way.
type limitedBody struct {
	r      io.Reader
	closer io.Closer
	left   int64
	limit  int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One more byte tells an exact fit from an overrun.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, &http.MaxBytesError{Limit: l.limit}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.closer.Close() }

// pathParam is a decoded path segment: chi matches on the escaped path, so
// /users/alice%40lab.example reaches the handler as alice%40lab.example.
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if d, err := url.PathUnescape(v); err == nil {
		v = d
	}
	// A GUID is lower-cased here, once for every route: the guards, maps and
	// in-memory lookups behind the handlers compare ids as strings.
	return ids.Lower(v)
}

// baseURL is the absolute origin for links the server emits
// (@odata.nextLink, @odata.context, Location): the configured public URL,
// else the request's own scheme and host.
func (s *Server) baseURL(r *http.Request) string {
	if s.deps.PublicURL != "" {
		return strings.TrimSuffix(s.deps.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// apiVersion is the Graph version segment of the request, v1.0 or beta.
func apiVersion(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/beta/") {
		return "beta"
	}
	return "v1.0"
}

// contextURL is Graph's @odata.context for a resource path such as "users"
// or "users/$entity".
func (s *Server) contextURL(r *http.Request, path string) string {
	return s.baseURL(r) + "/" + apiVersion(r) + "/$metadata#" + path
}

// created answers 201 with the entity and a Location naming it.
func (s *Server) created(w http.ResponseWriter, r *http.Request, id string, v any, context string) {
	w.Header().Set("Location", s.baseURL(r)+strings.TrimSuffix(r.URL.EscapedPath(), "/")+"/"+url.PathEscape(id))
	s.writeEntity(w, r, http.StatusCreated, v, context, nil)
}

// patched answers a PATCH as Graph does: 204 No Content, or 200 with the
// updated entity when the client asked with Prefer: return=representation.
func (s *Server) patched(w http.ResponseWriter, r *http.Request, v any, context string) {
	if wantsRepresentation(r) {
		w.Header().Set("Preference-Applied", "return=representation")
		s.writeEntity(w, r, http.StatusOK, v, context, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func wantsRepresentation(r *http.Request) bool {
	for _, p := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "return=representation") {
				return true
			}
		}
	}
	return false
}

// clientIP is the client's address: the peer's, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy (entries to its left are the client's own claims and could
// be forged). Conditional Access location conditions, the sign-in log's
// ipAddress and the failure limiter all see this address.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !inPrefixes(host, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			return host // a malformed chain: trust only the peer
		}
		if !inPrefixes(hop, trusted) {
			return hop
		}
	}
	return host
}

func inPrefixes(addr string, ps []netip.Prefix) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
