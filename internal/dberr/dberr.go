// Package dberr tells whether an error means "the database cannot be
// reached right now" (down, restarting, failing over, read-only standby)
// as opposed to a fault in the request or the code. The HTTP layer answers
// the first kind with 503 databaseUnavailable so clients and load balancers
// retry instead of treating it as a bug; it lives apart from internal/store
// so the HTTP layer need not import the store to ask.
package dberr

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err comes from losing the database rather
// than from the statement itself.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08": // connection exception
			return true
		case "57": // operator intervention: admin_shutdown, crash_shutdown, cannot_connect_now
			return pgErr.Code != "57014" // query_canceled is the request's own deadline
		}
		// read_only_sql_transaction: the node we reached was demoted by a
		// failover; the pool will find the new primary on reconnect.
		return pgErr.Code == "25006"
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// The server went away mid-statement (killed, restarted, failed over).
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	// A pool that could not hand out a connection before the request's
	// deadline: the database is too slow or gone, not the request wrong.
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() && !errors.Is(err, context.Canceled) {
		return true
	}
	return false
}
