package store

import (
	"slices"
	"sync"
	"time"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/signin"
)

// factsCache keeps, per passkey, its owner's sign-in facts as the take
// last read them, with the sign-in facts version they were read at
// (migrations/029_sign_in_facts_version.sql). The take reads the owner's
// version in its own snapshot and, while a copy is held, leaves the facts
// out; the copy is used only when that version is the copy's: a trigger
// bumps it in the transaction of every change to anything the facts are
// made of, so an equal version means the copy is exactly what the take
// would have read. Otherwise the facts are read again (a statement of
// their own, once per change). Unlike the allow cache, nothing here depends on
// hearing notifications: a stale copy can never be used, only refreshed.
//
// Measured (pgbench, prepared, one client): the facts' nine subqueries
// cost PostgreSQL about 45 us per take, a quarter of the take and about
// 8% of its CPU per sign-in.
//
// The copy also keeps the passkey, for a sign-in decided without the take
// (Factors.PeekPasskeyAssertion, signinlog.ChallengeClaim): as the take
// last read it, or as this server last wrote a use of it (noteUse; a
// use the commit refused drops it). The commit judges the passkey again
// (there, unflagged, its counter still behind the use) and the facts by
// their version, so a copy behind the database can only send a sign-in
// the long way, never store one the database would refuse.
//
// One time-dependent fact is kept as data: whether a temporary access
// pass is usable depends on the clock, so the copy keeps the latest end
// of the owner's usable passes and the take's own now() decides.
//
// A copy is used only under the challenge epoch it was read at: the
// versions are those of one database history, and another (a promoted
// standby that missed commits, a point-in-time recovery, a restore) can
// repeat a version with other facts; the epoch is unlogged, so each new
// history draws a new one.
//
// Only passkeys that exist get an entry (the take made a copy because it
// found the credential), so what a client sends cannot add names; the
// copies' size is bounded too (factsCacheBytes, an arbitrary entry evicted
// to make room), since anyone can begin a sign-in and name any passkey
// from an allow list, and an owner in thousands of groups makes a large
// copy; a copy over factsEntryMaxBytes is not kept at all.
type factsCache struct {
	mu      sync.RWMutex
	entries map[string]cachedFacts
	bytes   int
}

// The copies' budget: factsCacheBytes in all, factsEntryMaxBytes each
// (about 1,800 groups and roles); credentialBytes is a passkey's share (its
// id counted apart: a public key is at most ~550 bytes, an RSA-4096 one).
const (
	factsCacheBytes    = 32 << 20
	factsEntryMaxBytes = 64 << 10
	credentialBytes    = 1024
)

// cachedFacts is one passkey's owner's facts at version.
type cachedFacts struct {
	version int64
	epoch   int64        // the challenge epoch it was read under
	facts   signin.Facts // HasTAP unused: see tapUntil
	// tapUntil is the latest end of the owner's usable passes (zero:
	// none); a pass is usable while the take's now() is before it.
	tapUntil time.Time
	readAt   time.Time // the database's now() when read by readFactsCopy
	// cred is the passkey as the take last read it, or as this server
	// last committed a use of it (noteUse); nil until a take found it.
	// Shared: never written, only replaced.
	cred *ceremony.Credential
}

func newFactsCache() *factsCache {
	return &factsCache{entries: map[string]cachedFacts{}}
}

// get returns the copy held for credentialID (ok false: none).
func (c *factsCache) get(credentialID []byte) (cachedFacts, bool) {
	c.mu.RLock()
	e, ok := c.entries[string(credentialID)]
	c.mu.RUnlock()
	return e, ok
}

// put keeps facts read at version for credentialID, with a copy of its
// passkey as the take read it.
func (c *factsCache) put(credentialID []byte, e cachedFacts, cred *ceremony.Credential) {
	size := e.size(credentialID)
	c.mu.Lock()
	defer c.mu.Unlock()
	// The old copy goes either way: kept over a copy too large to keep, it
	// would send every sign-in of this passkey to a refused claim.
	if old, ok := c.entries[string(credentialID)]; ok {
		c.bytes -= old.size(credentialID)
		delete(c.entries, string(credentialID))
	}
	if size > factsEntryMaxBytes {
		return
	}
	// The sign-in path never changes the slices it is handed, and a clip
	// makes any append copy, so the copy is shared, never written.
	e.facts.GroupIDs, e.facts.RoleTemplateIDs = slices.Clip(e.facts.GroupIDs), slices.Clip(e.facts.RoleTemplateIDs)
	cc := *cred
	e.cred = &cc
	for k, old := range c.entries {
		if c.bytes+size <= factsCacheBytes {
			break
		}
		c.bytes -= old.size([]byte(k))
		delete(c.entries, k)
	}
	c.entries[string(credentialID)] = e
	c.bytes += size
}

// setCredential keeps c (a copy) as credentialID's passkey in its copy, if
// the copy is there and holds another version of it.
func (c *factsCache) setCredential(credentialID []byte, cred *ceremony.Credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(credentialID)]
	if !ok || sameUse(e.cred, cred) {
		return
	}
	cc := *cred
	e.cred = &cc
	c.entries[string(credentialID)] = e
}

// sameUse: a and b are the same passkey at the same use.
func sameUse(a, b *ceremony.Credential) bool {
	return a != nil && b != nil && a.SignCount == b.SignCount && a.BackupState == b.BackupState && a.CloneSuspected == b.CloneSuspected &&
		(a.LastUsedAt == nil) == (b.LastUsedAt == nil) && (a.LastUsedAt == nil || a.LastUsedAt.Equal(*b.LastUsedAt))
}

// noteUse updates the passkey in credentialID's copy after a commit of a
// use that wrote it (what the database now holds, as far as this server
// knows); forgets it after a use that was refused (the copy is behind).
func (c *factsCache) noteUse(credentialID []byte, count uint32, backupState bool, at time.Time, refused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(credentialID)]
	if !ok || e.cred == nil {
		return
	}
	if refused {
		e.cred = nil
	} else {
		cc := *e.cred
		cc.SignCount, cc.BackupState, cc.LastUsedAt = count, backupState, &at
		e.cred = &cc
	}
	c.entries[string(credentialID)] = e
}

// size estimates what the entry holds in memory: its strings and a fixed
// part for the struct, the slices' headers, the map slot and the passkey
// (credentialBytes whether or not it is held yet, so that setCredential
// and noteUse, which replace it, leave the estimate as put counted it).
func (e cachedFacts) size(credentialID []byte) int {
	n := 256 + credentialBytes + len(credentialID) + len(e.facts.UserID) + len(e.facts.UserPrincipalName) + len(e.facts.DisplayName) + len(e.facts.UserRiskLevel)
	for _, g := range e.facts.GroupIDs {
		n += 16 + len(g)
	}
	for _, r := range e.facts.RoleTemplateIDs {
		n += 16 + len(r)
	}
	return n
}

// facts is the copy as of now (the take's clock).
func (e cachedFacts) at(now time.Time) signin.Facts {
	f := e.facts
	f.HasTAP = !e.tapUntil.IsZero() && now.Before(e.tapUntil)
	return f
}
