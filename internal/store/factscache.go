package store

import (
	"slices"
	"sync"
	"time"

	"github.com/rpserver/rpserver/internal/signin"
)

// factsCache keeps, per passkey, its owner's sign-in facts as the take
// last read them, with the sign-in facts version they were read at
// (migrations/029_sign_in_facts_version.sql). The take sends the version
// of the copy it holds and reads the owner's facts only when the
// database's version, in the take's own snapshot, is another: a trigger
// bumps it in the transaction of every change to anything the facts are
// made of, so an equal version means the copy is exactly what the take
// would have read. Unlike the allow cache, nothing here depends on
// hearing notifications: a stale copy can never be used, only refreshed.
//
// Measured (pgbench, prepared, one client): the facts' nine subqueries
// cost PostgreSQL about 45 us per take, a quarter of the take and about
// 8% of its CPU per sign-in.
//
// One time-dependent fact is kept as data: whether a temporary access
// pass is usable depends on the clock, so the copy keeps the latest end
// of the owner's usable passes and the take's own now() decides.
//
// Entries are at most factsCacheMax, an arbitrary one evicted to make
// room; only credentials that exist and verified nothing yet are kept, so
// its size is bounded by the passkeys that exist, never by what a client
// sends.
type factsCache struct {
	mu      sync.RWMutex
	entries map[string]cachedFacts
}

// factsCacheMax bounds the entries (one per passkey signed in with).
const factsCacheMax = 65536

// cachedFacts is one passkey's owner's facts at version.
type cachedFacts struct {
	version int64
	facts   signin.Facts // HasTAP unused: see tapUntil
	// tapUntil is the latest end of the owner's usable passes (zero:
	// none); a pass is usable while the take's now() is before it.
	tapUntil time.Time
	readAt   time.Time // the database's now() when read by readFactsCopy
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

// put keeps facts read at version for credentialID.
func (c *factsCache) put(credentialID []byte, e cachedFacts) {
	// The sign-in path never changes the slices it is handed, and a clip
	// makes any append copy, so the copy is shared, never written.
	e.facts.GroupIDs, e.facts.RoleTemplateIDs = slices.Clip(e.facts.GroupIDs), slices.Clip(e.facts.RoleTemplateIDs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[string(credentialID)]; !ok && len(c.entries) >= factsCacheMax {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[string(credentialID)] = e
}

// facts is the copy as of now (the take's clock).
func (e cachedFacts) at(now time.Time) signin.Facts {
	f := e.facts
	f.HasTAP = !e.tapUntil.IsZero() && now.Before(e.tapUntil)
	return f
}
