package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
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
// one document; the shell (admin.js) loads the view's module from the
// path, and every module in static/admin/ that is not a helper is a view
// at /admin/<name> (see AdminViews).
var Pages = pages()

// adminHelpers are the modules in static/admin/ that are not views.
var adminHelpers = map[string]bool{"form.js": true, "choices.js": true}

func pages() map[string]string {
	p := map[string]string{
		"/":              "signin.html",
		"/signin":        "signin.html",
		"/security-info": "security-info.html",
		"/admin":         "admin.html",
	}
	for _, v := range AdminViews() {
		p["/admin/"+v] = "admin.html"
	}
	return p
}

// AdminViews are the admin pages' views, one per module in static/admin/
// (web/static/admin/<view>.js renders /admin/<view>): a new view needs no
// registration beyond its module and its line in admin.html's nav.
func AdminViews() []string {
	var out []string
	entries, _ := fs.ReadDir(static, "static/admin")
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) == ".js" && !adminHelpers[e.Name()] {
			out = append(out, strings.TrimSuffix(e.Name(), ".js"))
		}
	}
	return out
}

// assets are every embedded file that is not a page (the script modules,
// the style sheet, the icon), served under /assets/ by their path below
// static/: a new module needs no registration.
func assets() []string {
	var out []string
	_ = fs.WalkDir(static, "static", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && path.Ext(p) != ".html" {
			out = append(out, strings.TrimPrefix(p, "static/"))
		}
		return err
	})
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
