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
)

// decodeJSON reads exactly one JSON object into v, refusing unknown
// properties, trailing data, other content types and bodies over the cap
// (the cap itself is set by the limitBody middleware).
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return apperr.Invalid(CodeBadContentType, "send the body as application/json")
		}
	}
	dec := json.NewDecoder(r.Body)
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

// collection is Graph's list envelope.
type collection[T any] struct {
	Context  string `json:"@odata.context,omitempty"`
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink,omitempty"`
}

func fmtInt(n int) string { return fmt.Sprint(n) }
