package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Stable codes for malformed requests.
const (
	CodeBadJSON            = "invalidRequestBody"
	CodeUnknownProperty    = "unknownProperty"
	CodeBodyTooLarge       = "requestBodyTooLarge"
	CodeBadContentType     = "unsupportedContentType"
	CodeBadQuery           = "invalidQueryParameter"
	CodeMethodNotAllowed   = "methodNotAllowed"
	CodeRouteNotFound      = "Request_UnsupportedQuery"
	CodeAuthorizationError = "Authorization_RequestDenied"
	CodeNULCharacter       = "nulCharacterNotAllowed"
)

// decodeJSON reads exactly one JSON object into v, refusing unknown
// properties, trailing data, other content types and bodies over the cap
// (the cap itself is set by the limitBody middleware).
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if err := checkContentType(ct); err != nil {
			return err
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	if err := refuseNUL(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apperr.Invalid(CodeBadJSON, "the body must hold exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonError(err)
		}
		return apperr.Invalid(CodeBadJSON, "the body must hold exactly one JSON object")
	}
	return nil
}

// refuseNUL refuses a JSON text holding a NUL character in any string (key
// or value). No property of the API can carry one, and PostgreSQL's text
// cannot store it: let through, it would surface as a 500 wherever the
// string reaches the database. A raw NUL byte is already invalid JSON; the
// escape \u0000 is found with one scan, and only when it appears is the
// text tokenised to tell an escaped backslash followed by "u0000" from a
// real NUL.
func refuseNUL(body []byte) error {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	key := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // malformed JSON is the decoder's to report
		}
		if s, ok := tok.(string); ok {
			if strings.IndexByte(s, 0) >= 0 {
				target := key
				if target == "" {
					target = s
				}
				return apperr.Invalid(CodeNULCharacter, "a string in the body holds a NUL character (\\u0000), which no property accepts").WithTarget(strings.ToValidUTF8(strings.ReplaceAll(target, "\x00", ""), ""))
			}
			key = s
		}
	}
}

// refuseNULInURL refuses a request whose path or query holds a NUL (%00),
// for the same reason as refuseNUL, before any handler sees it.
func refuseNULInURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.IndexByte(r.URL.Path, 0) >= 0 || strings.Contains(r.URL.RawQuery, "%00") || strings.IndexByte(r.URL.RawQuery, 0) >= 0 {
			writeError(w, r, apperr.Invalid(CodeNULCharacter, "the URL holds a NUL character (%%00), which no path segment or query option accepts"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkContentType admits application/json only.
func checkContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return apperr.Invalid(CodeBadContentType, "send the body as application/json")
	}
	return nil
}

func jsonError(err error) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return apperr.TooLarge(CodeBodyTooLarge, "the request body exceeds %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return apperr.Invalid(CodeBadJSON, "the request body is empty; a JSON object is required")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Invalid(CodeBadJSON, "the request body is not valid JSON: %v", err)
	case errors.As(err, &typeErr):
		return apperr.Invalid(CodeBadJSON, "property %q has the wrong type: want %s", typeErr.Field, typeErr.Type).WithTarget(typeErr.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Invalid(CodeUnknownProperty, "property %q is not known on this resource", field).WithTarget(field)
	}
	return apperr.Invalid(CodeBadJSON, "the request body could not be read: %v", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"InternalServerError","message":"response encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func fmtInt(n int) string { return fmt.Sprint(n) }
