package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Runtime is what a running `rpserver serve` publishes in its data folder
// (server.json) so the client commands run beside it (admin token, phone,
// loadtest) mint tokens for the right issuer and reach the right address
// without repeating serve's flags.
type Runtime struct {
	Issuer  string   `json:"issuer"`
	Origins []string `json:"origins"`
	// URL is where the server listens, as a loopback URL clients can call.
	URL string `json:"url"`
	PID int    `json:"pid"`
}

// RuntimeFile is the path of server.json in dataDir.
func RuntimeFile(dataDir string) string { return filepath.Join(dataDir, "server.json") }

// WriteRuntime publishes rt in the data folder; remove it with the returned
// function when the server stops.
func (c *Config) WriteRuntime(rt Runtime) (remove func(), err error) {
	raw, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
		return nil, fmt.Errorf("config: data folder: %w", err)
	}
	path := RuntimeFile(c.DataDir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("config: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("config: write %s: %w", path, err)
	}
	return func() { _ = os.Remove(path) }, nil
}

// ReadRuntime reads the server.json a running serve wrote in dataDir.
// ok is false when there is none.
func ReadRuntime(dataDir string) (rt Runtime, ok bool, err error) {
	raw, err := os.ReadFile(RuntimeFile(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return rt, false, nil
	}
	if err != nil {
		return rt, false, err
	}
	if err := json.Unmarshal(raw, &rt); err != nil {
		return rt, false, fmt.Errorf("config: %s: %w", RuntimeFile(dataDir), err)
	}
	return rt, true, nil
}

// AdoptRunningIssuer replaces the computed default issuer by the running
// server's, unless -issuer or -origins was given.
func (c *Config) AdoptRunningIssuer() error {
	if c.IssuerExplicit {
		return nil
	}
	rt, ok, err := ReadRuntime(c.DataDir)
	if err != nil || !ok || rt.Issuer == "" {
		return err
	}
	c.Issuer = rt.Issuer
	return nil
}
