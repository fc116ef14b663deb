package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// authContextID is Entra's authentication context id: c1 to c99.
var authContextID = regexp.MustCompile(`^c([1-9]|[1-9][0-9])$`)

// ValidAuthContextID reports whether id names an authentication context.
func ValidAuthContextID(id string) bool { return authContextID.MatchString(id) }

type claimsKey struct{}

// claimsParam is the parsed claims parameter, or the error parsing it.
type claimsParam struct {
	contexts []string
	err      *oidc.Error
}

// withClaimsParam reads the claims authorization parameter (OIDC Core
// 5.5), which op does not parse, into the request context. Entra's claims
// challenge asks for authentication contexts this way:
// {"access_token":{"acrs":{"essential":true,"value":"c1"}}} (or "values").
func withClaimsParam(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.Query().Get("claims")
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err == nil && r.PostForm.Get("claims") != "" {
				raw = r.PostForm.Get("claims")
			}
		}
		if raw != "" {
			cp := parseClaims(raw)
			r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, cp))
		}
		next.ServeHTTP(w, r)
	})
}

type claimRequest struct {
	Essential bool     `json:"essential"`
	Value     string   `json:"value"`
	Values    []string `json:"values"`
}

func parseClaims(raw string) claimsParam {
	if len(raw) > 4096 {
		return claimsParam{err: oidc.ErrInvalidRequest().WithDescription("the claims parameter is longer than 4096 characters")}
	}
	var doc map[string]map[string]*claimRequest
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return claimsParam{err: oidc.ErrInvalidRequest().WithDescription("the claims parameter is not a JSON object of claim requests: %s", err.Error())}
	}
	var out []string
	for member, claims := range doc {
		if member != "id_token" && member != "access_token" && member != "userinfo" {
			return claimsParam{err: oidc.ErrInvalidRequest().WithDescription("the claims parameter may hold id_token, access_token and userinfo, not %s", member)}
		}
		for name, cr := range claims {
			if name != "acrs" {
				// Other claims are not on request here: say so instead of
				// pretending to honour them.
				return claimsParam{err: oidc.ErrInvalidRequest().WithDescription("the lab's claims parameter supports only acrs (authentication contexts), not %s", name)}
			}
			if cr == nil {
				continue
			}
			vals := cr.Values
			if cr.Value != "" {
				vals = append(vals, cr.Value)
			}
			for _, v := range vals {
				if !ValidAuthContextID(v) {
					return claimsParam{err: oidc.ErrInvalidRequest().WithDescription("acrs values must be authentication context ids c1..c99, not %s", v)}
				}
				if !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
		}
	}
	return claimsParam{contexts: out}
}

// requestedContexts merges acr_values and the claims parameter into the
// authentication contexts the app asks for.
func requestedContexts(ctx context.Context, req *oidc.AuthRequest) ([]string, error) {
	var out []string
	if cp, ok := ctx.Value(claimsKey{}).(claimsParam); ok {
		if cp.err != nil {
			return nil, cp.err
		}
		out = append(out, cp.contexts...)
	}
	for _, v := range req.ACRValues {
		if !ValidAuthContextID(v) {
			return nil, oidc.ErrInvalidRequest().WithDescription("acr_values must be authentication context ids c1..c99, not %s", v)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}
