package push

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeInvalidDisplayName refuses an app name that is too long.
const CodeInvalidDisplayName = "invalidDisplayName"

// Method is a registered (emulated) Microsoft Authenticator app.
type Method struct {
	ID              string
	UserID          string
	DisplayName     string
	DeviceTokenHash []byte
	CreatedAt       time.Time
}

// Store keeps the methods (internal/store).
type Store interface {
	AddPushMethod(ctx context.Context, m Method) (Method, error)
}

// Registrar enrols emulated Authenticator apps. Whether the user may add
// one now is the methods service's rule (methods.Service.AuthorizeOwnChange);
// sending and answering pushes is the sign-in flow's (internal/signin).
type Registrar struct {
	Store Store
}

// New is a registered app and its device token, shown once: what the
// "phone" presents to answer pushes. Only the token's SHA-256 is stored.
type New struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	DeviceToken string `json:"deviceToken"`
}

// Register stores a new app for the user.
func (r *Registrar) Register(ctx context.Context, userID, name string) (New, error) {
	if name == "" {
		name = "Microsoft Authenticator"
	}
	if utf8.RuneCountInString(name) > 128 {
		return New{}, apperr.Invalid(CodeInvalidDisplayName, "displayName must be at most 128 characters").WithTarget("displayName")
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	m, err := r.Store.AddPushMethod(ctx, Method{ID: uuid.NewString(), UserID: userID, DisplayName: name, DeviceTokenHash: sum[:]})
	if err != nil {
		return New{}, err
	}
	return New{ID: m.ID, DisplayName: m.DisplayName, DeviceToken: tok}, nil
}
