package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/ceremony"
)

// allowCache keeps sign-in begins' answers (AllowList: a name's passkey
// ids and transports, and the challenge epoch) in the process, so that a
// begin costs no database round trip at all (measured: its statement was
// about a fifth of PostgreSQL's CPU per sign-in, its round trip about 8%
// of the server's).
//
// It is correct only while it hears every change, so it is on only while
// a connection of its own LISTENs on allowListChannel and has shown that
// notifications reach it: triggers on webauthn_credentials (insert,
// delete, a change of owner or transports), users (a change of name) and
// webauthn_challenge_epoch notify every server at commit (migration 024),
// and each notification empties the cache. This process's own writes
// empty it synchronously too (flush), so a passkey registered here is
// listed by the next begin here. Before it turns the cache on, and after
// every listenPing of silence, the listener notifies itself on a channel
// of its own and waits for that notification to come back: a connection
// that has died silently, or a proxy that does not deliver notifications
// (PgBouncer in transaction mode), fails that check, and the cache
// empties and stays off (begins read the database, as without it) until a
// new connection passes it. A notification missed while nobody listened
// can only concern entries that are gone. A crash or failover of
// PostgreSQL ends every connection, the listener's too, which also drops
// the cached epoch that the crash emptied (and a take that finds its
// challenge's epoch gone empties the cache as well). A fill races a flush
// by generation: an answer read before a flush is not kept after it.
//
// Only answers naming a user with passkeys are kept (an unknown name, or
// one with no passkeys, reads the database each time), names are at most
// allowCacheMaxName bytes and entries at most allowCacheMax, an arbitrary
// one evicted to make room: nobody can grow it by beginning for names
// that do not exist.
//
// What staleness could do is bounded by the finish, which reads the
// credential and its owner afresh: a passkey registered on another server
// is missing from allowCredentials until the notification arrives
// (milliseconds; at worst listenPing plus the self-check's wait when the
// listener's connection dies silently), a deleted one is refused as
// unknown at finish.
type allowCache struct {
	mu      sync.RWMutex
	on      bool
	gen     uint64
	entries map[string]ceremony.Allow
}

const (
	allowListChannel = "rpserver_allow_list"
	// allowCacheMax bounds the entries (names of users with passkeys).
	allowCacheMax = 65536
	// allowCacheMaxName: longer names are not kept (an Entra UPN is at
	// most 113 characters).
	allowCacheMaxName = 256
	// listenPing is how long the listener waits in silence before it
	// checks that notifications still reach it; selfCheckWait how long it
	// waits for its own.
	listenPing    = 2 * time.Second
	selfCheckWait = time.Second
)

func newAllowCache() *allowCache { return &allowCache{entries: map[string]ceremony.Allow{}} }

// get returns the cached answer for upn (the exact string a client sent:
// the database compares names case-insensitively, so "A@x" and "a@x" are
// two entries with the same answer). The answer's slices are shared: the
// caller must not change them.
func (c *allowCache) get(upn string) (ceremony.Allow, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.entries[upn]
	return a, ok && c.on
}

// generation is read before the database is: put keeps the answer only if
// no flush came in between.
func (c *allowCache) generation() (uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen, c.on
}

func (c *allowCache) put(gen uint64, upn string, a ceremony.Allow) {
	if a.UserID == "" || len(upn) > allowCacheMaxName {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.gen != gen {
		return
	}
	if len(c.entries) >= allowCacheMax {
		for k := range c.entries { // an arbitrary one
			delete(c.entries, k)
			break
		}
	}
	c.entries[upn] = a
}

// flush empties the cache (a change somewhere, or a doubt).
func (c *allowCache) flush() { c.set(true, false) }

// set flushes and turns the cache on or off (keep: as it is).
func (c *allowCache) set(keep, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	if !keep {
		c.on = on
	}
}

// listen keeps a connection LISTENing on allowListChannel and the cache
// on while it does, until ctx ends.
func (c *allowCache) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	const minBackoff = 100 * time.Millisecond
	backoff := minBackoff
	for ctx.Err() == nil {
		wasOn, err := c.listenOnce(ctx, cfg)
		c.set(false, false)
		if ctx.Err() != nil {
			return
		}
		slog.Debug("allow-list cache off: its listener stopped; begins read the database until it listens again", "err", err)
		if wasOn {
			backoff = minBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// listenOnce listens on one connection until it fails; on reports whether
// the cache was on meanwhile.
func (c *allowCache) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) (on bool, err error) {
	cc := cfg.Copy()
	cc.Tracer = nil // no span every listenPing
	cc.RuntimeParams["application_name"] = listenerName
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	// The self-check's channel: this connection's backend, so no other
	// server hears it.
	self := fmt.Sprintf("rpserver_allow_list_self_%d", conn.PgConn().PID())
	if _, err := conn.Exec(ctx, "LISTEN "+allowListChannel+"; LISTEN "+self); err != nil {
		return false, err
	}
	if err := selfCheck(ctx, conn, self, c); err != nil {
		return false, err
	}
	// Listening, and notifications arrive: nothing was cached while off,
	// so nothing missed before can be in the cache.
	c.set(false, true)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n.Channel == allowListChannel {
				c.flush()
			}
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Silence: make sure notifications still reach this
			// connection (not a dead one's, not a proxy's that drops them).
			if err := selfCheck(ctx, conn, self, c); err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// listenerName is the listener's application_name (pg_stat_activity).
const listenerName = "rpserver allow-list listener"

// selfCheck notifies the connection's own channel and waits for it,
// flushing for any change notification that arrives meanwhile.
func selfCheck(ctx context.Context, conn *pgx.Conn, self string, c *allowCache) error {
	wctx, cancel := context.WithTimeout(ctx, selfCheckWait)
	defer cancel()
	if _, err := conn.Exec(wctx, "SELECT pg_notify($1, '')", self); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			return fmt.Errorf("allow-list listener: its own notification did not come back: %w", err)
		}
		if n.Channel == self {
			return nil
		}
		c.flush()
	}
}
