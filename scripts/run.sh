#!/usr/bin/env bash
# Runs the server on a working default: with no DATABASE_URL it starts a
# throwaway PostgreSQL in its data folder (/var/lib/rpserver as root,
# ~/.local/share/rpserver otherwise) and listens on http://localhost:8080.
# Extra arguments go to `rpserver serve` (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
mkdir -p bin
go build -o bin/rpserver ./cmd/rpserver
exec bin/rpserver serve "$@"
