package dberr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestUnavailableClassifies(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"query canceled by our deadline", &pgconn.PgError{Code: "57014"}, false},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now (starting up)", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"read-only after failover", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "25006"}), true},
		{"server gone mid-statement", fmt.Errorf("take challenge: %w", io.ErrUnexpectedEOF), true},
		{"cancelled by the client", context.Canceled, false},
	}
	for _, c := range cases {
		if got := Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// A real connection attempt to a port nobody listens on must count as the
// database being unavailable, whatever pgx wraps it in.
func TestUnavailableOnRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = pgx.Connect(ctx, "postgres://x@"+addr+"/x?connect_timeout=2")
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if !Unavailable(fmt.Errorf("store: %w", err)) {
		t.Fatalf("refused connection not classified as unavailable: %v", err)
	}
}
