//go:build tools

package tools

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/go-chi/chi/v5"
	_ "github.com/go-webauthn/webauthn/webauthn"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/google/uuid"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/tern/v2/migrate"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "golang.org/x/crypto/argon2"
)
