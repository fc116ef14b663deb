// Package attestation decides, per registration, what an attestation
// statement proves about the authenticator that made a credential.
//
// Two questions are kept apart on purpose:
//
//  1. Is the statement valid? (WebAuthn L3 §8: the signature over
//     authData||clientDataHash, the certificate profile, apple's nonce,
//     android-key's key description, the AAGUID extension.) A statement that
//     fails this is a forgery or a broken authenticator, and the registration
//     must fail. For packed, apple, android-key, tpm and fido-u2f this package
//     implements the procedures itself and installs them into go-webauthn
//     with protocol.RegisterAttestationFormat at init, so the library's
//     registration ceremony runs our code exactly once per statement, and no
//     procedure reads a clock. none stays with the library; android-safetynet
//     (retired by Google) is not evaluated and counts as unattested.
//
//  2. Do we trust where it came from? (§7.1 steps 21-22: chain the x5c to a
//     trust anchor for that AAGUID, at a given time.) Validity periods are
//     judged here only, on the verified path, at the one time the caller
//     passes, so expiry is always a trust finding with its own code. This is relying-party
//     policy, not statement validity, so it is NOT done inside the library
//     handlers: the ceremony calls [Evaluate] after CreateCredential succeeded
//     and hands the [Result] to policy, which may accept an untrusted or
//     unattested credential (e.g. synced passkeys) or refuse it.
//
// [Evaluate] reuses the verdict our handler reached during CreateCredential
// (a small bounded memo keyed by a hash of fmt, authData, clientDataHash and
// the statement) instead of verifying signatures twice; on a miss it simply
// verifies again, so correctness never depends on the memo.
//
// [Inspect] is the same evaluation from raw bytes, for the offline
// `rpserver inspect` tool. Untrusted CBOR is decoded with explicit size,
// nesting, array and map limits.
//
// Result.Reason is a stable machine code (the Reason* constants); "" means the
// chain reached a configured anchor. Messages are for humans and may change.
package attestation
