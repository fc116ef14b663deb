#!/usr/bin/env bash
# Runs the fault suite (faults/): several rpserver replicas on one
# PostgreSQL under load, with SIGKILL, a database crash, rolling SIGTERM
# restarts and overload; prints, per scenario, the load held, the faults
# injected, acknowledged sign-ins and how many were found afterwards (equal,
# or the scenario fails), and errors by code.
#
#   scripts/faults.sh --short             # about two minutes; CI runs this
#   scripts/faults.sh                     # longer runs, a PostgreSQL failover
#                                         # (pg_auto_failover), a 10-minute soak: ~20 min
#   scripts/faults.sh --short --failover  # the short runs plus the failover
#
# Extra arguments go to the suite (go run ./faults -h lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
  case "$a" in
    --short) args+=(-short) ;;
    --failover) args+=(-failover) ;;
    *) args+=("$a") ;;
  esac
done
if printf '%s\n' "${args[@]}" | grep -qx -- -failover || ! printf '%s\n' "${args[@]}" | grep -qx -- -short; then
  bash scripts/ensure-deps.sh --failover
else
  bash scripts/ensure-deps.sh
fi
mkdir -p bin artifacts
go build -o bin/rpserver ./cmd/rpserver
go build -o bin/faults ./faults
exec bin/faults -rpserver bin/rpserver -json artifacts/faults.json "${args[@]}"
