package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// CheckLoopback parses target and refuses anything that is not served on
// this machine's loopback: 127.0.0.0/8, ::1 or the name localhost. Names
// other than localhost are refused without resolving them, so DNS cannot
// turn a lab run into traffic against someone else's host.
func CheckLoopback(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: want an http:// or https:// URL", target)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("target %q has no host", target)
	}
	if !strings.EqualFold(host, "localhost") {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("target %q is not loopback: load tests may only target 127.0.0.0/8, ::1 or localhost", target)
		}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("target %q: want only scheme, host, port and an optional path prefix", target)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// NewHTTPClient is tuned so the generator is not the bottleneck: one idle
// keep-alive connection per worker (MaxIdleConnsPerHost defaults to 2,
// which would make most requests open a fresh TCP connection), no
// compression to undo, no proxy from the environment, and no redirects
// (the ceremony endpoints never redirect, and following one could leave
// loopback).
func NewHTTPClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency + 4,
		MaxIdleConnsPerHost: concurrency + 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// APIError is a refused request, with the server's stable code.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Code)
}

// Error codes for failures that carry no server envelope.
const (
	CodeTransport     = "transport"     // connection refused, reset, ...
	CodeTimeout       = "timeout"       // the per-request timeout passed
	CodeAuthenticator = "authenticator" // the virtual authenticator refused the options
	CodeBadResponse   = "badResponse"   // a 2xx whose body is not what the contract says
)

// ErrorCode maps any error of a ceremony step to a stable code for counting.
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return CodeTimeout
	}
	var authErr *authenticatorError
	if errors.As(err, &authErr) {
		return CodeAuthenticator
	}
	var bad *badResponseError
	if errors.As(err, &bad) {
		return CodeBadResponse
	}
	return CodeTransport
}

type authenticatorError struct{ err error }

func (e *authenticatorError) Error() string { return "authenticator: " + e.err.Error() }
func (e *authenticatorError) Unwrap() error { return e.err }

type badResponseError struct{ msg string }

func (e *badResponseError) Error() string { return e.msg }

// maxResponse bounds what we read from the server; ceremony options are a
// few KiB.
const maxResponse = 1 << 20

// client is the HTTP side of the generator.
type client struct {
	http  *http.Client
	bases []string // the targets
	turn  atomic.Uint64
}

// next returns the target for a lone call, round robin.
func (c *client) next() string {
	return c.bases[int(c.turn.Add(1)%uint64(len(c.bases)))]
}

// pair returns the targets of a ceremony's begin and finish: consecutive
// ones, so with two or more targets they always differ and every server
// finishes ceremonies another began.
func (c *client) pair() (begin, finish string) {
	k := int(c.turn.Add(1) % uint64(len(c.bases)))
	return c.bases[k], c.bases[(k+1)%len(c.bases)]
}

// call POSTs body (raw JSON) to path and returns the response body when the
// status is want. Bodies are always read to the end and closed so the
// connection goes back to the keep-alive pool.
func (c *client) call(ctx context.Context, base, path, bearer string, body []byte, want int) ([]byte, error) {
	return c.do(ctx, http.MethodPost, base, path, bearer, body, want)
}

// do is call with any method; a nil body sends none.
func (c *client) do(ctx context.Context, method, base, path, bearer string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, apiError(res.StatusCode, raw)
	}
	return raw, nil
}

// apiError reads Graph's envelope {"error":{"code":...,"message":...}}.
func apiError(status int, raw []byte) *APIError {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Error.Code != "" {
		return &APIError{Status: status, Code: env.Error.Code, Message: env.Error.Message}
	}
	return &APIError{Status: status, Code: fmt.Sprintf("http_%d", status)}
}

// callJSON is call plus decoding of the response into out.
func (c *client) callJSON(ctx context.Context, base, path, bearer string, in any, want int, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	raw, err := c.call(ctx, base, path, bearer, body, want)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &badResponseError{msg: fmt.Sprintf("%s: response is not the expected JSON: %v", path, err)}
	}
	return nil
}
