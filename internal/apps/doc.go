// Package apps owns app registrations the way Graph shapes them: an
// application (the registration: appId, redirect URIs per platform, client
// secrets) and its servicePrincipal (the app in this tenant, which can be
// disabled or restricted). Names and types follow Graph's v1.0 CSDL
// (microsoftgraph/msgraph-metadata, schemas/v1.0-Prod.csdl: EntityType
// application, servicePrincipal; ComplexType webApplication, spaApplication,
// publicClientApplication, passwordCredential, requiredResourceAccess; the
// bound actions addPassword and removePassword).
//
// A client secret is generated here, returned once as secretText and stored
// only as an argon2id hash (internal/secrethash): the OpenID Connect provider
// checks a presented secret against the hashes of the app's unexpired
// credentials.
package apps
