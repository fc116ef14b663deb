// Package apperr is the one error vocabulary shared by services, stores and
// the HTTP layer. A service says what went wrong (a Kind and a stable Code a
// client can switch on); internal/api maps the Kind to an HTTP status in one
// place. Codes are part of the API contract: never rename one.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the transport; it is not shown to clients.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindUnauthenticated
	KindForbidden
	KindTooLarge
	KindRateLimited
	KindUnavailable
	KindUnsupportedMedia // a body in a content type or encoding the server cannot read
)

// Error is a classified, client-presentable error.
type Error struct {
	Kind    Kind
	Code    string // stable machine code, e.g. "duplicateUserPrincipalName"
	Message string // human explanation; safe to show to the caller
	Target  string // the offending property, when there is one
	Err     error  // cause, for logs only
	// Details lists every problem when there are several (Graph's
	// error.details), so a client fixes them all in one round; empty means
	// the error itself is the only detail.
	Details []Detail
}

// Detail is one entry of Graph's error.details.
type Detail struct {
	Code    string
	Message string
	Target  string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// WithTarget names the property the error is about.
func (e *Error) WithTarget(target string) *Error {
	c := *e
	c.Target = target
	return &c
}

// Wrap attaches a cause without changing what the client sees.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

func newf(k Kind, code, format string, args ...any) *Error {
	return &Error{Kind: k, Code: code, Message: fmt.Sprintf(format, args...)}
}

func Invalid(code, format string, args ...any) *Error {
	return newf(KindInvalid, code, format, args...)
}
func NotFound(code, format string, args ...any) *Error {
	return newf(KindNotFound, code, format, args...)
}
func Conflict(code, format string, args ...any) *Error {
	return newf(KindConflict, code, format, args...)
}
func Unauthenticated(code, format string, args ...any) *Error {
	return newf(KindUnauthenticated, code, format, args...)
}
func Forbidden(code, format string, args ...any) *Error {
	return newf(KindForbidden, code, format, args...)
}
func TooLarge(code, format string, args ...any) *Error {
	return newf(KindTooLarge, code, format, args...)
}
func RateLimited(code, format string, args ...any) *Error {
	return newf(KindRateLimited, code, format, args...)
}
func Unavailable(code, format string, args ...any) *Error {
	return newf(KindUnavailable, code, format, args...)
}
func UnsupportedMedia(code, format string, args ...any) *Error {
	return newf(KindUnsupportedMedia, code, format, args...)
}

// WithDetails lists every problem found.
func (e *Error) WithDetails(details ...Detail) *Error {
	c := *e
	c.Details = details
	return &c
}

// As returns the classified error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the stable code of err, or "" for unclassified errors.
func CodeOf(err error) string {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}

// Common codes used across packages.
const (
	CodeNotFound = "Request_ResourceNotFound"
)
