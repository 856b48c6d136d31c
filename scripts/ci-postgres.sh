#!/usr/bin/env bash
# Start a throw-away PostgreSQL for the server tests and print the export line for its URL.
#
#   eval "$(scripts/ci-postgres.sh)"      # sets NEXTEDIT_TEST_POSTGRES_URL
#   .venv/bin/pytest tests/server          # the telemetry tests now also run against PostgreSQL
#   scripts/ci-postgres.sh stop            # stop it (data dir is removed)
#
# Installs the `postgresql` package with apt-get when no server binaries are found (needs root).
# The cluster lives in a temp dir, listens on 127.0.0.1:${NEXTEDIT_PG_PORT:-54329} with trust auth,
# and runs as the `postgres` user when started by root. Exits 0 without output if PostgreSQL cannot
# be installed or started (the PostgreSQL tests then skip).
set -u
PORT="${NEXTEDIT_PG_PORT:-54329}"
STATE=/tmp/nextedit-ci-postgres
log() { echo "ci-postgres: $*" >&2; }

find_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

if [ "${1:-start}" = stop ]; then
  BIN="$(find_bindir)" || exit 0
  [ -d "$STATE/data" ] && as_pg "$BIN/pg_ctl" -D "$STATE/data" -m fast stop >&2 || true
  rm -rf "$STATE"
  exit 0
fi

BIN="$(find_bindir)"
if [ -z "$BIN" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing postgresql with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || true
  fi
  BIN="$(find_bindir)" || { log "PostgreSQL not available; its tests will skip"; exit 0; }
fi

if [ -f "$STATE/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
  log "already running"
else
  rm -rf "$STATE"
  mkdir -p "$STATE"
  [ "$(id -u)" = 0 ] && chown postgres "$STATE"
  as_pg "$BIN/initdb" -D "$STATE/data" -U postgres --auth=trust -E UTF8 >"$STATE/initdb.log" 2>&1 \
    || { log "initdb failed:"; cat "$STATE/initdb.log" >&2; exit 0; }
  as_pg "$BIN/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
    -o "-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >&2 \
    || { log "server failed to start:"; cat "$STATE/server.log" >&2; exit 0; }
fi
echo "export NEXTEDIT_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
