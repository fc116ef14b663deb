package apps

import (
	"context"
	"time"
)

// Application is Graph's application (the subset the lab honours).
type Application struct {
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	Description            string                   `json:"description"`
	SignInAudience         string                   `json:"signInAudience"`
	Web                    WebApplication           `json:"web"`
	Spa                    SpaApplication           `json:"spa"`
	PublicClient           PublicClientApplication  `json:"publicClient"`
	IsFallbackPublicClient bool                     `json:"isFallbackPublicClient"`
	PasswordCredentials    []PasswordCredential     `json:"passwordCredentials"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
	CreatedDateTime        time.Time                `json:"createdDateTime"`
}

// WebApplication is Graph's webApplication: a confidential client that
// authenticates with a secret.
type WebApplication struct {
	RedirectURIs []string `json:"redirectUris"`
	LogoutURL    string   `json:"logoutUrl,omitempty"`
}

// SpaApplication is Graph's spaApplication: a public browser client (PKCE).
type SpaApplication struct {
	RedirectURIs []string `json:"redirectUris"`
}

// PublicClientApplication is Graph's publicClientApplication: a native or
// mobile client (PKCE, no secret).
type PublicClientApplication struct {
	RedirectURIs []string `json:"redirectUris"`
}

// RequiredResourceAccess is Graph's requiredResourceAccess. The lab keeps it
// so scripts round-trip, but does not run a consent framework.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is Graph's resourceAccess (type Scope or Role).
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// PasswordCredential is Graph's passwordCredential. SecretText is set only in
// the answer to addPassword; SecretHash never leaves the server.
type PasswordCredential struct {
	KeyID               string    `json:"keyId"`
	DisplayName         string    `json:"displayName"`
	Hint                string    `json:"hint"`
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
	CustomKeyIdentifier *string   `json:"customKeyIdentifier"`
	SecretText          *string   `json:"secretText"`
	SecretHash          string    `json:"-"`
}

// ServicePrincipal is Graph's servicePrincipal.
type ServicePrincipal struct {
	ID                        string    `json:"id"`
	AppID                     string    `json:"appId"`
	DisplayName               string    `json:"displayName"`
	AppDisplayName            string    `json:"appDisplayName"`
	AccountEnabled            bool      `json:"accountEnabled"`
	AppRoleAssignmentRequired bool      `json:"appRoleAssignmentRequired"`
	AppOwnerOrganizationID    *string   `json:"appOwnerOrganizationId"`
	ServicePrincipalType      string    `json:"servicePrincipalType"`
	ServicePrincipalNames     []string  `json:"servicePrincipalNames"`
	ReplyURLs                 []string  `json:"replyUrls"`
	Tags                      []string  `json:"tags"`
	CreatedDateTime           time.Time `json:"-"`
}

// ApplicationPatch holds what PATCH may change; nil means unchanged.
type ApplicationPatch struct {
	DisplayName            *string
	Description            *string
	Web                    *WebApplication
	Spa                    *SpaApplication
	PublicClient           *PublicClientApplication
	IsFallbackPublicClient *bool
	RequiredResourceAccess *[]RequiredResourceAccess
}

// ServicePrincipalPatch holds what PATCH may change; nil means unchanged.
type ServicePrincipalPatch struct {
	AccountEnabled            *bool
	AppRoleAssignmentRequired *bool
	Tags                      *[]string
}

// Page is keyset paging over ids.
type Page struct {
	Top   int
	After string
}

// Store persists applications and service principals. NotFound and Conflict
// come back as apperr errors.
type Store interface {
	CreateApplication(ctx context.Context, a Application) (Application, error)
	GetApplication(ctx context.Context, id string) (Application, error)
	ApplicationByAppID(ctx context.Context, appID string) (Application, error)
	ListApplications(ctx context.Context, p Page) ([]Application, error)
	UpdateApplication(ctx context.Context, id string, p ApplicationPatch) (Application, error)
	DeleteApplication(ctx context.Context, id string) error
	// AddPassword stores a credential (with its hash) unless the application
	// already holds max of them.
	AddPassword(ctx context.Context, applicationID string, c PasswordCredential, max int) error
	RemovePassword(ctx context.Context, applicationID, keyID string) error
	// PasswordHashes lists the app's credentials by appId, hashes included.
	PasswordHashes(ctx context.Context, appID string) ([]PasswordCredential, error)

	CreateServicePrincipal(ctx context.Context, sp ServicePrincipal) (ServicePrincipal, error)
	GetServicePrincipal(ctx context.Context, id string) (ServicePrincipal, error)
	ServicePrincipalByAppID(ctx context.Context, appID string) (ServicePrincipal, error)
	ListServicePrincipals(ctx context.Context, p Page) ([]ServicePrincipal, error)
	UpdateServicePrincipal(ctx context.Context, id string, p ServicePrincipalPatch) (ServicePrincipal, error)
	DeleteServicePrincipal(ctx context.Context, id string) error
}
