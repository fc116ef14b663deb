package conditionalaccess

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
)

// mergePatch applies a Graph PATCH body to cur and decodes the result into
// out. Objects merge property by property (OData's rule for complex
// properties), while arrays and scalars, null included, replace the stored
// value. The merged document is decoded strictly, so an unknown property
// anywhere in the body is refused, as on create.
func mergePatch(cur any, patch []byte, out any) error {
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body == nil {
		return apperr.Invalid(CodeBadJSON, "the PATCH body must be a JSON object")
	}
	raw, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	var base map[string]any
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&base); err != nil {
		return err
	}
	mergeInto(base, body)
	merged, err := json.Marshal(base)
	if err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return decodeError(err)
	}
	return nil
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeInto(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}

// decodeError classifies a strict-decoding failure the way the HTTP layer
// does for request bodies.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return apperr.Invalid(CodeBadJSON, "property %q has the wrong type: want %s", typeErr.Field, typeErr.Type).WithTarget(typeErr.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Invalid(CodeUnknownProperty, "property %q is not known on this resource", field).WithTarget(field)
	case errors.Is(err, io.EOF):
		return apperr.Invalid(CodeBadJSON, "the body is empty")
	}
	return apperr.Invalid(CodeBadJSON, "the body could not be read: %v", err)
}
