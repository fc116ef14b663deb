package ceremony

import (
	"context"
	"encoding/base64"
)

// SignalState is what a page needs for the WebAuthn Signal API
// (PublicKeyCredential.signalAllAcceptedCredentials and
// signalCurrentUserDetails): the RP ID, the user handle the passkeys were
// made with, the user's names, and the credential IDs this server still
// accepts, so the browser's passkey manager can drop deleted ones and show
// current names. IDs are base64url, as the Signal API takes them.
type SignalState struct {
	RPID                     string   `json:"rpId"`
	UserID                   string   `json:"userId"`
	Name                     string   `json:"name"`
	DisplayName              string   `json:"displayName"`
	AllAcceptedCredentialIDs []string `json:"allAcceptedCredentialIds"`
}

// SignalState returns userID's signal state.
func (s *Service) SignalState(ctx context.Context, userID string) (SignalState, error) {
	u, err := s.activeUser(ctx, userID)
	if err != nil {
		return SignalState{}, err
	}
	creds, err := s.store.ListCredentials(ctx, userID)
	if err != nil {
		return SignalState{}, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	out := SignalState{RPID: s.cfg.RPID, UserID: b64((&waUser{info: u}).WebAuthnID()), Name: u.Name, DisplayName: u.DisplayName,
		AllAcceptedCredentialIDs: make([]string, 0, len(creds))}
	for _, c := range creds {
		if !c.CloneSuspected {
			out.AllAcceptedCredentialIDs = append(out.AllAcceptedCredentialIDs, b64(c.ID))
		}
	}
	return out, nil
}
