// Package tap holds the pure parts of the Temporary Access Pass (TAP): the
// Graph-shaped method policy and its validation, the rules for creating a
// pass, generation, hashing, and the usability decision. It does no I/O.
//
// # Graph names and bounds
//
// MethodConfiguration is temporaryAccessPassAuthenticationMethodConfiguration
// (state, defaultLifetimeInMinutes, defaultLength, minimumLifetimeInMinutes,
// maximumLifetimeInMinutes, isUsableOnce, includeTargets, excludeTargets) with
// Graph's documented bounds: lifetimes 10..43200 minutes (30 days),
// min <= default <= max, length 8..48. The per-user resource is
// temporaryAccessPassAuthenticationMethod (id, temporaryAccessPass,
// createdDateTime, startDateTime, lifetimeInMinutes, isUsableOnce, isUsable,
// methodUsabilityReason); the reasons use Graph's spellings EnabledByPolicy,
// DisabledByPolicy, Expired, NotYetValid, OneTimeUsed. temporaryAccessPass is
// returned once, by Issue, and is null on every later read.
//
// Lab choices where Graph says nothing: a policy with isUsableOnce forces
// every new pass to one-time use even if the request says otherwise;
// startDateTime may be up to 5 minutes in the past (clock skew) and at most
// maximumLifetimeInMinutes in the future.
//
// # Generation
//
// Passes are drawn with crypto/rand from a 64-character alphabet of letters,
// digits and symbols with the look-alikes removed (see Alphabet), by
// rejection sampling so there is no modulo bias. Eight characters give 48
// bits.
//
// # Storage: argon2id
//
// The pass is never stored; Record.SecretHash is argon2id (m=19 MiB, t=2,
// p=1, 16-byte random salt, PHC string). Why argon2id rather than
// HMAC-SHA256 with a pepper: a TAP is short (48 bits at the default length)
// and is a full credential for its lifetime, so a leaked table must not be
// brute-forceable; a pepper only helps while the pepper is not leaked too,
// and it adds a secret to manage and rotate. Argon2id protects the hashes on
// their own, and its cost (a few milliseconds and 19 MiB per attempt) is
// affordable because redemptions are rare and are rate limited anyway.
// Verify compares in constant time, and VerifyDummy lets the caller spend
// the same time when a user has no pass.
//
// # What the store must guarantee
//
// Usability is a read-only judgement; redemption is the store's job and must be:
//
//   - Atomic for one-time passes: mark used with a single conditional write,
//     e.g. UPDATE ... SET last_used = now() WHERE id = $1 AND
//     (NOT is_usable_once OR last_used IS NULL) AND start <= now() AND
//     now() < start + lifetime RETURNING id; zero rows means refuse. Verify
//     the hash first, then do this write; two concurrent sign-ins with the
//     same one-time pass must yield exactly one success.
//   - One pass per user, as in Graph: creating a second pass fails while one
//     exists (a unique index on user id), and deleting the method removes it.
//   - Rate limited per user and per source, and the record deleted or kept
//     unusable once expired; expiry itself is computed, not stored.
//   - The policy re-read at redemption: disabling the method or excluding the
//     user makes live passes unusable immediately (DisabledByPolicy).
package tap
