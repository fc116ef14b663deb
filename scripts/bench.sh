#!/usr/bin/env bash
# Measures rpserver against the plain go-webauthn baseline (bench/baseline)
# side by side, in one run on this machine. Each server gets its own fresh
# PostgreSQL (fsync on, pg_stat_statements loaded); the same generator
# (internal/loadgen, as `rpserver loadtest`) drives them alternately
# A B A B A B, loopback only, each run bounded in time. It prints a Markdown
# table of throughput, p50/p99, CPU µs per sign-in (server, PostgreSQL,
# generator; from /proc), statements, commits and WAL fsyncs per sign-in
# (pg_stat_statements, pg_stat_database, pg_stat_wal), and the ratios of
# rpserver to the baseline. It takes about five minutes with the defaults
# (3 rounds, then 3 half-load runs per server).
#
# Arguments go to bench/compare (see `go run ./bench/compare -h`), e.g.
#   bash scripts/bench.sh -rounds 3 -duration 8s -json /tmp/bench.json
#   bash scripts/bench.sh -prefill-signins 2000000   # CPU per sign-in with a large sign-in log
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
mkdir -p bin
go build -o bin/rpserver ./cmd/rpserver
go build -o bin/baseline ./bench/baseline
go build -o bin/bench-compare ./bench/compare
exec bin/bench-compare -bin bin "$@"
