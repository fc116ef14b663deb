package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// check is the no-loss verdict over a scenario's users: every sign-in the
// generator saw acknowledged must be found afterwards on the surviving
// servers: its sign-in log record, its counter update and its session.
type check struct {
	Acknowledged int `json:"acknowledged"`
	Found        int `json:"found"`   // acknowledged sign-ins with their log record
	Records      int `json:"records"` // success records in the log (may exceed acknowledged: a commit whose answer was lost)
	CountersOK   int `json:"countersOk"`
	CountersAll  int `json:"countersChecked"`
	SessionsOK   int `json:"sessionsOk"`
	SessionsAll  int `json:"sessionsChecked"`
}

func (c check) ok() bool {
	return c.Acknowledged == c.Found && c.CountersOK == c.CountersAll && c.SessionsOK == c.SessionsAll
}

func (c check) String() string {
	return fmt.Sprintf("acknowledged=%d found=%d (log records %d), counters %d/%d, sessions %d/%d",
		c.Acknowledged, c.Found, c.Records, c.CountersOK, c.CountersAll, c.SessionsOK, c.SessionsAll)
}

// verify asks the servers (through the admin API, the interface an operator
// has) for each user's successful sign-ins since `since`, reads each
// credential's stored counter from the database, and presents each user's
// last acknowledged session to every server.
func (d *driver) verify(ctx context.Context, users []*vuser, since time.Time) (check, error) {
	var c check
	conn, err := pgx.Connect(ctx, d.lab.dsn)
	if err != nil {
		return c, fmt.Errorf("verify: connect: %w", err)
	}
	defer conn.Close(ctx)
	for i, u := range users {
		u.mu.Lock()
		acked, last, session := u.acked, u.lastCounter, u.session
		u.mu.Unlock()
		c.Acknowledged += acked
		n, err := d.countSuccesses(ctx, i, u.id, since)
		if err != nil {
			return c, err
		}
		c.Records += n
		c.Found += min(n, acked)
		if acked == 0 {
			continue
		}
		if u.counted {
			c.CountersAll++
			var stored int64
			if err := conn.QueryRow(ctx, `SELECT max(sign_count) FROM webauthn_credentials WHERE user_id = $1`, u.id).Scan(&stored); err != nil {
				return c, fmt.Errorf("verify: counter of %s: %w", u.upn, err)
			}
			if stored >= int64(last) {
				c.CountersOK++
			}
		}
		for j := range d.targets {
			c.SessionsAll++
			if _, err := d.do(ctx, j, http.MethodGet, "/me", session, nil, http.StatusOK); err == nil {
				c.SessionsOK++
			}
		}
	}
	return c, nil
}

func (d *driver) countSuccesses(ctx context.Context, start int, userID string, since time.Time) (int, error) {
	filter := fmt.Sprintf("userId eq '%s' and createdDateTime ge %s and status/errorCode eq 0", userID, since.UTC().Format(time.RFC3339Nano))
	// $select=id: a page of 999 whole records is ~2 MB, and only the count
	// matters here.
	path := "/v1.0/auditLogs/signIns?$top=999&$select=id&$filter=" + url.QueryEscape(filter)
	n := 0
	for path != "" {
		var page struct {
			Value    []struct{ ID string } `json:"value"`
			NextLink string                `json:"@odata.nextLink"`
		}
		if err := d.doJSON(ctx, start, http.MethodGet, path, d.admin, nil, http.StatusOK, &page); err != nil {
			return 0, fmt.Errorf("verify: sign-in log of %s: %w", userID, err)
		}
		n += len(page.Value)
		path = page.NextLink
		if i := strings.Index(path, "/v1.0/"); i > 0 { // an absolute nextLink
			path = path[i:]
		}
	}
	return n, nil
}
