package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/go-chi/chi/v5"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every page and asset. Nothing inline,
// nothing from another origin; frame-ancestors 'none' repeats
// X-Frame-Options for browsers that prefer CSP.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Pages maps each page URL to its embedded file. The admin views share
// one document; the script picks the view from the path.
var Pages = map[string]string{
	"/":                            "signin.html",
	"/signin":                      "signin.html",
	"/security-info":               "security-info.html",
	"/admin":                       "admin.html",
	"/admin/passkey-profiles":      "admin.html",
	"/admin/temporary-access-pass": "admin.html",
	"/admin/conditional-access":    "admin.html",
	"/admin/sign-ins":              "admin.html",
}

// assets are every embedded file that is not a page (the script modules,
// the style sheet, the icon), served under /assets/ by name: a new module
// needs no registration.
func assets() []string {
	var out []string
	entries, _ := fs.ReadDir(static, "static")
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) != ".html" {
			out = append(out, e.Name())
		}
	}
	return out
}

// Register adds GET routes for the pages and assets. Explicit routes rather
// than a catch-all keep unknown paths answering the API's JSON 404.
func Register(r chi.Router) {
	for p, file := range Pages {
		r.Get(p, serveFile(file))
	}
	for _, a := range assets() {
		r.Get("/assets/"+a, serveFile(a))
	}
}

// Handler serves the pages and assets alone, for tests and embedding.
func Handler() http.Handler {
	r := chi.NewRouter()
	Register(r)
	return r
}

var started = time.Now()

func serveFile(name string) http.HandlerFunc {
	b, err := fs.ReadFile(static, "static/"+name)
	if err != nil {
		panic("web: missing embedded file " + name) // a build mistake, caught by the tests
	}
	ctype := map[string]string{
		".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
	}[path.Ext(name)]
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		http.ServeContent(w, r, name, started, bytes.NewReader(b))
	}
}
