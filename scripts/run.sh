#!/usr/bin/env bash
# Runs the server on a working default: with no DATABASE_URL it starts a
# throwaway PostgreSQL in its data folder (/var/lib/rpserver as root,
# ~/.local/share/rpserver otherwise) and listens on http://localhost:8080.
# On an empty tenant it creates the lab tenant (serve -lab-init) and prints
# admin1's one-time TAP; -lab-init=false starts from an empty tenant.
# Extra arguments go to `rpserver serve` (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
mkdir -p bin
go build -o bin/rpserver ./cmd/rpserver
exec bin/rpserver serve -lab-init "$@"
