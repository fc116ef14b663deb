package signinlog

import (
	"fmt"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Alert is Graph's security alert (alerts_v2), as much of it as the lab
// raises: one per emergency-access sign-in.
type Alert struct {
	ID                 string          `json:"id"`
	Title              string          `json:"title"`
	Description        string          `json:"description"`
	Severity           string          `json:"severity"` // high
	Status             string          `json:"status"`   // new, inProgress, resolved
	CreatedDateTime    time.Time       `json:"createdDateTime"`
	LastUpdateDateTime time.Time       `json:"lastUpdateDateTime"`
	ResolvedDateTime   *time.Time      `json:"resolvedDateTime"`
	ServiceSource      string          `json:"serviceSource"`
	Evidence           []AlertEvidence `json:"evidence"`
	// SignInID names the sign-in that raised the alert. Not a Graph
	// property (Graph links through evidence the lab does not model).
	SignInID string `json:"signInId"`
}

// AlertEvidence is Graph's userEvidence.
type AlertEvidence struct {
	ODataType       string      `json:"@odata.type"`
	CreatedDateTime time.Time   `json:"createdDateTime"`
	UserAccount     UserAccount `json:"userAccount"`
}

// UserAccount is Graph's security userAccount.
type UserAccount struct {
	AzureADUserID     string `json:"azureAdUserId"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
}

// Alert values the lab uses.
const (
	AlertTitleEmergencySignIn = "Emergency access account sign-in"
	AlertSeverityHigh         = "high"
	AlertStatusNew            = "new"
	AlertStatusInProgress     = "inProgress"
	AlertStatusResolved       = "resolved"
)

// EmergencyAlert builds the alert an emergency-access sign-in raises: one
// that used a right credential (completed, or stopped later by step-up,
// Conditional Access or a disabled account), or the failure that locked
// the account out after a burst of wrong guesses.
func EmergencyAlert(alertID string, s SignIn) Alert {
	outcome := "succeeded"
	switch s.Status.ErrorCode {
	case 0:
	case 50053:
		outcome = "locked out after repeated failed attempts (error 50053)"
	default:
		outcome = fmt.Sprintf("went on past its first factor, then stopped (error %d)", s.Status.ErrorCode)
	}
	app := s.AppDisplayName
	if app == "" {
		app = s.AppID
	}
	return Alert{
		ID:    alertID,
		Title: AlertTitleEmergencySignIn,
		Description: fmt.Sprintf("Sign-in by emergency access account %s to %q from %s at %s %s (sign-in id %s).",
			s.UserPrincipalName, app, orUnknown(s.IPAddress), s.CreatedDateTime.UTC().Format(time.RFC3339), outcome, s.ID),
		Severity:           AlertSeverityHigh,
		Status:             AlertStatusNew,
		CreatedDateTime:    s.CreatedDateTime,
		LastUpdateDateTime: s.CreatedDateTime,
		ServiceSource:      "azureAdIdentityProtection",
		Evidence: []AlertEvidence{{
			ODataType:       "#microsoft.graph.security.userEvidence",
			CreatedDateTime: s.CreatedDateTime,
			UserAccount:     UserAccount{AzureADUserID: s.UserID, UserPrincipalName: s.UserPrincipalName, DisplayName: s.UserDisplayName},
		}},
		SignInID: s.ID,
	}
}

// AdminAlert builds an alert no sign-in raised (an administrator's forced
// override of lockout protection), about the user who made the change.
func AdminAlert(alertID, title, description string, user UserAccount, at time.Time) Alert {
	return Alert{
		ID: alertID, Title: title, Description: description, Severity: AlertSeverityHigh, Status: AlertStatusNew,
		CreatedDateTime: at, LastUpdateDateTime: at, ServiceSource: "azureAdIdentityProtection",
		Evidence: []AlertEvidence{{ODataType: "#microsoft.graph.security.userEvidence", CreatedDateTime: at, UserAccount: user}},
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown address"
	}
	return s
}

// ValidateAlertStatus accepts the statuses an administrator may set.
func ValidateAlertStatus(status string) error {
	switch status {
	case AlertStatusNew, AlertStatusInProgress, AlertStatusResolved:
		return nil
	}
	return apperr.Invalid(CodeInvalidAlertStatus, "status must be new, inProgress or resolved, not %q", status).WithTarget("status")
}
