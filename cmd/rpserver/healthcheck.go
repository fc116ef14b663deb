package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/config"
)

// runHealthcheck asks a running server's /readyz and exits 0 only on 200:
// the image's HEALTHCHECK, since a distroless image has no curl.
func runHealthcheck(args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("RPSERVER_DATA_DIR", config.DefaultDataDir()), "the server's data folder, whose server.json gives its URL (RPSERVER_DATA_DIR)")
	url := fs.String("url", "", "readiness URL (default <the running server's URL>/readyz, else http://127.0.0.1:8080/readyz)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *url == "" {
		base := "http://127.0.0.1:8080"
		if rt, ok, err := config.ReadRuntime(*dataDir); err == nil && ok && rt.URL != "" {
			base = rt.URL
		}
		*url = strings.TrimRight(base, "/") + "/readyz"
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", *url, res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(os.Stdout, "ready: %s\n", *url)
	return nil
}
