// Package push is the Microsoft Authenticator push method (emulated): its
// enrolment and number matching (the sign-in screen shows a number the user
// must enter on the phone, so an approval cannot be given to a sign-in one
// did not start).
package push

import (
	"crypto/rand"
	"math/big"
)

// NumberMatch draws the two-digit number shown on the sign-in screen that the
// user must type on the phone, Authenticator's defence against push fatigue.
func NumberMatch() int {
	n, _ := rand.Int(rand.Reader, big.NewInt(90))
	return int(n.Int64()) + 10
}
