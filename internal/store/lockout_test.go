package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/testpg"
)

// TestSmartLockout: the threshold holds against simultaneous guesses, a
// lock lasts its duration, and an attack from an unfamiliar address leaves
// the user's familiar address unlocked.
func TestSmartLockout(t *testing.T) {
	db := testpg.Open(t)
	ctx := context.Background()
	u, err := db.Directory().CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "lock@lab.example", DisplayName: "L", AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := db.Factors()
	p := signin.LockoutPolicy{Threshold: 10, Duration: time.Minute, Window: 15 * time.Minute}
	now := time.Now()
	home := signin.Guess{UserID: u.ID, Factor: "password", Address: "203.0.113.5", At: now}
	if _, err := s.ReserveGuess(ctx, home, p); err != nil {
		t.Fatal(err)
	}
	if err := s.GuessSucceeded(ctx, home, false); err != nil {
		t.Fatal(err)
	}
	// 60 simultaneous wrong guesses from elsewhere: 10 may be checked.
	var checked atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.ReserveGuess(ctx, signin.Guess{UserID: u.ID, Factor: "password", Address: "198.51.100.9", At: now}, p)
			if err != nil {
				t.Error(err)
			}
			if !v.Locked {
				checked.Add(1)
			}
			if v.Familiar {
				t.Error("the attacker's address counted as familiar")
			}
		}()
	}
	wg.Wait()
	if checked.Load() != 10 {
		t.Fatalf("%d of 60 simultaneous guesses checked, want 10", checked.Load())
	}
	// The user's own address is a separate bucket.
	v, err := s.ReserveGuess(ctx, signin.Guess{UserID: u.ID, Factor: "password", Address: "203.0.113.5", At: now.Add(time.Second)}, p)
	if err != nil || v.Locked || !v.Familiar {
		t.Fatalf("familiar address during the attack: %+v %v", v, err)
	}
	// Other factors are separate too; the lock ends after its duration.
	if v, _ := s.ReserveGuess(ctx, signin.Guess{UserID: u.ID, Factor: "softwareOath", Address: "198.51.100.9", At: now}, p); v.Locked {
		t.Fatal("a password lockout locked verification codes")
	}
	if v, _ := s.ReserveGuess(ctx, signin.Guess{UserID: u.ID, Factor: "password", Address: "198.51.100.9", At: now.Add(59 * time.Second)}, p); !v.Locked {
		t.Fatal("lock ended early")
	}
	later := signin.Guess{UserID: u.ID, Factor: "password", Address: "198.51.100.9", At: now.Add(61 * time.Second)}
	if v, _ := s.ReserveGuess(ctx, later, p); v.Locked || v.Failures != 1 {
		t.Fatalf("after the lock: %+v", v)
	}
	// A guess never checked (server busy) is given back.
	if err := s.GuessUnchecked(ctx, later, false); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.ReserveGuess(ctx, later, p); v.Failures != 1 {
		t.Fatalf("an unchecked guess still counted: %+v", v)
	}
}
