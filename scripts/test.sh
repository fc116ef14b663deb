#!/usr/bin/env bash
# Runs every test, on a fresh machine too: installs PostgreSQL (and Chromium
# for the browser tests) from Debian's packages when missing, fetches Go
# modules, then runs vet, staticcheck and the tests with the race detector, then
# the fault suite's short runs (scripts/faults.sh --short). Each test
# package starts its own throwaway PostgreSQL (internal/testpg) unless
# RPSERVER_TEST_DATABASE_URL names one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --browser
mkdir -p artifacts
go vet ./...
go tool staticcheck ./...   # pinned in go.mod's tool block
go test -race -count=1 -timeout 20m ./... 2>&1 | tee artifacts/test.log
# The fault suite's short runs (faults/, about two minutes): replicas,
# SIGKILL, a database crash, rolling restarts and overload, each checked for
# acknowledged-but-lost sign-ins.
bash scripts/faults.sh --short 2>&1 | tee artifacts/faults.log
