// Package reports holds the authentication-methods reports an admin reads
// during a rollout (Graph's /reports/authenticationMethods): who has
// registered what, who is MFA and passwordless capable, how many users per
// method. The store gathers each user's raw facts in one statement; this
// package turns them into Graph's shapes, so the rules (what counts as MFA
// registered, which passkey kind a credential is) are pure and tested here.
package reports

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/odata"
)

// Facts is what the store knows of one user's registrations.
type Facts struct {
	UserID, UserPrincipalName, DisplayName string
	IsAdmin                                bool // holds any directory role
	Passkeys                               []Passkey
	Push, TOTP, ActiveTAP, Password        bool
	LastUpdated                            time.Time // the newest registration or the account's creation
}

// Passkey is one registered credential, as far as its kind goes.
type Passkey struct {
	AAGUID         uuid.UUID
	BackupEligible bool
}

// Microsoft Authenticator's passkey AAGUIDs (iOS, Android), which Graph
// reports as passKeyDeviceBoundAuthenticator.
var authenticatorAAGUIDs = []uuid.UUID{
	uuid.MustParse("90a3ccdf-635c-4729-a248-9b709135078f"),
	uuid.MustParse("de1e552d-db1d-4423-a619-566b625cdc84"),
}

// Method names are Graph's (userRegistrationDetails.methodsRegistered and
// userRegistrationMethodCount.authenticationMethod; the evolvable members
// of usageAuthMethod on Microsoft Learn).
const (
	MethodPasskeyDeviceBound              = "passKeyDeviceBound"
	MethodPasskeyDeviceBoundAuthenticator = "passKeyDeviceBoundAuthenticator"
	MethodPasskeySynced                   = "passKeySynced"
	MethodAuthenticatorPush               = "microsoftAuthenticatorPush"
	MethodSoftwareOTP                     = "softwareOneTimePasscode"
	MethodTemporaryAccessPass             = "temporaryAccessPass"
	MethodPassword                        = "password"
)

// Methods lists every method the lab can report, in Graph's order.
var Methods = []string{MethodPassword, MethodAuthenticatorPush, MethodSoftwareOTP, MethodTemporaryAccessPass,
	MethodPasskeyDeviceBound, MethodPasskeyDeviceBoundAuthenticator, MethodPasskeySynced}

// UserRegistrationDetails is Graph's userRegistrationDetails (v1.0 CSDL,
// microsoftgraph/msgraph-metadata schemas/v1.0-Prod.csdl).
type UserRegistrationDetails struct {
	ID                                            string    `json:"id"`
	UserPrincipalName                             string    `json:"userPrincipalName"`
	UserDisplayName                               string    `json:"userDisplayName"`
	UserType                                      string    `json:"userType"`
	IsAdmin                                       bool      `json:"isAdmin"`
	IsSsprRegistered                              bool      `json:"isSsprRegistered"`
	IsSsprEnabled                                 bool      `json:"isSsprEnabled"`
	IsSsprCapable                                 bool      `json:"isSsprCapable"`
	IsMfaRegistered                               bool      `json:"isMfaRegistered"`
	IsMfaCapable                                  bool      `json:"isMfaCapable"`
	IsPasswordlessCapable                         bool      `json:"isPasswordlessCapable"`
	MethodsRegistered                             []string  `json:"methodsRegistered"`
	IsSystemPreferredAuthenticationMethodEnabled  bool      `json:"isSystemPreferredAuthenticationMethodEnabled"`
	SystemPreferredAuthenticationMethods          []string  `json:"systemPreferredAuthenticationMethods"`
	UserPreferredMethodForSecondaryAuthentication string    `json:"userPreferredMethodForSecondaryAuthentication"`
	LastUpdatedDateTime                           time.Time `json:"lastUpdatedDateTime"`
}

// passkeyKind is how Graph names a credential's kind.
func passkeyKind(p Passkey) string {
	switch {
	case p.BackupEligible:
		return MethodPasskeySynced
	case slices.Contains(authenticatorAAGUIDs, p.AAGUID):
		return MethodPasskeyDeviceBoundAuthenticator
	default:
		return MethodPasskeyDeviceBound
	}
}

// Details computes a user's row. The lab's rules, where Entra's are not
// published in full: a user is MFA registered with any method usable as a
// second factor (a passkey, push or a TOTP app: a TAP is a bootstrap, not a
// registration); MFA capable means the same here (every method the lab
// models is enabled by policy before it can be registered); passwordless
// capable with a passkey. The lab has no self-service password reset, so
// the three SSPR flags are false; every account is a member. The lab
// always uses the system-preferred method (it picks the strongest
// registered one: docs/signin-flow.md).
func Details(f Facts) UserRegistrationDetails {
	d := UserRegistrationDetails{
		ID: f.UserID, UserPrincipalName: f.UserPrincipalName, UserDisplayName: f.DisplayName, UserType: "member",
		IsAdmin: f.IsAdmin, MethodsRegistered: []string{}, SystemPreferredAuthenticationMethods: []string{},
		IsSystemPreferredAuthenticationMethodEnabled: true, UserPreferredMethodForSecondaryAuthentication: "none",
		LastUpdatedDateTime: f.LastUpdated.UTC(),
	}
	add := func(m string) {
		if !slices.Contains(d.MethodsRegistered, m) {
			d.MethodsRegistered = append(d.MethodsRegistered, m)
		}
	}
	if f.Password {
		add(MethodPassword)
	}
	if f.Push {
		add(MethodAuthenticatorPush)
	}
	if f.TOTP {
		add(MethodSoftwareOTP)
	}
	if f.ActiveTAP {
		add(MethodTemporaryAccessPass)
	}
	for _, p := range f.Passkeys {
		add(passkeyKind(p))
	}
	d.IsPasswordlessCapable = len(f.Passkeys) > 0
	d.IsMfaRegistered = d.IsPasswordlessCapable || f.Push || f.TOTP
	d.IsMfaCapable = d.IsMfaRegistered
	switch {
	case f.Push:
		d.UserPreferredMethodForSecondaryAuthentication = "push"
	case f.TOTP:
		d.UserPreferredMethodForSecondaryAuthentication = "oath"
	}
	switch {
	case len(f.Passkeys) > 0:
		d.SystemPreferredAuthenticationMethods = []string{"Fido2"}
	case f.Push:
		d.SystemPreferredAuthenticationMethods = []string{"Push"}
	case f.TOTP:
		d.SystemPreferredAuthenticationMethods = []string{"Oath"}
	}
	return d
}

// RegistrationResource is what GET .../userRegistrationDetails honours,
// from Graph's "List userRegistrationDetails" reference: $filter on the
// flags, the user's names and type (eq; startsWith on the names), $orderby
// on the names, $top and $skiptoken, $select. Graph also filters
// methodsRegistered with a lambda (any), which the lab's parser does not
// read: it is refused.
var RegistrationResource = &odata.Resource{Name: "userRegistrationDetails", Select: true, Top: true, MaxTop: 999,
	OrderBy: []string{"userPrincipalName", "userDisplayName"},
	Filter: []odata.Property{
		{Name: "id", Type: odata.GUID, Ops: []string{"eq"}},
		{Name: "userPrincipalName", Type: odata.String, Ops: []string{"eq", "startsWith"}},
		{Name: "userDisplayName", Type: odata.String, Ops: []string{"eq", "startsWith"}},
		{Name: "userType", Type: odata.Enum, Ops: []string{"eq"}, Values: []string{"member", "guest"}},
		{Name: "isAdmin", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isMfaRegistered", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isMfaCapable", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isPasswordlessCapable", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isSsprRegistered", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isSsprEnabled", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isSsprCapable", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "isSystemPreferredAuthenticationMethodEnabled", Type: odata.Bool, Ops: []string{"eq"}},
		{Name: "userPreferredMethodForSecondaryAuthentication", Type: odata.Enum, Ops: []string{"eq"},
			Values: []string{"push", "oath", "voiceMobile", "voiceAlternateMobile", "voiceOffice", "sms", "none", "unknownFutureValue"}},
	}}

// MethodSummary is Graph's userRegistrationMethodSummary.
type MethodSummary struct {
	TotalUserCount              int64         `json:"totalUserCount"`
	UserRegistrationMethodCount []MethodCount `json:"userRegistrationMethodCounts"`
	UserRoles                   string        `json:"userRoles"`
	UserTypes                   string        `json:"userTypes"`
}

// MethodCount is Graph's userRegistrationMethodCount.
type MethodCount struct {
	AuthenticationMethod string `json:"authenticationMethod"`
	UserCount            int64  `json:"userCount"`
}

// UsersByMethod is usersRegisteredByMethod over the users' details: roles
// is Graph's includedUserRoles (all, privilegedAdmin, admin, user; the lab
// counts every role holder as admin and as privileged), types its
// includedUserTypes (all, member, guest).
func UsersByMethod(all []UserRegistrationDetails, roles, types string) MethodSummary {
	s := MethodSummary{UserRoles: roles, UserTypes: types}
	counts := map[string]int64{}
	for _, d := range all {
		if (roles == "admin" || roles == "privilegedAdmin") && !d.IsAdmin || roles == "user" && d.IsAdmin || types == "guest" {
			continue
		}
		s.TotalUserCount++
		for _, m := range d.MethodsRegistered {
			counts[m]++
		}
	}
	for _, m := range Methods {
		s.UserRegistrationMethodCount = append(s.UserRegistrationMethodCount, MethodCount{AuthenticationMethod: m, UserCount: counts[m]})
	}
	return s
}
