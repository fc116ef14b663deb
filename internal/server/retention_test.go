package server_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/store"
)

// New runs the first retention pass before it returns, with the configured
// windows, and Close stops the passes (a second Close is harmless).
func TestNewMakesTodaysPartitions(t *testing.T) {
	srv := servertest.New(t, server.Config{SignInLogRetentionDays: 7})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for _, table := range []string{store.SignInLog, store.AuditLog} {
		days, err := srv.DB.Partitions().Days(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(days, today.Equal) || !slices.ContainsFunc(days, today.Add(24*time.Hour).Equal) {
			t.Fatalf("%s partitions %v: want today's and tomorrow's", table, days)
		}
	}
	logs := srv.Retention.Config().Logs
	if logs[0].Table != store.SignInLog || logs[0].Days != 7 || logs[1].Table != store.AuditLog || logs[1].Days != 30 {
		t.Fatalf("retention windows %+v", logs)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `rpserver_retention_passes_total{result="ok"} 1`) || !strings.Contains(string(body), "rpserver_retention_last_success_timestamp_seconds") {
		t.Fatalf("/metrics has no retention pass:\n%s", body)
	}
	srv.Retention.Close()
	srv.Retention.Close()
}
