package api

import "net/http"

// snoozeCampaign is POST /signin/registrationCampaign/snooze: the signed-in
// user skips the registration campaign's interrupt for snoozeDurationInDays.
func (s *Server) snoozeCampaign(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		var empty struct{}
		if err := decodeJSON(r, &empty); err != nil {
			writeError(w, r, err)
			return
		}
	}
	n, err := s.deps.SignIn.SnoozeRegistrationCampaign(r.Context(), sessionOf(r.Context()).Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}
