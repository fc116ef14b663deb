package signin

import (
	"context"
	"log/slog"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/policy"
)

// CodeAccountLocked refuses a guess while smart lockout holds the user's
// bucket for this location.
const CodeAccountLocked = "accountLocked"

// errLockedOut is Entra's code for a sign-in refused by smart lockout
// ("account is locked because the user tried to sign in too many times
// with an incorrect user ID or password").
const errLockedOut = 50053

// Guess is one password or verification-code attempt of a user.
type Guess struct {
	UserID  string
	Factor  string // policy.ModePassword or policy.ModeSoftwareOath, by name
	Address string // the client address the flow began from
	At      time.Time
}

// LockoutPolicy is Entra's smart lockout: Threshold failed guesses (in
// Window) lock the location bucket for Duration. Familiar and unfamiliar
// locations are separate buckets, so an attack from elsewhere does not lock
// the user out where they usually sign in.
type LockoutPolicy struct {
	Threshold int
	Duration  time.Duration
	Window    time.Duration
}

// DefaultLockout is Entra's default (10 failures, 60 s lockout); failures
// older than 15 minutes are forgotten.
var DefaultLockout = LockoutPolicy{Threshold: 10, Duration: time.Minute, Window: 15 * time.Minute}

// GuessVerdict is what the store decided for a reserved guess.
type GuessVerdict struct {
	Familiar    bool
	Failures    int
	Locked      bool
	LockedUntil time.Time
	// JustLocked: this guess locked the bucket (it crossed the threshold).
	JustLocked bool
}

// GuessStore counts guesses per user and location bucket in the database,
// so the limit holds across servers and against concurrent guesses.
type GuessStore interface {
	// ReserveGuess counts the guess as a failure before it is checked and
	// reports whether the bucket is locked (then the guess must not be
	// checked).
	ReserveGuess(ctx context.Context, g Guess, p LockoutPolicy) (GuessVerdict, error)
	// GuessSucceeded clears the bucket and remembers the address as familiar.
	GuessSucceeded(ctx context.Context, g Guess, familiar bool) error
	// GuessUnchecked gives back a reserved guess that was never checked
	// (the server was too busy, the request ended).
	GuessUnchecked(ctx context.Context, g Guess, familiar bool) error
}

// checkGuess runs check (the password hash or the code comparison) under
// smart lockout: the guess is reserved first, so simultaneous guesses get
// no more checks than the threshold, and refused unchecked while locked.
// ok reports whether the factor was right; a locked bucket is an error,
// logged as Entra's 50053.
func (s *Service) checkGuess(ctx context.Context, f *flow, factor policy.Mode, check func() (bool, error)) (ok bool, out Outcome, err error) {
	g := Guess{UserID: f.UserID, Factor: factor.String(), Address: f.IP, At: s.d.Now()}
	v, err := s.d.Factors.ReserveGuess(ctx, g, s.d.Lockout)
	if err != nil {
		return false, Outcome{}, err
	}
	if v.Locked {
		f.lockedOutNow = v.JustLocked
		out, err := s.fail(ctx, f, factor, apperr.RateLimited(CodeAccountLocked,
			"the account is locked for this location after too many incorrect attempts; try again after %s", v.LockedUntil.UTC().Format(time.RFC3339)), errLockedOut)
		return false, out, err
	}
	ok, err = check()
	if err != nil {
		// Not a guess the user lost: an overloaded server must not lock
		// its users out.
		if rerr := s.d.Factors.GuessUnchecked(context.WithoutCancel(ctx), g, v.Familiar); rerr != nil {
			slog.WarnContext(ctx, "smart lockout: giving back an unchecked guess failed", "user_id", f.UserID, "err", rerr)
		}
		return false, Outcome{}, err
	}
	if !ok {
		return false, Outcome{}, nil
	}
	if err := s.d.Factors.GuessSucceeded(ctx, g, v.Familiar); err != nil {
		// The factor was right; a failure to clear the count must not
		// turn it into a refusal.
		slog.WarnContext(ctx, "smart lockout: clearing failures after a right guess failed", "user_id", f.UserID, "err", err)
	}
	return true, Outcome{}, nil
}
