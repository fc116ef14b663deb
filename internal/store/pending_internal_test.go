package store

import (
	"testing"
	"time"
)

// The estimate lets a begin skip the total count only while it is fresh
// and below half the bound; this process's begins and saves raise it.
func TestPendingEstimate(t *testing.T) {
	var p pendingEstimate
	now := time.Unix(1000, 0)
	if !p.mustCount(now, 10) {
		t.Fatal("no count yet, and none made")
	}
	p.record(now, 1)
	for i := 0; i < 3; i++ { // estimate 1, 2, 3: below half of 10
		if p.mustCount(now, 10) {
			t.Fatalf("begin %d counted with the estimate below half the bound", i)
		}
	}
	p.saved() // estimate 5
	if !p.mustCount(now, 10) {
		t.Fatal("no count at half the bound")
	}
	p.record(now.Add(time.Millisecond), 2)
	if p.mustCount(now.Add(2*time.Millisecond), 10) {
		t.Fatal("counted again right after a count far below the bound")
	}
	if !p.mustCount(now.Add(time.Millisecond+pendingRecount), 10) {
		t.Fatal("relied on a count older than pendingRecount")
	}
	p.record(now, 0) // older than the last: ignored
	if p.counted != 2 {
		t.Fatalf("an older count replaced a newer one: %d", p.counted)
	}
}
