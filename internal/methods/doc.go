// Package methods owns the authentication methods policy of the lab tenant:
// the FIDO2 (passkey) and Temporary Access Pass method configurations, the
// per-user TAPs and the per-user FIDO2 methods. It is the service between
// the Graph-shaped HTTP handlers and the stores.
//
// Every method has its home under this directory: tap (TAP policy, issue,
// usability), password (the rule and the hash), totp and push (their codes
// and enrolment), targeting (Graph's include/exclude targets, shared);
// passkey profiles and the registration decision are internal/profiles,
// attestation internal/attestation. Verifying a factor at sign-in is
// internal/signin's business.
//
// # Configurations
//
// Each configuration is one JSON document, stored by a ConfigStore whose
// Update runs read-modify-write under a row lock. PATCH has Graph semantics:
// the properties present in the body replace the stored ones, collections
// wholesale; absent properties are kept. The result is validated with
// profiles.ValidateUpdate / tap.MethodConfiguration.Validate before it is
// written, so an invalid document is never stored.
//
// Passkey profiles are enabled by a PATCH that sets defaultPasskeyProfile
// while profiles are off: profiles.EnablePasskeyProfiles migrates the legacy
// settings into the Default profile first, then the rest of the body is
// applied. Clearing defaultPasskeyProfile afterwards is refused with
// passkeyProfilesCannotBeDisabled.
//
// Until the FIDO2 configuration has been written once, the registration gate
// behaves like ceremony.OpenGate (every well-formed passkey is accepted), so
// a fresh lab works before an admin configures anything; GET still shows the
// default document Entra shows. The first PATCH makes the policy govern.
//
// # Registration gate
//
// Service implements ceremony.RegistrationGate with
// Fido2AuthenticationMethodConfiguration.PreCheck/Decide on the user's
// direct group memberships. Refusals are apperr Forbidden errors whose code
// is the profiles.ReasonCode (selfServiceRegistrationDisabled,
// syncedPasskeyNotAllowed, aaguidNotAllowed, attestationRequired, ...).
// Direct attestation is always requested so every passkey gets an
// attestation report, whatever the profiles say.
//
// # Temporary Access Pass
//
// Issue draws the pass with tap.Issue, stores only its argon2id hash and
// returns the pass once; it is never logged. Redeem checks, in order: the
// per-user attempt limit (MaxFailedAttempts per FailureWindow, counted in
// the database so it holds across server processes; a guess is reserved
// atomically before it is verified and given back when the hash matched),
// the hash (tap.VerifyDummy for unknown users and users without a pass, so
// neither is distinguishable from a wrong pass), the policy and validity
// window, and finally the store's single conditional UPDATE that marks a
// one-time pass used: of concurrent redemptions exactly one succeeds.
// Argon2id verifications run under a semaphore (2 per CPU) so a burst
// of guesses cannot exhaust memory.
//
// # Changing one's own methods
//
// AuthorizeOwnChange is the one rule for a user adding, renaming or removing
// their own methods from a session (the HTTP layer applies it to every such
// route): once the user holds a second factor, the session must be
// multifactor or a TAP one.
//
// Whose methods an admin may issue, rename or delete follows Entra's table
// (directory.MayActOn with ActionAuthenticationMethods): an Authentication
// Administrator reaches users without an admin role and holders of a few
// low roles only; a Privileged Authentication Administrator or Global
// Administrator reaches everyone.
package methods
