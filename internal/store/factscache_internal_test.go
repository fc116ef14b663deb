package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/signin"
)

// The copies stay within their byte budget however many passkeys are
// named, and a copy too large for it is not kept (nor the older copy it
// would have replaced).
func TestFactsCacheStaysWithinItsBudget(t *testing.T) {
	c := newFactsCache()
	cred := &ceremony.Credential{ID: []byte("cred"), UserID: "u"}
	groups := make([]string, 100)
	for i := range groups {
		groups[i] = fmt.Sprintf("%036d", i)
	}
	for i := 0; i < 20000; i++ {
		c.put([]byte(fmt.Sprintf("cred-%d", i)), cachedFacts{version: 1, facts: signin.Facts{UserID: "u", GroupIDs: groups}}, cred)
		if c.bytes > factsCacheBytes {
			t.Fatalf("after %d copies: %d bytes, over the budget of %d", i+1, c.bytes, factsCacheBytes)
		}
	}
	total := 0
	for k, e := range c.entries {
		total += e.size([]byte(k))
	}
	if total != c.bytes || len(c.entries) == 0 {
		t.Fatalf("accounted %d bytes for %d entries, they hold %d", c.bytes, len(c.entries), total)
	}
	huge := make([]string, 2000)
	for i := range huge {
		huge[i] = strings.Repeat("g", 36)
	}
	c.put([]byte("huge"), cachedFacts{version: 1}, cred)
	c.put([]byte("huge"), cachedFacts{version: 2, facts: signin.Facts{GroupIDs: huge}}, cred)
	if _, ok := c.get([]byte("huge")); ok {
		t.Fatal("a copy over factsEntryMaxBytes was kept, or the older copy it replaces")
	}
}
