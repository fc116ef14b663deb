package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/ceremony"
)

// Nobody can grow the cache by beginning for names that are not users
// with passkeys, or for very long names; when full, it makes room.
func TestAllowCacheKeepsOnlyKnownNamesWithinBounds(t *testing.T) {
	c := newAllowCache()
	c.set(false, true)
	known := ceremony.Allow{UserID: "u", Credentials: []ceremony.CredentialRef{{ID: []byte{1}}}, Epoch: 1}
	put := func(upn string, a ceremony.Allow) {
		gen, _ := c.generation()
		c.put(gen, upn, a)
	}
	put("ghost@lab.example", ceremony.Allow{Epoch: 1})
	put(strings.Repeat("a", allowCacheMaxName+1), known)
	if len(c.entries) != 0 {
		t.Fatalf("kept %d answers for unknown or over-long names", len(c.entries))
	}
	for i := 0; i < allowCacheMax+10; i++ {
		put(fmt.Sprintf("u%d@lab.example", i), known)
	}
	if len(c.entries) != allowCacheMax {
		t.Fatalf("%d entries, want the bound %d", len(c.entries), allowCacheMax)
	}
	if _, ok := c.get(fmt.Sprintf("u%d@lab.example", allowCacheMax+9)); !ok {
		t.Fatal("the newest answer was not kept when the cache was full")
	}
	// A fill that raced a flush is not kept; off, nothing is served.
	gen, _ := c.generation()
	c.flush()
	c.put(gen, "late@lab.example", known)
	if _, ok := c.get("late@lab.example"); ok {
		t.Fatal("an answer read before a flush was kept after it")
	}
	put("on@lab.example", known)
	c.set(false, false)
	if _, ok := c.get("on@lab.example"); ok {
		t.Fatal("served while off")
	}
}
