package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

// The change lock is one across servers: a second server waits for it, is
// refused with a retryable code once its wait ends, gets it as soon as the
// holder unlocks, and gets it too when the holder's session dies.
func TestChangeLockAcrossServers(t *testing.T) {
	dsn := testpg.NewDatabase(t)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	a, b := open(), open()
	unlock, err := a.LockChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	if _, err := b.LockChanges(short); err == nil {
		t.Fatal("the second server got the lock while the first held it")
	} else if e, ok := apperr.As(err); !ok || e.Code != store.CodeChangeInProgress || e.Kind != apperr.KindUnavailable {
		t.Fatalf("wait ended with %v, want a retryable %s", err, store.CodeChangeInProgress)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := b.LockChanges(ctx)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("the second server got the lock before the first unlocked")
	default:
	}
	unlock()
	unlockB := <-got
	// The holder's session dies (a crashed server): the lock goes with it.
	if _, err := a.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`); err != nil {
		t.Fatal(err)
	}
	deadline, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	u, err := a.LockChanges(deadline)
	if err != nil {
		t.Fatalf("after the holder's session ended: %v", err)
	}
	u()
	unlockB() // its connection is gone: unlock closes it and frees the server's turn
	u, err = b.LockChanges(deadline)
	if err != nil {
		t.Fatal(err)
	}
	u()
}

// The lock is held outside the pool: with a pool of one connection, the
// check and the write it guards still get theirs.
func TestChangeLockLeavesThePoolFree(t *testing.T) {
	dsn := testpg.NewDatabase(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := store.Open(ctx, dsn+sep+"pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	unlock, err := db.LockChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("the pool's one connection while the lock is held: %v", err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("advisory locks held: %d (%v), want 1", n, err)
	}
}
