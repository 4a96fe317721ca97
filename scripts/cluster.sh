#!/usr/bin/env bash
# The production topology on this machine, without Docker: a real Temporal
# server (v1.29.1, built from the Go module proxy) on PostgreSQL with 16
# history shards, two `playbookd api` and two `playbookd worker` processes.
#
#   scripts/cluster.sh [up] [--background]   provision, start everything; Ctrl-C stops it
#                                            (--background or CLUSTER_BACKGROUND=1: leave it running)
#   scripts/cluster.sh stop                  stop everything started by `up`
#   scripts/cluster.sh status                what runs, with pids and addresses
#   scripts/cluster.sh start|stop|kill NAME  one process: temporal, api1, api2, worker1, worker2
#                                            (kill is SIGKILL; start reuses the settings of `up`)
#
# State, logs and the settings of the processes are in .data/cluster/: env
# (sourceable: addresses, admin key), <name>.log, <name>.pid.
# CLUSTER_TLS=1: the frontend serves mTLS with a CA made here (.data/cluster/tls),
# and the playbookd processes connect with TEMPORAL_TLS_CERT/KEY/CA.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

DIR=$ROOT/.data/cluster
# Ports: the frontend is on 7333 so a dev server from `make run` (7233) can run
# beside it; the other Temporal services follow it.
TEMPORAL_PORT=${CLUSTER_TEMPORAL_PORT:-7333}
TEMPORAL_ADDR=127.0.0.1:$TEMPORAL_PORT
TEMPORAL_METRICS_ADDR=127.0.0.1:$((TEMPORAL_PORT + 57)) # 7390: the server's Prometheus /metrics
API_PORT=${CLUSTER_API_PORT:-8080}                      # api1, api2 on 8080, 8081
WORKER_METRICS_PORT=${CLUSTER_WORKER_METRICS_PORT:-9090} # worker1, worker2 on 9090, 9091
NAMESPACE=${CLUSTER_NAMESPACE:-default}
NUM_HISTORY_SHARDS=16 # fixed for the life of the databases: changing it needs new ones
DB=${CLUSTER_DATABASE:-playbookd_cluster}
TEMPORAL_DB_USER=temporal
TEMPORAL_DB_PASSWORD=temporal
# Connections to PostgreSQL, which allows 100 by default: the Temporal
# server's pool per store and service (the visibility store gets half), and
# each playbookd process's pool (empty: playbookd's default, 20). At the
# defaults the whole cluster can want more than 100 under load; the
# benchmarks run with 8 and 8.
TEMPORAL_DB_CONNS=${CLUSTER_TEMPORAL_DB_CONNS:-20}
PLAYBOOKD_DB_CONNS=${CLUSTER_PLAYBOOKD_DB_CONNS:-}
COMPONENTS="temporal api1 api2 worker1 worker2"

pidfile() { echo "$DIR/$1.pid"; }
# pid_of NAME: the pid of a running process of ours, checked by its program
# name, so a stale pid file never makes us signal an unrelated process.
pid_of() {
	local pid comm want=playbookd
	[ "$1" = temporal ] && want=temporal-server
	pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
	comm=$(ps -o comm= -p "$pid" 2>/dev/null) || return 1
	[ "$comm" = "$want" ] && echo "$pid"
}
running() { pid_of "$1" >/dev/null; }

# stop_one NAME [SIGNAL]: TERM and wait (the worker drains up to 20 s), KILL after 40 s.
stop_one() {
	local name=$1 signal=${2:-TERM} pid
	if pid=$(pid_of "$name"); then
		log "stopping $name (pid $pid, SIG$signal)"
		kill "-$signal" "$pid" 2>/dev/null || true
		for _ in $(seq 1 80); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "$name did not stop in 40 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$(pidfile "$name")"
}

# stop_all: the playbookd processes together (workers drain in parallel), then the server.
stop_all() {
	local name pids=()
	for name in api1 api2 worker1 worker2; do
		stop_one "$name" &
		pids+=($!)
	done
	wait "${pids[@]}"
	stop_one temporal
}

# start_one NAME: start one process in its own session (so Ctrl-C reaches
# only this script, which stops them in order), log to .data/cluster/NAME.log.
start_one() {
	local name=$1
	[ -s "$DIR/env" ] || die "no .data/cluster/env: run scripts/cluster.sh up first"
	running "$name" && die "$name already runs (pid $(pid_of "$name"))"
	(
		# shellcheck disable=SC1091
		. "$DIR/env"
		case $name in
		temporal)
			exec setsid bin/temporal-server --root "$DIR/temporal" --config config --env cluster --allow-no-auth start ;;
		api[12])
			local i=${name#api}
			HTTP_ADDR=127.0.0.1:$((API_PORT + i - 1)) exec setsid bin/playbookd api ;;
		worker[12])
			local i=${name#worker}
			METRICS_ADDR=127.0.0.1:$((WORKER_METRICS_PORT + i - 1)) exec setsid bin/playbookd worker ;;
		*) die "unknown process $name; one of: $COMPONENTS" ;;
		esac
	) >>"$DIR/$name.log" 2>&1 &
	echo $! >"$(pidfile "$name")"
}

temporal_cli() {
	local tls=()
	if [ -f "$DIR/tls/ca.pem" ]; then
		tls=(--tls-ca-path "$DIR/tls/ca.pem" --tls-cert-path "$DIR/tls/client.pem" --tls-key-path "$DIR/tls/client.key")
	fi
	bin/temporal "$@" --address "$TEMPORAL_ADDR" "${tls[@]}"
}

wait_temporal() {
	for _ in $(seq 1 90); do
		temporal_cli operator cluster health >/dev/null 2>&1 && return
		running temporal || die "the Temporal server exited; see $DIR/temporal.log"
		sleep 1
	done
	die "the Temporal server did not answer on $TEMPORAL_ADDR in 90 s; see $DIR/temporal.log"
}

# wait_http NAME URL: until URL answers 2xx, or the process exits.
wait_http() {
	for _ in $(seq 1 90); do
		curl -fsS -o /dev/null "$2" 2>/dev/null && return
		running "$1" || die "$1 exited during start-up; see $DIR/$1.log"
		sleep 1
	done
	die "$1 did not answer $2 in 90 s; see $DIR/$1.log"
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

sql_tool() {
	bin/temporal-sql-tool --plugin postgres12 --ep 127.0.0.1 -p 5432 -u "$TEMPORAL_DB_USER" --pw "$TEMPORAL_DB_PASSWORD" "$@"
}

# provision_temporal_databases: the role and the two databases Temporal
# needs, with the schemas embedded in the schema tool (schema/postgresql/v12
# of the server module). Every step is idempotent: setup-schema only adds the
# version tables, update-schema applies the versions not yet applied.
provision_temporal_databases() {
	psql "$LOCAL_PG_ADMIN_URL" -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$TEMPORAL_DB_USER'" | grep -q 1 ||
		psql "$LOCAL_PG_ADMIN_URL" -qc "CREATE ROLE $TEMPORAL_DB_USER LOGIN CREATEDB PASSWORD '$TEMPORAL_DB_PASSWORD'" ||
		die "could not create the PostgreSQL role $TEMPORAL_DB_USER"
	local db schema
	for db in temporal temporal_visibility; do
		schema=postgresql/v12/temporal
		[ "$db" = temporal_visibility ] && schema=postgresql/v12/visibility
		if ! psql "$LOCAL_PG_ADMIN_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
			log "creating database $db"
			sql_tool --db "$db" create-database >>"$DIR/schema.log" 2>&1 || die "create-database $db failed; see $DIR/schema.log"
		fi
		sql_tool --db "$db" setup-schema -v 0.0 >>"$DIR/schema.log" 2>&1 || die "setup-schema $db failed; see $DIR/schema.log"
		sql_tool --db "$db" update-schema --schema-name "$schema" >>"$DIR/schema.log" 2>&1 ||
			die "update-schema $db failed; see $DIR/schema.log"
		log "database $db at schema version $(psql "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" -qtAc 'SELECT curr_version FROM schema_version')"
	done
}

# make_tls: a CA, the frontend's certificate for 127.0.0.1 and localhost,
# and client certificates for playbookd and the server's own system worker.
make_tls() {
	local t=$DIR/tls
	[ -s "$t/client.key" ] && return
	command -v openssl >/dev/null 2>&1 || die "CLUSTER_TLS=1 needs openssl"
	log "making a CA and certificates in $t"
	mkdir -p "$t"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=playbookd cluster CA" \
		-keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
	local name ext
	for name in server client worker; do
		ext="extendedKeyUsage=clientAuth"
		[ "$name" = server ] && ext="extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
			-keyout "$t/$name.key" -out "$t/$name.csr" 2>/dev/null
		openssl x509 -req -in "$t/$name.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 365 \
			-extfile <(printf '%s\n' "$ext") -out "$t/$name.pem" 2>/dev/null
		rm -f "$t/$name.csr"
	done
}

# write_server_config: the development-postgres12.yaml of the server module
# (config/), adapted: both stores on postgres12, 16 history shards, our ports.
write_server_config() {
	local c=$DIR/temporal/config tls=""
	mkdir -p "$c"
	if [ "${CLUSTER_TLS:-}" = 1 ]; then
		tls="
  tls:
    frontend:
      server:
        certFile: $DIR/tls/server.pem
        keyFile: $DIR/tls/server.key
        requireClientAuth: true
        clientCaFiles: [$DIR/tls/ca.pem]
    systemWorker:
      certFile: $DIR/tls/worker.pem
      keyFile: $DIR/tls/worker.key
      client:
        serverName: localhost
        rootCaFiles: [$DIR/tls/ca.pem]"
	fi
	sql_store() {
		cat <<STORE
      sql:
        pluginName: postgres12
        databaseName: $1
        connectAddr: 127.0.0.1:5432
        connectProtocol: tcp
        user: $TEMPORAL_DB_USER
        password: $TEMPORAL_DB_PASSWORD
        maxConns: $2
        maxIdleConns: $2
        maxConnLifetime: 1h
STORE
	}
	cat >"$c/cluster.yaml" <<CONFIG
# Written by scripts/cluster.sh; changes are overwritten at the next start.
log:
  stdout: true
  level: ${CLUSTER_TEMPORAL_LOG_LEVEL:-warn}

persistence:
  numHistoryShards: $NUM_HISTORY_SHARDS
  defaultStore: default
  visibilityStore: visibility
  datastores:
    default:
$(sql_store temporal "$TEMPORAL_DB_CONNS")
    visibility:
$(sql_store temporal_visibility $(((TEMPORAL_DB_CONNS + 1) / 2)))

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  pprof:
    port: 0
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: $TEMPORAL_METRICS_ADDR$tls

services:
  frontend:
    rpc:
      grpcPort: $TEMPORAL_PORT
      membershipPort: $((TEMPORAL_PORT - 1000))
      httpPort: $((TEMPORAL_PORT + 10))
      bindOnLocalHost: true
  history:
    rpc:
      grpcPort: $((TEMPORAL_PORT + 1))
      membershipPort: $((TEMPORAL_PORT - 999))
      bindOnLocalHost: true
  matching:
    rpc:
      grpcPort: $((TEMPORAL_PORT + 2))
      membershipPort: $((TEMPORAL_PORT - 998))
      bindOnLocalHost: true
  worker:
    rpc:
      grpcPort: $((TEMPORAL_PORT + 6))
      membershipPort: $((TEMPORAL_PORT - 994))
      bindOnLocalHost: true

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: $TEMPORAL_ADDR
      httpAddress: 127.0.0.1:$((TEMPORAL_PORT + 10))

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: $c/dynamicconfig.yaml
  pollInterval: 10s
CONFIG
	# Nothing changed from the 1.29 defaults (Updates and update-with-start
	# are on by default); the file is where an operator would tune them.
	[ -f "$c/dynamicconfig.yaml" ] || cat >"$c/dynamicconfig.yaml" <<'DYNAMIC'
# Temporal dynamic config (polled every 10 s), e.g.:
# history.persistenceMaxQPS:
#   - value: 3000
{}
DYNAMIC
}

# register_namespace: idempotent; retention 3 days like the dev server's default.
register_namespace() {
	if ! temporal_cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
		log "registering namespace $NAMESPACE"
		for _ in $(seq 1 30); do
			temporal_cli operator namespace create --namespace "$NAMESPACE" --retention 72h >/dev/null 2>&1 && break
			sleep 1
		done
	fi
	# The frontend caches namespaces; a worker that starts before the cache
	# knows the new one fails its first calls. Wait until a read through it works.
	for _ in $(seq 1 60); do
		temporal_cli workflow list --namespace "$NAMESPACE" --limit 1 >/dev/null 2>&1 && return
		sleep 1
	done
	die "namespace $NAMESPACE is not usable; see $DIR/temporal.log"
}

# write_env: the settings of every process, and playbookd settings given to
# `up` (SENDGRID_BASE_URL=... scripts/cluster.sh up), so `start NAME` gives a
# restarted process the same ones.
write_env() {
	local tls="" given="" name
	if [ "${CLUSTER_TLS:-}" = 1 ]; then
		tls="export TEMPORAL_TLS_CERT=$DIR/tls/client.pem
export TEMPORAL_TLS_KEY=$DIR/tls/client.key
export TEMPORAL_TLS_CA=$DIR/tls/ca.pem"
	fi
	for name in $(grep -o 'env:"[A-Z_0-9]*"' internal/config/config.go | cut -d'"' -f2); do
		case $name in
		DATABASE_URL | TEMPORAL_ADDRESS | TEMPORAL_NAMESPACE | TEMPORAL_TASK_QUEUE | HTTP_ADDR | METRICS_ADDR | \
			PLAYBOOKD_ADMIN_KEY | PLAYBOOKD_SIGNING_KEY | PUBLIC_BASE_URL | TEMPORAL_TLS* | TEMPORAL_API_KEY) continue ;;
		esac
		[ -n "${!name+set}" ] && given+="export $name=$(printf '%q' "${!name}")"$'\n'
	done
	cat >"$DIR/env" <<ENV
# Written by scripts/cluster.sh up: the settings every process of the cluster shares.
export DATABASE_URL='$DATABASE_URL'
export TEMPORAL_ADDRESS=$TEMPORAL_ADDR
export TEMPORAL_NAMESPACE=$NAMESPACE
export TEMPORAL_TASK_QUEUE=${TEMPORAL_TASK_QUEUE:-playbookd}
export PLAYBOOKD_ADMIN_KEY='$PLAYBOOKD_ADMIN_KEY'
export PLAYBOOKD_SIGNING_KEY='$PLAYBOOKD_SIGNING_KEY'
export PUBLIC_BASE_URL=http://127.0.0.1:$API_PORT
$tls
$given
CLUSTER_API_URLS="http://127.0.0.1:$API_PORT http://127.0.0.1:$((API_PORT + 1))"
CLUSTER_WORKER_METRICS_URLS="http://127.0.0.1:$WORKER_METRICS_PORT/metrics http://127.0.0.1:$((WORKER_METRICS_PORT + 1))/metrics"
CLUSTER_TEMPORAL_METRICS_URL=http://$TEMPORAL_METRICS_ADDR/metrics
ENV
}

status() {
	local name
	for name in $COMPONENTS; do
		if running "$name"; then
			printf '  %-8s pid %-7s log %s\n' "$name" "$(pid_of "$name")" "$DIR/$name.log"
		else
			printf '  %-8s not running\n' "$name"
		fi
	done
}

up() {
	local background=${CLUSTER_BACKGROUND:-}
	[ "${1:-}" = --background ] && background=1
	local started=$SECONDS name
	for name in $COMPONENTS; do
		running "$name" && die "the cluster already runs ($name); scripts/cluster.sh stop first"
	done
	for port in "$TEMPORAL_PORT" "$API_PORT" $((API_PORT + 1)) "$WORKER_METRICS_PORT" $((WORKER_METRICS_PORT + 1)); do
		port_free "$port" || die "port $port is taken (make run's API? set CLUSTER_API_PORT, CLUSTER_WORKER_METRICS_PORT or CLUSTER_TEMPORAL_PORT)"
	done

	ensure_go
	ensure_local_postgres
	ensure_temporal_cli
	ensure_temporal_server
	mkdir -p "$DIR"
	provision_temporal_databases
	ensure_database "$DB"
	export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable${PLAYBOOKD_DB_CONNS:+&pool_max_conns=$PLAYBOOKD_DB_CONNS}"
	[ "${CLUSTER_TLS:-}" = 1 ] && make_tls
	[ "${CLUSTER_TLS:-}" = 1 ] || rm -rf "$DIR/tls" # temporal_cli uses TLS when it finds the CA
	write_server_config
	log "building playbookd"
	go build -o bin/playbookd ./cmd/playbookd
	ensure_dev_keys
	write_env

	if [ -z "$background" ]; then
		trap stop_all EXIT
		trap 'exit 130' INT TERM
	fi
	log "starting the Temporal server on $TEMPORAL_ADDR ($NUM_HISTORY_SHARDS history shards; log $DIR/temporal.log)"
	start_one temporal
	wait_temporal
	register_namespace
	log "migrating $DB"
	(. "$DIR/env" && bin/playbookd migrate) >>"$DIR/migrate.log" 2>&1 || die "migrate failed; see $DIR/migrate.log"
	for name in worker1 worker2 api1 api2; do
		start_one "$name"
	done
	wait_http api1 "http://127.0.0.1:$API_PORT/readyz"
	wait_http api2 "http://127.0.0.1:$((API_PORT + 1))/readyz"
	wait_http worker1 "http://127.0.0.1:$WORKER_METRICS_PORT/metrics"
	wait_http worker2 "http://127.0.0.1:$((WORKER_METRICS_PORT + 1))/metrics"

	local how="Ctrl-C stops everything"
	[ -n "$background" ] && how="in the background: scripts/cluster.sh stop"
	cat <<BANNER

  playbookd cluster is running ($how; up in $((SECONDS - started))s)
    API           http://127.0.0.1:$API_PORT  http://127.0.0.1:$((API_PORT + 1))   (two replicas)
    workers       metrics http://127.0.0.1:$WORKER_METRICS_PORT/metrics  http://127.0.0.1:$((WORKER_METRICS_PORT + 1))/metrics
    Temporal      $TEMPORAL_ADDR  namespace $NAMESPACE, $NUM_HISTORY_SHARDS history shards, PostgreSQL databases temporal, temporal_visibility
                  (no web UI: bin/temporal workflow list --address $TEMPORAL_ADDR)
    Admin key     $PLAYBOOKD_ADMIN_KEY   (Authorization: Bearer <key>)
    PostgreSQL    $DATABASE_URL
    Logs, pids    $DIR/   (settings: . $DIR/env)

BANNER
	[ -n "$background" ] && return
	wait
}

cmd=${1:-up}
case $cmd in
up) shift || true; up "$@" ;;
stop)
	if [ $# -ge 2 ]; then stop_one "$2"; else stop_all; fi ;;
kill)
	[ $# -ge 2 ] || die "usage: scripts/cluster.sh kill NAME"
	stop_one "$2" KILL ;;
start)
	[ $# -ge 2 ] || die "usage: scripts/cluster.sh start NAME"
	start_one "$2"
	case $2 in temporal) wait_temporal ;; esac ;;
status) status ;;
--background) up --background ;;
*) die "usage: scripts/cluster.sh [up [--background] | stop [NAME] | kill NAME | start NAME | status]" ;;
esac
