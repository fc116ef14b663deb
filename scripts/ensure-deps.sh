#!/usr/bin/env bash
# Installs what rpserver needs on a fresh Debian machine and does nothing when
# it is already there: the PostgreSQL server binaries (tests and the default
# `serve` run a throwaway cluster from them) and, with --browser, Chromium for
# the end-to-end tests, plus curl and jq, which docs/walkthrough.md (and its
# test) use, and with --failover pg_auto_failover for the fault suite's
# failover scenario. Go modules are fetched by `go mod download`.
set -euo pipefail

need_pg=1
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && need_pg=0
done
command -v initdb >/dev/null 2>&1 && need_pg=0

need_browser=0
need_failover=0
for arg in "$@"; do
  case "$arg" in
    --browser) command -v chromium >/dev/null 2>&1 || need_browser=1 ;;
    --failover) command -v pg_autoctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_autoctl >/dev/null 2>&1 || need_failover=1 ;;
  esac
done

pkgs=()
[ $need_pg = 1 ] && pkgs+=(postgresql)
[ $need_browser = 1 ] && pkgs+=(chromium)
[ $need_failover = 1 ] && pkgs+=(pg-auto-failover-cli postgresql-15-auto-failover)
# The walkthrough's tools: installed when we may, never a reason to fail.
tools=()
for t in curl jq; do
  command -v $t >/dev/null 2>&1 || tools+=($t)
done
if [ ${#pkgs[@]} -gt 0 ] && [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${pkgs[*]} ${tools[*]}; install them with: sudo apt-get install -y ${pkgs[*]} ${tools[*]}" >&2
  exit 1
fi
if [ ${#tools[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    pkgs+=("${tools[@]}")
  else
    echo "note: docs/walkthrough.md uses ${tools[*]}: sudo apt-get install -y ${tools[*]}" >&2
  fi
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "installing ${pkgs[*]} from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  # Debian's postgresql package starts a cluster of its own; the project never uses it.
  if { [ $need_pg = 1 ] || [ $need_failover = 1 ]; } && command -v pg_ctlcluster >/dev/null 2>&1; then
    service postgresql stop >/dev/null 2>&1 || true
  fi
fi

cd "$(dirname "$0")/.."
go mod download
