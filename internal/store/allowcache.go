package store

import (
	"context"
	"errors"
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
// a connection of its own LISTENs on allowListChannel: triggers on
// webauthn_credentials (insert, delete, a change of owner or transports),
// users (a change of name) and webauthn_challenge_epoch (insert, delete,
// truncate) notify every server at commit (migration 024), and each
// notification empties the cache. This process's own writes empty it
// synchronously too (flush), so a passkey registered here is listed by the
// next begin here. When the listening connection fails, or does not
// answer a ping within listenPing of silence, the cache empties and stays
// off (begins read the database, as without it) until a new connection
// listens again: a notification missed while nobody listened can only
// concern entries that are gone. A crash or failover of PostgreSQL ends
// every connection, the listener's too, which also drops the cached epoch
// that the crash emptied. A fill races a flush by generation: an answer
// read before a flush is not kept after it.
//
// What staleness could do is bounded by the finish, which reads the
// credential and its owner afresh: a passkey registered on another server
// is missing from allowCredentials until the notification arrives
// (milliseconds), a deleted one is refused as unknown at finish.
type allowCache struct {
	mu      sync.RWMutex
	on      bool
	gen     uint64
	entries map[string]ceremony.Allow
}

const (
	allowListChannel = "rpserver_allow_list"
	// allowCacheMax bounds the entries (names begun for, known or not);
	// beyond it answers are not kept until the next flush.
	allowCacheMax = 65536
	// listenPing is how long the listener waits in silence before it
	// checks that its connection still answers.
	listenPing = 10 * time.Second
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on && c.gen == gen && len(c.entries) < allowCacheMax {
		c.entries[upn] = a
	}
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
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, cfg)
		c.set(false, false)
		if ctx.Err() != nil {
			return
		}
		slog.Debug("allow-list cache off: its listener stopped; begins read the database until it listens again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (c *allowCache) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+allowListChannel); err != nil {
		return err
	}
	// Listening from here on: nothing was cached while off, so nothing
	// missed before can be in the cache.
	c.set(false, true)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			c.flush()
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Silence: make sure it is not a dead connection's.
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}
