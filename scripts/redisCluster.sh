#!/usr/bin/env bash
# A local Redis Cluster for development, the soak and trying cluster mode: three masters and
# three replicas (one each) on 127.0.0.1, data and logs in one directory.
#
#   bash scripts/redisCluster.sh start    start six redis-servers, create the cluster, wait for cluster_state:ok
#   bash scripts/redisCluster.sh stop     shut every node down (their files stay in the directory)
#   bash scripts/redisCluster.sh status   print cluster_state and the nodes; exits 1 unless ok
#   bash scripts/redisCluster.sh nodes    print REDIS_CLUSTER_NODES for this cluster
#
# Settings (environment): REDIS_CLUSTER_PORT (first port, default 7100; the nodes take six in a
# row), REDIS_CLUSTER_DIR (default .data/redis-cluster), REDIS_CLUSTER_NODE_TIMEOUT (ms a master
# may be silent before its replica takes over, default 2000). Needs redis-server and redis-cli
# (Debian: apt-get install redis-server). `start` on a running cluster only checks it.
set -euo pipefail

FIRST_PORT=${REDIS_CLUSTER_PORT:-7100}
DIR=${REDIS_CLUSTER_DIR:-.data/redis-cluster}
NODE_TIMEOUT=${REDIS_CLUSTER_NODE_TIMEOUT:-2000}
HOST=127.0.0.1
WAIT_SECONDS=30
PORTS=()
for offset in 0 1 2 3 4 5; do PORTS+=($((FIRST_PORT + offset))); done

log() { printf '[redis-cluster] %s\n' "$*"; }
die() {
  printf '[redis-cluster] ERROR: %s\n' "$*" >&2
  exit 1
}
cli() { redis-cli -h "$HOST" -p "$1" "${@:2}"; }
answers() { cli "$1" ping 2>/dev/null | grep -q PONG; }
cluster_state() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'; }
nodes_list() {
  local IFS=,
  local nodes=()
  for port in "${PORTS[@]}"; do nodes+=("$HOST:$port"); done
  echo "${nodes[*]}"
}

start_node() {
  local port=$1 dir="$DIR/$1"
  mkdir -p "$dir"
  answers "$port" && return 0
  # AOF on and noeviction, as production should run: a queue's keys must never be evicted.
  redis-server --port "$port" --bind "$HOST" --dir "$(cd "$dir" && pwd)" --daemonize yes \
    --pidfile "$(cd "$dir" && pwd)/redis.pid" --logfile redis.log \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT" \
    --appendonly yes --save '' --maxmemory-policy noeviction
}

wait_until() {
  local what=$1 test=$2
  for _ in $(seq 1 $((WAIT_SECONDS * 10))); do
    eval "$test" && return 0
    sleep 0.1
  done
  die "$what did not happen within ${WAIT_SECONDS}s (logs: $DIR/*/redis.log)"
}

cmd_start() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    die "redis-server and redis-cli are needed (Debian: apt-get install redis-server)"
  for port in "${PORTS[@]}"; do start_node "$port"; done
  for port in "${PORTS[@]}"; do wait_until "node $port answering" "answers $port"; done
  if [ "$(cluster_state "${PORTS[0]}")" != ok ]; then
    local known
    known=$(cli "${PORTS[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')
    if [ "${known:-1}" -le 1 ]; then
      log "creating the cluster on ports ${PORTS[0]}-${PORTS[5]}"
      local addresses=()
      for port in "${PORTS[@]}"; do addresses+=("$HOST:$port"); done
      redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
    fi
  fi
  for port in "${PORTS[@]}"; do wait_until "cluster_state:ok on $port" '[ "$(cluster_state '"$port"')" = ok ]'; done
  wait_until "three replicas attached" '[ "$(cli '"${PORTS[0]}"' cluster nodes | grep -c slave)" = 3 ]'
  log "ready: REDIS_CLUSTER_NODES=$(nodes_list)"
}

cmd_stop() {
  for port in "${PORTS[@]}"; do
    if answers "$port"; then cli "$port" shutdown nosave >/dev/null 2>&1 || true; fi
  done
  log "stopped (data in $DIR)"
}

cmd_status() {
  local state
  state=$(cluster_state "${PORTS[0]}")
  echo "cluster_state: ${state:-no answer on ${PORTS[0]}}"
  [ -n "$state" ] && cli "${PORTS[0]}" cluster nodes | awk '{ print "  " $2, $3 }'
  [ "$state" = ok ]
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  nodes) nodes_list ;;
  -h | --help | help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (use: start | stop | status | nodes | help)" ;;
esac
