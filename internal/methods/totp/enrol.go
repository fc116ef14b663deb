package totp

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/tokens"
)

// Method is a registered softwareOath method; the secret stays sealed.
type Method struct {
	ID           string
	UserID       string
	SealedSecret []byte
	LastStep     int64
	CreatedAt    time.Time
}

// Store keeps the methods (internal/store).
type Store interface {
	AddTOTP(ctx context.Context, m Method) (Method, error)
}

// Registrar enrols authenticator apps for verification codes. Whether the
// user may add one now is the methods service's rule on changing one's
// own methods, applied before (methods.Service.AuthorizeOwnChange);
// verifying codes is the sign-in flow's (internal/signin).
type Registrar struct {
	Store  Store
	Sealer *tokens.Sealer
	// Issuer is the name authenticator apps show for the account.
	Issuer string
}

// New is a registered method's secret, returned once (to show as a QR
// code); only its sealed form is stored.
type New struct {
	ID        string `json:"id"`
	SecretKey string `json:"secretKey"`
	URI       string `json:"otpauthUri"`
}

// Register makes a secret, stores it sealed (bound to the method's id) and
// returns it for the user's app.
func (r *Registrar) Register(ctx context.Context, userID, upn string) (New, error) {
	secret := NewSecret()
	id := uuid.NewString()
	sealed, err := r.Sealer.Seal(secret, "totp:"+id)
	if err != nil {
		return New{}, err
	}
	if _, err := r.Store.AddTOTP(ctx, Method{ID: id, UserID: userID, SealedSecret: sealed}); err != nil {
		return New{}, err
	}
	return New{ID: id, SecretKey: EncodeSecret(secret), URI: ProvisioningURI(secret, r.Issuer, upn)}, nil
}
