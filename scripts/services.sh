#!/usr/bin/env bash
# Local PostgreSQL (+ pgvector) and Redis for development and the test suite, and Chromium for
# its browser tests.
#
#   bash scripts/services.sh          same as `up`
#   bash scripts/services.sh up       install what is missing, start what is stopped, wait, report
#   bash scripts/services.sh status   report only; changes nothing; exits 1 unless both are ready
#   bash scripts/services.sh pgbouncer start|stop|status ...
#                                     a private PgBouncer (transaction pooling) in front of the
#                                     local PostgreSQL: scripts/pgbouncer.sh, same arguments
#   bash scripts/services.sh cluster [start|stop|status|nodes]   a local Redis Cluster (scripts/redisCluster.sh)
#
# Targets what the tests expect: PostgreSQL at 127.0.0.1:5432 (user postgres, no password) with
# the `vector` extension available, Redis at 127.0.0.1:6379, Debian's `pgbouncer` (installed, not
# run as a service: the PgBouncer suite starts its own), and Chromium at /usr/bin/chromium
# (or CHROMIUM_PATH) for the tests that drive a real browser. Idempotent: when all are already
# there, `up` only checks and reports. apt is used only when something is missing, and needs
# root; otherwise the script says what to install and exits non-zero. Debian/Ubuntu only.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
WAIT_SECONDS=30

export DEBIAN_FRONTEND=noninteractive

log() { printf '[services] %s\n' "$*"; }
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Is something listening on host:port? (bash's /dev/tcp; works without any client installed)
tcp_open() { timeout 2 bash -c ": >/dev/tcp/$1/$2" 2>/dev/null; }

# ---------------------------------------------------------------- apt, only when needed
APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" -eq 0 ] || [ "${1:-}" = force ]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=120 update -qq
    APT_UPDATED=1
  fi
}
# $1: what needs doing; $2: how to do it by hand.
need_root_for() {
  is_root && return 0
  die "$1 needs root. Run this script as root (sudo bash scripts/services.sh), or do it yourself:
    $2
  then run 'bash scripts/services.sh' again."
}
apt_install() {
  need_root_for "installing $*" "sudo apt-get install -y $*"
  have apt-get || die "apt-get not found; install these yourself: $*"
  apt_update
  log "apt-get install $*"
  apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "$@" </dev/null
}

# ---------------------------------------------------------------- PostgreSQL
PG_INSTALLED_NOW=0

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

# psql as the test suite connects: TCP, user postgres, never prompt for a password.
pg_sql() { psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "$1" </dev/null; }

# "VERSION CLUSTER" of the Debian cluster configured for our port (first cluster as fallback).
pg_cluster() {
  have pg_lsclusters || return 1
  pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '
    $3 == port { print $1, $2; found = 1; exit }
    NR == 1    { first = $1 " " $2 }
    END        { if (!found && first != "") print first }'
}

# Newest PostgreSQL server version installed the Debian way (/usr/lib/postgresql/N/bin/postgres).
pg_server_version() {
  find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
    awk -F/ '{ print $5 }' | sort -V | tail -n1
}

ensure_postgres_installed() {
  if have pg_isready && have psql; then
    if pg_ready || { [ -n "$(pg_server_version)" ] && have pg_ctlcluster; }; then return 0; fi
  fi
  if tcp_open "$PG_HOST" "$PG_PORT"; then
    # A server answers (e.g. a container); only the client tools are missing.
    log "something listens on $PG_HOST:$PG_PORT but pg_isready/psql are missing; installing the client"
    apt_install postgresql-client
    return 0
  fi
  log "PostgreSQL is not installed; installing it"
  apt_install postgresql postgresql-contrib
  PG_INSTALLED_NOW=1
}

start_postgres() {
  if pg_ready; then
    log "postgres: already running at $PG_HOST:$PG_PORT"
    return 0
  fi
  local cluster
  cluster=$(pg_cluster || true)
  if [ -z "$cluster" ]; then
    # postgresql-common is there but the cluster was dropped: create the default one.
    local version
    version=$(pg_server_version)
    [ -n "$version" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql; install the 'postgresql' package"
    need_root_for "creating a PostgreSQL cluster" "sudo pg_createcluster $version main --port $PG_PORT --start"
    log "no PostgreSQL cluster found; creating $version/main on port $PG_PORT"
    pg_createcluster "$version" main --port "$PG_PORT" >/dev/null
    cluster="$version main"
  fi
  # shellcheck disable=SC2086 # "VERSION CLUSTER" is two words on purpose
  set -- $cluster
  log "postgres: not answering at $PG_HOST:$PG_PORT; starting cluster $1/$2"
  if ! pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start; then
    pg_ready && return 0 # started concurrently by someone else
    is_root || die "could not start PostgreSQL as $(id -un); try: sudo pg_ctlcluster --skip-systemctl-redirect $1 $2 start"
    die "pg_ctlcluster $1 $2 start failed; see /var/log/postgresql/postgresql-$1-$2.log"
  fi
}

# On a machine this script set up (or a throwaway CI machine), let local TCP connections in
# without a password, as the tests expect. Anywhere else, say what to change instead.
ensure_postgres_login() {
  local error
  if error=$(pg_sql 'select 1' 2>&1 >/dev/null); then return 0; fi
  local cluster hba
  cluster=$(pg_cluster || true)
  if [ -n "$cluster" ]; then
    # shellcheck disable=SC2086
    set -- $cluster
    hba=/etc/postgresql/$1/$2/pg_hba.conf
  fi
  if [ -n "${hba:-}" ] && [ -w "$hba" ] && { [ "$PG_INSTALLED_NOW" -eq 1 ] || [ "${CI:-}" = true ]; }; then
    log "postgres: allowing password-less local TCP logins in $hba (fresh/CI machine)"
    local tmp
    tmp=$(mktemp)
    {
      echo '# Added by parley scripts/services.sh: local test access without a password.'
      echo 'host    all    all    127.0.0.1/32    trust'
      echo 'host    all    all    ::1/128         trust'
      cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba"
    rm -f "$tmp"
    pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload
    sleep 1
    error=$(pg_sql 'select 1' 2>&1 >/dev/null) && return 0
  fi
  die "cannot log in as 'postgres' at $PG_HOST:$PG_PORT without a password:
    $error
  The tests connect as postgres://postgres@$PG_HOST:$PG_PORT/postgres. Either add
    host all all 127.0.0.1/32 trust
  at the top of ${hba:-your pg_hba.conf} and reload PostgreSQL, or set TEST_DATABASE_URL
  (with a password) to an admin connection of your own."
}

vector_available() { [ "$(pg_sql "select 1 from pg_available_extensions where name = 'vector'" 2>/dev/null)" = 1 ]; }

# Debian 12 has no pgvector package: build it from trixie's source package (~15 s).
ensure_vector() {
  if vector_available; then return 0; fi
  local version_num major pg_config
  version_num=$(pg_sql 'show server_version_num')
  major=$((version_num / 10000))
  log "postgres: the 'vector' extension is missing for PostgreSQL $major; installing pgvector"
  need_root_for "installing pgvector" "sudo apt-get install postgresql-$major-pgvector, or where there is no such package
    build it: https://github.com/pgvector/pgvector#installation"

  # A binary package exists on newer Debian/Ubuntu releases; prefer it.
  apt_update
  if [ -n "$(apt-cache policy "postgresql-$major-pgvector" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" { print $2 }')" ]; then
    apt_install "postgresql-$major-pgvector"
  else
    pg_config=/usr/lib/postgresql/$major/bin/pg_config
    local build_deps=(dpkg-dev make gcc libc6-dev)
    # postgresql-client ships pg_config too, without the server headers a build needs.
    [ -f "$("$pg_config" --includedir-server 2>/dev/null)/postgres.h" ] || build_deps+=("postgresql-server-dev-$major")
    local missing=()
    local package
    for package in "${build_deps[@]}"; do
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
    [ -f "$("$pg_config" --includedir-server 2>/dev/null)/postgres.h" ] ||
      die "PostgreSQL $major server headers still missing after installing postgresql-server-dev-$major"

    if ! apt-cache showsrc pgvector 2>/dev/null | grep -q '^Package: pgvector'; then
      log "adding Debian trixie source packages (deb-src only) to build pgvector"
      cat >/etc/apt/sources.list.d/parley-trixie-src.sources <<'EOF'
# Added by parley scripts/services.sh: pgvector source package (Debian 12 has none for its PostgreSQL).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
      apt_update force
    fi

    BUILD_DIR=$(mktemp -d)
    trap 'rm -rf "$BUILD_DIR"' EXIT
    log "building pgvector from source in $BUILD_DIR"
    (
      cd "$BUILD_DIR"
      apt-get -qq -o APT::Sandbox::User=root source pgvector </dev/null >/dev/null
      cd pgvector-*/
      # OPTFLAGS="" keeps -march=native out, so the build runs on any CPU of this architecture.
      make -s PG_CONFIG="$pg_config" OPTFLAGS="" >/dev/null
      make -s install PG_CONFIG="$pg_config" OPTFLAGS="" >/dev/null
    )
    rm -rf "$BUILD_DIR"
    trap - EXIT
  fi
  vector_available || die "pgvector was installed but PostgreSQL $major still does not list the 'vector' extension"
  log "postgres: pgvector installed"
}

postgres_status() {
  local version vector
  version=$(pg_sql 'show server_version' 2>/dev/null | awk '{ print $1 }')
  vector=$(pg_sql "select default_version from pg_available_extensions where name = 'vector'" 2>/dev/null || true)
  printf 'postgres: ready at %s:%s (PostgreSQL %s, vector %s available)\n' \
    "$PG_HOST" "$PG_PORT" "${version:-?}" "${vector:-NOT}"
}

# ---------------------------------------------------------------- Redis
redis_ready() { [ "$(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

ensure_redis_installed() {
  have redis-server && have redis-cli && return 0
  if have redis-cli && tcp_open "$REDIS_HOST" "$REDIS_PORT"; then return 0; fi
  log "Redis is not installed; installing it"
  apt_install redis-server
}

start_redis() {
  if redis_ready; then
    log "redis: already running at $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  if tcp_open "$REDIS_HOST" "$REDIS_PORT"; then
    die "something listens on $REDIS_HOST:$REDIS_PORT but does not answer PING with PONG (password? not Redis?)"
  fi
  local dir=/var/lib/redis logfile=/var/log/redis/ci.log
  if ! is_root; then
    # Without root, keep Redis's files in a directory of our own.
    dir=${XDG_STATE_HOME:-${HOME:-/nonexistent}/.local/state}/parley-redis
    mkdir -p "$dir" 2>/dev/null || dir=${TMPDIR:-/tmp}/parley-redis-$(id -u)
    logfile=$dir/redis.log
  fi
  mkdir -p "$dir" "$(dirname "$logfile")"
  log "redis: not answering at $REDIS_HOST:$REDIS_PORT; starting redis-server (log: $logfile)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$dir" --logfile "$logfile"
}

redis_status() {
  local version
  version=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')
  printf 'redis: ready at %s:%s (Redis %s)\n' "$REDIS_HOST" "$REDIS_PORT" "${version:-?}"
}

# ---------------------------------------------------------------- PgBouncer (its own suite)
# Installed only; Debian's package would run a system pgbouncer on 6432, which nothing here
# uses: scripts/pgbouncer.sh starts private ones on spare ports.
PGBOUNCER_BIN=/usr/sbin/pgbouncer

ensure_pgbouncer() {
  if [ -x "$PGBOUNCER_BIN" ] || have pgbouncer; then return 0; fi
  log "pgbouncer: not installed; installing Debian's pgbouncer (the PgBouncer suite and soak use it)"
  apt_install pgbouncer
}

pgbouncer_status() {
  if [ -x "$PGBOUNCER_BIN" ] || have pgbouncer; then
    printf 'pgbouncer: %s\n' "$("${PGBOUNCER_BIN}" --version 2>/dev/null | head -n1 || pgbouncer --version | head -n1)"
  else
    printf 'pgbouncer: NOT installed (the PgBouncer suite fails until it is)\n'
  fi
}

# ---------------------------------------------------------------- Chromium (browser tests)
CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}

ensure_chromium() {
  if [ -x "$CHROMIUM_PATH" ]; then return 0; fi
  log "chromium: not found at $CHROMIUM_PATH; installing Debian's chromium (playwright-core drives it)"
  apt_install chromium
  [ -x "$CHROMIUM_PATH" ] || die "chromium is installed but $CHROMIUM_PATH is missing; set CHROMIUM_PATH to its binary"
}

chromium_status() {
  if [ -x "$CHROMIUM_PATH" ]; then
    printf 'chromium: %s (%s)\n' "$CHROMIUM_PATH" "$("$CHROMIUM_PATH" --version 2>/dev/null || echo '?')"
  else
    printf 'chromium: NOT found at %s (browser tests fail until it is)\n' "$CHROMIUM_PATH"
  fi
}

# ---------------------------------------------------------------- waiting
# Polls both services until they answer or WAIT_SECONDS pass (one shared deadline).
wait_for_services() {
  local deadline=$((SECONDS + WAIT_SECONDS)) pg=0 redis=0
  while :; do
    [ "$pg" -eq 1 ] || { pg_ready && pg=1; } || true
    [ "$redis" -eq 1 ] || { redis_ready && redis=1; } || true
    [ "$pg" -eq 1 ] && [ "$redis" -eq 1 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ "$pg" -eq 1 ] || warn "postgres: not ready at $PG_HOST:$PG_PORT after ${WAIT_SECONDS}s (logs: /var/log/postgresql/)"
      [ "$redis" -eq 1 ] || warn "redis: not ready at $REDIS_HOST:$REDIS_PORT after ${WAIT_SECONDS}s (log: /var/log/redis/ci.log)"
      return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- commands
cmd_up() {
  ensure_postgres_installed
  ensure_redis_installed
  start_postgres
  start_redis
  wait_for_services || die "services did not become ready"
  ensure_postgres_login
  ensure_vector
  ensure_pgbouncer
  ensure_chromium
  postgres_status
  redis_status
  pgbouncer_status
  chromium_status
}

cmd_status() {
  local ok=0
  if have pg_isready && have psql && pg_ready && pg_sql 'select 1' >/dev/null 2>&1; then
    postgres_status
    vector_available || {
      echo "postgres: the 'vector' extension is NOT available"
      ok=1
    }
  else
    echo "postgres: NOT ready at $PG_HOST:$PG_PORT"
    ok=1
  fi
  if have redis-cli && redis_ready; then redis_status; else
    echo "redis: NOT ready at $REDIS_HOST:$REDIS_PORT"
    ok=1
  fi
  pgbouncer_status
  chromium_status
  return "$ok"
}

case "${1:-up}" in
  up) cmd_up ;;
  status) cmd_status ;;
  pgbouncer)
    shift
    exec bash "$(dirname "$0")/pgbouncer.sh" "$@"
    ;;
  cluster) exec bash "$(dirname "$0")/redisCluster.sh" "${@:2}" ;;
  -h | --help | help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (use: up | status | pgbouncer | cluster | help)" ;;
esac
