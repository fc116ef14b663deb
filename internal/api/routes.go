package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rpserver/rpserver/web"
)

// routes is the route table: every route the server answers, in one place,
// grouped by path (pkgsite's Install). Adding a Graph resource is a line
// here, a handler file and a service method. Who may call an admin route
// is on its line (allow, with the role lists kept next to the handlers);
// the end user's routes say whether they need a session, count failures
// towards the client's cool-down (limited) or change the user's own
// methods (ownMethodChange).
func (s *Server) routes(r chi.Router) {
	// Probes and keys, unauthenticated.
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	r.Get("/readyz", s.ready)
	r.Handle("/metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	r.Get("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.deps.Issuer.JWKS()) })

	// The pages and their assets.
	web.Register(r)

	// The sign-in flow: a first factor, Conditional Access, step-up.
	r.Post("/signin/begin", s.signInBegin)
	r.Post("/signin/password", s.limited(s.signInPassword))
	r.Post("/signin/tap", s.limited(s.signInTAP))
	r.Post("/signin/totp", s.limited(s.signInTOTP))
	r.Post("/signin/push/begin", s.signInPushBegin)
	r.Post("/signin/push/complete", s.signInPushComplete)
	r.Post("/signin/passkey/begin", s.signInPasskeyBegin)
	r.Post("/signin/passkey/finish", s.limitedInService(s.signInPasskeyFinish))
	r.Post("/signout", s.signOut)
	// The phone's side of a push (Microsoft Authenticator, emulated).
	r.Post("/authenticator/push/respond", s.limited(s.respondPush))
	r.Post("/authenticator/push/pending", s.limited(s.pendingPushes))

	// The OpenID Connect provider (its own router: discovery, authorize,
	// token, userinfo, JWKS, logout) and the bridge from its authorization
	// requests to the sign-in flow.
	// The endpoints a client authenticates at with a secret (token, revoke)
	// run argon2 on a guess: they go through the failure limiter like every
	// other guessable credential.
	oidcHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.deps.OIDC.CookieFree(r.URL.Path) {
			s.limited(s.deps.OIDC.ServeHTTP)(w, r)
			return
		}
		s.deps.OIDC.ServeHTTP(w, r)
	})
	for _, rt := range s.deps.OIDC.Routes() {
		if rt.Method == "" {
			r.Handle(rt.Pattern, oidcHandler)
		} else {
			r.Method(rt.Method, rt.Pattern, oidcHandler)
		}
	}
	r.Get("/oauth2/login", s.oidcLogin)
	r.Post("/oauth2/login/begin", s.oidcLoginBegin)
	r.Get("/oauth2/login/complete", s.oidcLoginComplete)

	// WebAuthn ceremonies.
	r.Post("/webauthn/authentication/begin", s.beginLogin)
	r.Post("/webauthn/authentication/finish", s.limitedInService(s.finishLogin))
	r.Get("/webauthn/authenticators", s.listAuthenticators)
	r.Get("/webauthn/authenticators/{aaguid}", s.authenticatorInfo)
	r.Get("/.well-known/webauthn", s.relatedOrigins)

	// The signed-in user's own calls (a session cookie or token).
	r.Group(func(r chi.Router) {
		r.Use(s.requireSession)
		r.With(s.ownMethodChange).Post("/webauthn/registration/begin", s.beginRegistration)
		r.With(s.ownMethodChange).Post("/webauthn/registration/finish", s.limited(s.finishRegistration))

		r.Get("/me", s.me)
		r.Post("/signin/registrationCampaign/snooze", s.snoozeCampaign)
		r.Post("/me/revokeSignInSessions", s.revokeMySessions)
		r.Get("/me/webauthn/signals", s.mySignalState)
		r.Get("/me/authentication/fido2Methods", s.listMyFido2)
		r.Get("/me/authentication/fido2Methods/{methodId}", s.getMyFido2)
		r.With(s.ownMethodChange).Patch("/me/authentication/fido2Methods/{methodId}", s.renameMyFido2)
		r.With(s.ownMethodChange).Delete("/me/authentication/fido2Methods/{methodId}", s.deleteMyFido2)
		r.With(s.ownMethodChange).Post("/me/authentication/softwareOathMethods", s.registerMyTOTP)
		r.With(s.ownMethodChange).Post("/me/authentication/microsoftAuthenticatorMethods", s.registerMyPush)
	})
	// A session traded for an admin token (the admin pages): a sign-in to
	// the admin API's application, which a step-up session for it may make.
	r.With(s.requireAdminExchangeSession).Post("/admin/token", s.adminToken)
	// The admin API's route table with the roles of each route, for the
	// pages to show what a token may change (read from the allow gates).
	r.With(s.authenticate).Get("/admin/permissions", s.adminPermissions)

	// The Graph-shaped admin API, under both versions, with a bearer token.
	for _, version := range []string{"/v1.0", "/beta"} {
		r.Route(version, func(r chi.Router) {
			r.Use(s.authenticate)
			s.graphRoutes(r)
		})
	}
}

// graphRoutes are the admin API's resources, by Graph path.
func (s *Server) graphRoutes(r chi.Router) {
	// /users
	r.With(allow(directoryReaders...)).Get("/users", s.listUsers)
	r.With(allow(userWriters...)).Post("/users", s.createUser)
	r.With(allow(directoryReaders...)).Get("/users/{id}", s.getUser)
	r.With(allow(userPatchers...)).Patch("/users/{id}", s.updateUser)
	r.With(allow(userDeleters...)).Delete("/users/{id}", s.deleteUser)
	r.With(allow(directoryReaders...)).Get("/users/{id}/memberOf", s.memberOf)
	// Cast segments, with the namespace or its alias (the SDK sends graph.group).
	r.With(allow(directoryReaders...)).Get("/users/{id}/memberOf/microsoft.graph.group", s.memberOf)
	r.With(allow(directoryReaders...)).Get("/users/{id}/memberOf/graph.group", s.memberOf)
	r.With(allow(userMethodReaders...)).Get("/users/{id}/authentication/methods", s.listMethods)
	r.With(allow(userMethodReaders...)).Get("/users/{id}/authentication/methods/{methodId}", s.getMethod)
	const authn = "/users/{id}/authentication/"
	r.With(allow(userMethodReaders...)).Get(authn+"passwordMethods", s.listPasswordMethods)
	r.With(allow(userMethodReaders...)).Get(authn+"passwordMethods/{methodId}", s.getPasswordMethod)
	r.With(allow(userMethodReaders...)).Get(authn+"softwareOathMethods", s.listSoftwareOathMethods)
	r.With(allow(userMethodReaders...)).Get(authn+"softwareOathMethods/{methodId}", s.getSoftwareOathMethod)
	r.With(allow(userMethodWriters...)).Delete(authn+"softwareOathMethods/{methodId}", s.deleteSoftwareOathMethod)
	r.With(allow(userMethodReaders...)).Get(authn+"microsoftAuthenticatorMethods", s.listAuthenticatorMethods)
	r.With(allow(userMethodReaders...)).Get(authn+"microsoftAuthenticatorMethods/{methodId}", s.getAuthenticatorMethod)
	r.With(allow(userMethodWriters...)).Delete(authn+"microsoftAuthenticatorMethods/{methodId}", s.deleteAuthenticatorMethod)
	r.With(allow(sessionRevokers...)).Post("/users/{id}/revokeSignInSessions", s.revokeSessions)

	const taps = "/users/{id}/authentication/temporaryAccessPassMethods"
	r.With(allow(userMethodWriters...)).Post(taps, s.issueTAP)
	r.With(allow(userMethodReaders...)).Get(taps, s.listTAPs)
	r.With(allow(userMethodReaders...)).Get(taps+"/{methodId}", s.getTAP)
	r.With(allow(userMethodWriters...)).Delete(taps+"/{methodId}", s.deleteTAP)

	const fido2 = "/users/{id}/authentication/fido2Methods"
	r.With(allow(userMethodReaders...)).Get(fido2, s.listFido2)
	r.With(allow(userMethodReaders...)).Get(fido2+"/{methodId}", s.getFido2)
	r.With(allow(userMethodWriters...)).Patch(fido2+"/{methodId}", s.renameFido2)
	r.With(allow(userMethodWriters...)).Delete(fido2+"/{methodId}", s.deleteFido2)

	// /groups
	r.With(allow(directoryReaders...)).Get("/groups", s.listGroups)
	r.With(allow(groupWriters...)).Post("/groups", s.createGroup)
	r.With(allow(directoryReaders...)).Get("/groups/{id}", s.getGroup)
	r.With(allow(groupWriters...)).Patch("/groups/{id}", s.updateGroup)
	r.With(allow(groupWriters...)).Delete("/groups/{id}", s.deleteGroup)
	for _, rel := range []string{"members", "owners"} {
		r.With(allow(directoryReaders...)).Get("/groups/{id}/"+rel, s.listMembers)
		r.With(allow(directoryReaders...)).Get("/groups/{id}/"+rel+"/microsoft.graph.user", s.listMembers) // cast segment
		r.With(allow(directoryReaders...)).Get("/groups/{id}/"+rel+"/graph.user", s.listMembers)           // the alias, as the SDK sends it
		r.With(allow(groupWriters...)).Post("/groups/{id}/"+rel+"/$ref", s.addMember)
		r.With(allow(groupWriters...)).Delete("/groups/{id}/"+rel+"/{memberId}/$ref", s.removeMember)
	}

	// /roleManagement/directory
	r.With(allow(roleReaders...)).Get("/roleManagement/directory/roleDefinitions", s.listRoleDefinitions)
	r.With(allow(roleReaders...)).Get("/roleManagement/directory/roleDefinitions/{id}", s.getRoleDefinition)
	r.With(allow(roleReaders...)).Get("/roleManagement/directory/roleAssignments", s.listRoleAssignments)
	r.With(allow(roleWriters...)).Post("/roleManagement/directory/roleAssignments", s.createRoleAssignment)
	r.With(allow(roleReaders...)).Get("/roleManagement/directory/roleAssignments/{id}", s.getRoleAssignment)
	r.With(allow(roleWriters...)).Delete("/roleManagement/directory/roleAssignments/{id}", s.deleteRoleAssignment)

	// /policies/authenticationMethodsPolicy
	r.With(allow(methodPolicyReaders...)).Get("/policies/authenticationMethodsPolicy", s.getMethodsPolicy)
	r.With(allow(methodPolicyWriters...)).Patch("/policies/authenticationMethodsPolicy", s.patchMethodsPolicy)
	const methodConfigs = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations"
	r.With(allow(methodPolicyReaders...)).Get(methodConfigs+"/fido2", s.getFido2Config)
	r.With(allow(methodPolicyWriters...)).Patch(methodConfigs+"/fido2", s.patchFido2Config)
	r.With(allow(methodPolicyReaders...)).Get(methodConfigs+"/temporaryAccessPass", s.getTAPConfig)
	r.With(allow(methodPolicyWriters...)).Patch(methodConfigs+"/temporaryAccessPass", s.patchTAPConfig)
	r.With(allow(methodPolicyWriters...)).Delete(methodConfigs+"/fido2", s.resetFido2Config)
	r.With(allow(methodPolicyWriters...)).Delete(methodConfigs+"/temporaryAccessPass", s.resetTAPConfig)

	// /identity/conditionalAccess
	const caPolicies = "/identity/conditionalAccess/policies"
	r.With(allow(caReaders...)).Get(caPolicies, s.listCAPolicies)
	r.With(allow(caWriters...)).Post(caPolicies, s.createCAPolicy)
	r.With(allow(caReaders...)).Get(caPolicies+"/{id}", s.getCAPolicy)
	r.With(allow(caWriters...)).Patch(caPolicies+"/{id}", s.updateCAPolicy)
	r.With(allow(caWriters...)).Delete(caPolicies+"/{id}", s.deleteCAPolicy)
	const locations = "/identity/conditionalAccess/namedLocations"
	r.With(allow(caReaders...)).Get(locations, s.listNamedLocations)
	r.With(allow(caWriters...)).Post(locations, s.createNamedLocation)
	r.With(allow(caReaders...)).Get(locations+"/{id}", s.getNamedLocation)
	r.With(allow(caWriters...)).Patch(locations+"/{id}", s.updateNamedLocation)
	r.With(allow(caWriters...)).Delete(locations+"/{id}", s.deleteNamedLocation)
	const authContexts = "/identity/conditionalAccess/authenticationContextClassReferences"
	r.With(allow(caReaders...)).Get(authContexts, s.listAuthContexts)
	r.With(allow(caReaders...)).Get(authContexts+"/{id}", s.getAuthContext)
	r.With(allow(caWriters...)).Patch(authContexts+"/{id}", s.putAuthContext)
	r.With(allow(caWriters...)).Delete(authContexts+"/{id}", s.deleteAuthContext)
	// Lab extensions: what-if evaluation with explanations; a policy's
	// impact over the sign-in log (Entra's insights workbook).
	r.With(allow(caReaders...)).Post("/identity/conditionalAccess/evaluate", s.evaluateCA)
	r.With(allow(caImpactReaders...)).Get(caPolicies+"/{id}/impact", s.policyImpact)
	// Lab extension: a wave group's readiness (members, allowed passkeys,
	// sign-ins failing under the wave's policies).
	r.With(allow(caImpactReaders...)).Get("/groups/{id}/passkeyRollout", s.groupRollout)

	// Authentication strengths, at both of Graph's paths to the same resources.
	for _, p := range []string{"/identity/conditionalAccess/authenticationStrength/policies", "/policies/authenticationStrengthPolicies"} {
		r.With(allow(strengthReaders...)).Get(p, s.listStrengths)
		r.With(allow(strengthWriters...)).Post(p, s.createStrength)
		r.With(allow(strengthReaders...)).Get(p+"/{id}", s.getStrength)
		r.With(allow(strengthWriters...)).Patch(p+"/{id}", s.updateStrength)
		r.With(allow(strengthWriters...)).Delete(p+"/{id}", s.deleteStrength)
		r.With(allow(strengthReaders...)).Get(p+"/{id}/usage", s.strengthUsage)
		r.With(allow(strengthWriters...)).Post(p+"/{id}/updateAllowedCombinations", s.updateAllowedCombinations)
		r.With(allow(strengthReaders...)).Get(p+"/{id}/combinationConfigurations", s.listCombinationConfigurations)
		r.With(allow(strengthWriters...)).Post(p+"/{id}/combinationConfigurations", s.createCombinationConfiguration)
		r.With(allow(strengthReaders...)).Get(p+"/{id}/combinationConfigurations/{configId}", s.getCombinationConfiguration)
		r.With(allow(strengthWriters...)).Patch(p+"/{id}/combinationConfigurations/{configId}", s.updateCombinationConfiguration)
		r.With(allow(strengthWriters...)).Delete(p+"/{id}/combinationConfigurations/{configId}", s.deleteCombinationConfiguration)
		r.With(allow(strengthReaders...)).Get(p+"/authenticationMethodModes", s.listAuthenticationMethodModes)
	}

	// /auditLogs, /security
	r.With(allow(signInReaders...)).Get("/auditLogs/signIns", s.listSignIns)
	r.With(allow(signInReaders...)).Get("/auditLogs/signIns/{id}", s.getSignIn)
	r.With(allow(signInReaders...)).Get("/reports/authenticationMethods/userRegistrationDetails", s.listUserRegistrationDetails)
	r.With(allow(signInReaders...)).Get("/reports/authenticationMethods/userRegistrationDetails/{id}", s.getUserRegistrationDetails)
	r.With(allow(signInReaders...)).Get("/reports/authenticationMethods/usersRegisteredByMethod*", s.usersRegisteredByMethod)
	r.With(allow(signInReaders...)).Get("/auditLogs/directoryAudits", s.listDirectoryAudits)
	r.With(allow(signInReaders...)).Get("/auditLogs/directoryAudits/{id}", s.getDirectoryAudit)
	r.With(allow(alertReaders...)).Get("/security/alerts_v2", s.listAlerts)
	r.With(allow(alertReaders...)).Get("/security/alerts_v2/{id}", s.getAlert)
	r.With(allow(alertWriters...)).Patch("/security/alerts_v2/{id}", s.updateAlert)

	// /identityProtection
	r.With(allow(riskReaders...)).Get("/identityProtection/riskyUsers", s.listRiskyUsers)
	r.With(allow(riskReaders...)).Get("/identityProtection/riskyUsers/{id}", s.getRiskyUser)
	r.With(allow(riskReaders...)).Get("/identityProtection/riskyUsers/{id}/history", s.listRiskyUserHistory)
	r.With(allow(riskReaders...)).Get("/identityProtection/riskyUsers/{id}/history/{historyId}", s.getRiskyUserHistoryItem)
	r.With(allow(riskWriters...)).Post("/identityProtection/riskyUsers/dismiss", s.dismissRiskyUsers)
	r.With(allow(riskWriters...)).Post("/identityProtection/riskyUsers/confirmCompromised", s.confirmCompromisedUsers)
	r.With(allow(riskWriters...)).Post("/identityProtection/riskyUsers/{id}/setRiskLevel", s.setRiskLevel)

	// /applications, /servicePrincipals
	r.With(allow(appReaders...)).Get("/applications", s.listApplications)
	r.With(allow(appWriters...)).Post("/applications", s.createApplication)
	r.With(allow(appReaders...)).Get("/applications/{id}", s.getApplication)
	r.With(allow(appWriters...)).Patch("/applications/{id}", s.updateApplication)
	r.With(allow(appWriters...)).Delete("/applications/{id}", s.deleteApplication)
	r.With(allow(appWriters...)).Post("/applications/{id}/addPassword", s.addPassword)
	r.With(allow(appWriters...)).Post("/applications/{id}/removePassword", s.removePassword)
	r.With(allow(appReaders...)).Get("/servicePrincipals", s.listServicePrincipals)
	r.With(allow(appWriters...)).Post("/servicePrincipals", s.createServicePrincipal)
	r.With(allow(appReaders...)).Get("/servicePrincipals/{id}", s.getServicePrincipal)
	r.With(allow(appWriters...)).Patch("/servicePrincipals/{id}", s.updateServicePrincipal)
	r.With(allow(appWriters...)).Delete("/servicePrincipals/{id}", s.deleteServicePrincipal)
}
