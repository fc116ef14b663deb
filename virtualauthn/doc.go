// Package virtualauthn implements virtual WebAuthn authenticators that mint real
// ES256 (P-256) credentials and real attestation statements, so that a relying
// party can be exercised end to end without browsers or hardware.
//
// The idea: an [Authenticator] consumes exactly the JSON a WebAuthn server hands
// to navigator.credentials.create / navigator.credentials.get (the
// {"publicKey":{...}} object) and produces exactly the JSON a browser would POST
// back (PublicKeyCredential.toJSON(), base64url without padding). Nothing in
// between is simulated loosely: authenticator data, COSE keys and attestation
// objects are CTAP2-canonical CBOR, signatures are real ECDSA, and attestation
// certificates are issued by a [TestCA] with the extensions each statement
// format requires (packed, apple, android-key). A server configured to trust
// [TestCA.RootPEM] therefore verifies these credentials with the same code paths
// it uses for real devices.
//
// Presets ([MicrosoftAuthenticatorIOS], [MicrosoftAuthenticatorAndroid],
// [YubiKey5], [GooglePasswordManager], [ICloudKeychain]) model the
// authenticators an Entra ID passkey rollout meets; they are plain [Config]
// values so any knob can be changed.
//
// Negative tests use a [Tamper] value passed per ceremony rather than global
// switches, so one Authenticator can be used concurrently for valid and broken
// ceremonies. An Authenticator is safe for concurrent use; its credential store
// is guarded by a RWMutex and counters are atomic, because load generators run
// thousands of ceremonies against one instance.
package virtualauthn
