package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods/totp"
)

// NewTOTP registers an authenticator app for verification codes; the secret
// is returned once (to show as a QR code) and stored sealed.
type NewTOTP struct {
	ID        string `json:"id"`
	SecretKey string `json:"secretKey"`
	URI       string `json:"otpauthUri"`
}

func (s *Service) RegisterTOTP(ctx context.Context, userID, upn string) (NewTOTP, error) {
	secret := totp.NewSecret()
	id := uuid.NewString()
	sealed, err := s.d.Sealer.Seal(secret, "totp:"+id)
	if err != nil {
		return NewTOTP{}, err
	}
	if _, err := s.d.Factors.AddTOTP(ctx, TOTPMethod{ID: id, UserID: userID, SealedSecret: sealed}); err != nil {
		return NewTOTP{}, err
	}
	return NewTOTP{ID: id, SecretKey: totp.EncodeSecret(secret), URI: totp.ProvisioningURI(secret, s.d.RPName, upn)}, nil
}

// NewPush registers an emulated Authenticator app; the device token is what
// the "phone" presents to approve pushes, shown once.
type NewPush struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	DeviceToken string `json:"deviceToken"`
}

func (s *Service) RegisterPush(ctx context.Context, userID, name string) (NewPush, error) {
	if name == "" {
		name = "Microsoft Authenticator"
	}
	if utf8.RuneCountInString(name) > 128 {
		return NewPush{}, apperr.Invalid(CodeInvalidDisplayName, "displayName must be at most 128 characters").WithTarget("displayName")
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	m, err := s.d.Factors.AddPushMethod(ctx, PushMethod{ID: uuid.NewString(), UserID: userID, DisplayName: name, DeviceTokenHash: sum[:]})
	if err != nil {
		return NewPush{}, err
	}
	return NewPush{ID: m.ID, DisplayName: m.DisplayName, DeviceToken: tok}, nil
}
