package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/testpg"
)

// walkthroughFile is the newcomer's page this test keeps true.
const walkthroughFile = "../../docs/walkthrough.md"

// maxWalkthroughCommands is the bound: the article's rollout in at
// most 25 commands from a fresh clone.
const maxWalkthroughCommands = 25

// runAsBinaryEnv makes the test binary behave as the rpserver binary, so the
// walkthrough's `bin/rpserver` runs this very build without a second
// compile.
const runAsBinaryEnv = "RPSERVER_TEST_RUN_MAIN"

// block is one fenced code block of the walkthrough.
type block struct {
	info   string // the fence's info string: "sh", "sh exit=1", "sh terminal-1", "text"
	body   string
	line   int // where it starts in the file, for messages
	expect string
}

// parseWalkthrough returns the shell blocks (each with the text block that
// follows it, its expected output) and the command count the page claims.
func parseWalkthrough(t *testing.T, raw string) (blocks []block, claimed int) {
	t.Helper()
	m := regexp.MustCompile(`\*\*(\d+) commands from a fresh clone\*\*`).FindStringSubmatch(raw)
	if m == nil {
		t.Fatal("walkthrough: no '**N commands from a fresh clone**' sentence")
	}
	claimed, _ = strconv.Atoi(m[1])
	sc := bufio.NewScanner(strings.NewReader(raw))
	var cur *block
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```") && len(line) > 3:
			cur = &block{info: strings.TrimSpace(line[3:]), line: n}
		case cur != nil && line == "```":
			if cur.info == "text" {
				if len(blocks) == 0 || blocks[len(blocks)-1].expect != "" {
					t.Fatalf("walkthrough line %d: an output block must follow a command block", cur.line)
				}
				blocks[len(blocks)-1].expect = cur.body
			} else if strings.HasPrefix(cur.info, "sh") {
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("walkthrough line %d: unclosed code block", cur.line)
	}
	return blocks, claimed
}

// countCommands counts commands as the page defines them: a line at the
// left margin (not a comment, not a closing `done`); indented lines
// continue the command above.
func countCommands(blocks []block) int {
	n := 0
	for _, b := range blocks {
		for _, line := range strings.Split(b.body, "\n") {
			if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line == "done" {
				continue
			}
			n++
		}
	}
	return n
}

// matchExpected checks that every expected line appears in out, in order;
// "<...>" in an expected line matches any text.
func matchExpected(expect, out string) error {
	outLines := strings.Split(out, "\n")
	i := 0
	for _, want := range strings.Split(strings.TrimRight(expect, "\n"), "\n") {
		parts := regexp.MustCompile(`<[^>]*>`).Split(want, -1)
		for j := range parts {
			parts[j] = regexp.QuoteMeta(parts[j])
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".+?") + "$")
		found := false
		for ; i < len(outLines); i++ {
			if re.MatchString(outLines[i]) {
				found, i = true, i+1
				break
			}
		}
		if !found {
			return fmt.Errorf("expected line not printed (in this order): %q", want)
		}
	}
	return nil
}

// TestWalkthrough runs docs/walkthrough.md's commands, in one shell, against
// a fresh server built as serve builds it, and checks each block's printed
// output against the page. The page's http://localhost:8080 becomes the test
// server's port; the server's own start command (terminal-1) is replaced by
// the test's server.
func TestWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s (scripts/ensure-deps.sh installs it): %v", tool, err)
		}
	}
	raw, err := os.ReadFile(walkthroughFile)
	if err != nil {
		t.Fatal(err)
	}
	blocks, claimed := parseWalkthrough(t, string(raw))
	if got := countCommands(blocks); got != claimed || got > maxWalkthroughCommands {
		t.Fatalf("walkthrough: %d commands, the page says %d, the bound is %d", got, claimed, maxWalkthroughCommands)
	}

	// A fresh server on a free port, with its data folder (lab CA,
	// server.json) where the commands look for it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	origin := fmt.Sprintf("http://localhost:%d", port)
	dataDir := t.TempDir()
	dsn := testpg.NewDatabase(t)
	c := config.Config{DataDir: dataDir, Issuer: origin, RPID: "localhost", RPDisplayName: "rpserver lab", Origins: []string{origin},
		AdminTokenTTL: time.Hour, MaxBodyBytes: 64 << 10, LabCA: true}
	ctx := context.Background()
	srv, err := newServer(ctx, c, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := &http.Server{Handler: srv.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	remove, err := c.WriteRuntime(config.Runtime{Issuer: c.Issuer, Origins: c.Origins, URL: "http://" + ln.Addr().String(), PID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()

	// The clone: bin/rpserver is this test binary acting as the command.
	work := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", runAsBinaryEnv, self)
	if err := os.WriteFile(filepath.Join(work, "bin", "rpserver"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}

	// One shell for every block, so variables carry over; a marker after
	// each block separates the outputs and records the exit status.
	var script strings.Builder
	script.WriteString("set -uo pipefail\n")
	var run []block
	for _, b := range blocks {
		if strings.Contains(b.info, "terminal-1") {
			continue // the server: the test runs its own
		}
		body := strings.ReplaceAll(b.body, "localhost:8080", fmt.Sprintf("localhost:%d", port))
		fmt.Fprintf(&script, "%s__rc=$?\necho \"@@block %d rc=$__rc@@\"\n", body, len(run))
		if !strings.Contains(b.info, "exit=") {
			fmt.Fprintf(&script, "[ $__rc = 0 ] || exit $__rc\n")
		}
		run = append(run, b)
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "RPSERVER_DATA_DIR="+dataDir, "DATABASE_URL="+dsn, "RPSERVER_TARGET=", "HOME="+work)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()

	outputs := regexp.MustCompile(`@@block (\d+) rc=(\d+)@@\n`).Split(out.String(), -1)
	rcs := regexp.MustCompile(`@@block (\d+) rc=(\d+)@@`).FindAllStringSubmatch(out.String(), -1)
	for i, b := range run {
		if i >= len(rcs) {
			t.Fatalf("walkthrough line %d: the commands stopped here (%v); output:\n%s", b.line, runErr, outputs[len(outputs)-1])
		}
		want := "0"
		if _, v, ok := strings.Cut(b.info, "exit="); ok {
			want = v
		}
		if rcs[i][2] != want {
			t.Fatalf("walkthrough line %d: exit status %s, want %s; output:\n%s", b.line, rcs[i][2], want, outputs[i])
		}
		if b.expect != "" {
			if err := matchExpected(b.expect, outputs[i]); err != nil {
				t.Fatalf("walkthrough line %d: %v; output:\n%s", b.line, err, outputs[i])
			}
		}
	}
	if runErr != nil {
		t.Fatalf("walkthrough: %v\n%s", runErr, out.String())
	}
}
