package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/rpserver/rpserver/internal/ids"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
)

// pageOf reads Graph's $top and $skiptoken.
func pageOf(r *http.Request) (directory.Page, error) {
	q := r.URL.Query()
	top, err := topOf(r)
	p := directory.Page{Top: top}
	if err != nil {
		return p, err
	}
	if v := q.Get("$skiptoken"); v != "" {
		if !ids.Valid(v) {
			return p, apperr.Invalid(CodeBadQuery, "$skiptoken is not one this server issued").WithTarget("$skiptoken")
		}
		p.After = v
	}
	return p, nil
}

// writePage encodes a collection, adding @odata.nextLink when the page is full.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, p directory.Page, idOf func(T) string) {
	out := collection[T]{Value: items}
	if out.Value == nil {
		out.Value = []T{}
	}
	if len(items) == p.Top && len(items) > 0 {
		u := url.URL{Path: r.URL.Path}
		q := r.URL.Query()
		q.Set("$skiptoken", idOf(items[len(items)-1]))
		u.RawQuery = q.Encode()
		out.NextLink = u.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// topOf reads Graph's $top: 1 to 999, 100 when absent.
func topOf(r *http.Request) (int, error) {
	v := r.URL.Query().Get("$top")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 999 {
		return 100, apperr.Invalid(CodeBadQuery, "$top must be a whole number from 1 to 999").WithTarget("$top")
	}
	return n, nil
}
