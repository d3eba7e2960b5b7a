#!/usr/bin/env bash
# A private PgBouncer in transaction pooling mode in front of the local PostgreSQL, for the
# PgBouncer test suite and `npm run soak -- --pgbouncer`.
#
#   bash scripts/pgbouncer.sh start [--port P] [--dir D] [--pool-size N] [--upstream HOST:PORT]
#                                   [--query-wait-timeout SECONDS]
#        starts one in D (default: a new temp dir) on port P (default: a free port), waits until
#        it answers, prints `dir=D port=P url=postgres://postgres@127.0.0.1:P/postgres`
#   bash scripts/pgbouncer.sh stop --dir D     stops the one started in D and removes D
#   bash scripts/pgbouncer.sh status --dir D   exits 0 when the one in D answers
#
# Every database name is passed through to the upstream server (`* = …`), so a test's own
# database works without editing the config. Auth: trust, like the local test server (the user
# still has to be listed in auth_file). pool_mode=transaction: a server connection belongs to a
# client only for one transaction, so nothing may rely on session state (see docs/operations.md).
# Debian's package (`bash scripts/services.sh` installs it) is PgBouncer 1.18: no protocol-level
# prepared statements (max_prepared_statements came in 1.21), so clients must not use named ones.
set -euo pipefail

log() { printf '[pgbouncer] %s\n' "$*" >&2; }
die() {
  printf '[pgbouncer] ERROR: %s\n' "$*" >&2
  exit 1
}

PGBOUNCER=${PGBOUNCER_BIN:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
WAIT_SECONDS=20

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

answers() { # $1 port
  psql -X -w -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAc 'select 1' </dev/null >/dev/null 2>&1
}

cmd_start() {
  local port="" dir="" pool_size=20 upstream=127.0.0.1:5432 query_wait_timeout=10
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port=$2; shift 2 ;;
      --dir) dir=$2; shift 2 ;;
      --pool-size) pool_size=$2; shift 2 ;;
      --upstream) upstream=$2; shift 2 ;;
      --query-wait-timeout) query_wait_timeout=$2; shift 2 ;;
      *) die "unknown option '$1'" ;;
    esac
  done
  [ -x "$PGBOUNCER" ] || die "pgbouncer not found; run 'bash scripts/services.sh' (as root) to install Debian's package"
  [ -n "$port" ] || port=$(free_port)
  [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/parley-pgbouncer-XXXXXX")
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<EOF
; Written by parley scripts/pgbouncer.sh
[databases]
* = host=${upstream%:*} port=${upstream##*:}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = $pool_size
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 2000
; With Postgres down, PgBouncer queues a client until a server connection can be had; the default
; (120 s) would hang every query of an outage. After this long the client gets an error (08P01),
; which Parley reads as "database unavailable" (503 / retry), as it does a refused connection.
query_wait_timeout = $query_wait_timeout
; After a failed server login PgBouncer refuses clients for this long (default 15 s): Postgres
; back from an outage should be used at once.
server_login_retry = 1
; node-postgres may send these; PgBouncer refuses unknown startup parameters otherwise.
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  echo '"postgres" ""' >"$dir/userlist.txt"
  # PgBouncer refuses to run as root: as root, run it as the `postgres` user Debian's server has.
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$dir"
    "$PGBOUNCER" -q -d -u postgres "$dir/pgbouncer.ini"
  else
    "$PGBOUNCER" -q -d "$dir/pgbouncer.ini"
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  until answers "$port"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$dir/pgbouncer.log" >&2 || true
      die "PgBouncer on port $port did not answer within ${WAIT_SECONDS}s (log: $dir/pgbouncer.log)"
    fi
    sleep 0.1
  done
  printf 'dir=%s port=%s url=postgres://postgres@127.0.0.1:%s/postgres\n' "$dir" "$port" "$port"
}

cmd_stop() {
  [ "${1:-}" = --dir ] && [ -n "${2:-}" ] || die "usage: stop --dir D"
  local dir=$2 pid
  if [ -f "$dir/pgbouncer.pid" ]; then
    pid=$(cat "$dir/pgbouncer.pid")
    if kill "$pid" 2>/dev/null; then
      # SIGTERM closes it at once; wait for the process to be gone before removing its files.
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    fi
  fi
  rm -rf "$dir"
}

cmd_status() {
  [ "${1:-}" = --dir ] && [ -n "${2:-}" ] || die "usage: status --dir D"
  local port
  port=$(awk -F' *= *' '$1 == "listen_port" { print $2 }' "$2/pgbouncer.ini" 2>/dev/null) || true
  [ -n "$port" ] && answers "$port"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  -h | --help | help | "") sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (use: start | stop | status | help)" ;;
esac
