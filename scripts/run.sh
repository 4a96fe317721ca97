#!/usr/bin/env bash
# Runs the whole service locally: PostgreSQL, the Temporal dev server with its
# web UI, migrations, and playbookd's API and worker in one process.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# warn_orphan_runs: the local database outlives this checkout's dev server
# history (.data/temporal.db, new here), so live runs recorded by an earlier
# one (another clone, or after rm -rf .data) have no workflow left: they would
# show as running forever and block new runs of their playbook.
warn_orphan_runs() {
	local live
	live=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM runs WHERE status IN ('running', 'paused')" 2>/dev/null || echo 0)
	if [ "${live:-0}" -gt 0 ]; then
		log "WARNING: the database playbookd holds $live live run(s) from an earlier Temporal dev server whose"
		log "history is gone (.data/temporal.db is new): they cannot progress. For a clean start:"
		log "  psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE playbookd WITH (FORCE)'   (then make run again)"
	fi
}

ensure_go
DATABASE_URL_GIVEN=${DATABASE_URL:-}
if [ -n "${DATABASE_URL:-}" ]; then
	wait_for_postgres_url "$DATABASE_URL"
else
	ensure_local_postgres
	ensure_database playbookd
	export DATABASE_URL="postgres://postgres@127.0.0.1:5432/playbookd?sslmode=disable"
fi
ensure_temporal_cli

log "building playbookd"
go build -o bin/playbookd ./cmd/playbookd

mkdir -p .data
export HTTP_ADDR=${HTTP_ADDR:-127.0.0.1:8080}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
export TEMPORAL_UI_URL=${TEMPORAL_UI_URL:-http://127.0.0.1:$TEMPORAL_UI_PORT}
temporal_pid=""
if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
	export TEMPORAL_ADDRESS=127.0.0.1:7233
	if bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
		log "a Temporal server already answers on $TEMPORAL_ADDRESS; using it"
	else
		log "starting the Temporal dev server (state in .data/temporal.db, log in .data/temporal.log)"
		if [ ! -e .data/temporal.db ] && [ -z "${DATABASE_URL_GIVEN:-}" ]; then
			warn_orphan_runs
		fi
		bin/temporal server start-dev --ip 127.0.0.1 --port 7233 --ui-port "$TEMPORAL_UI_PORT" \
			--db-filename .data/temporal.db --log-level warn >.data/temporal.log 2>&1 &
		temporal_pid=$!
		for _ in $(seq 1 60); do
			bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 && break
			kill -0 "$temporal_pid" 2>/dev/null || die "the Temporal dev server exited; see .data/temporal.log"
			sleep 1
		done
	fi
fi

ensure_dev_keys
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://$HTTP_ADDR}

bin/playbookd dev &
playbookd_pid=$!
stop() {
	kill -TERM "$playbookd_pid" 2>/dev/null || true
	wait "$playbookd_pid" 2>/dev/null || true
	if [ -n "$temporal_pid" ]; then
		kill -TERM "$temporal_pid" 2>/dev/null || true
		wait "$temporal_pid" 2>/dev/null || true
	fi
}
trap stop EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 60); do
	curl -fsS "http://$HTTP_ADDR/readyz" >/dev/null 2>&1 && break
	kill -0 "$playbookd_pid" 2>/dev/null || die "playbookd exited during start-up"
	sleep 1
done
cat <<BANNER

  playbookd is running (Ctrl-C stops everything)
    API           http://$HTTP_ADDR   (try: curl http://$HTTP_ADDR/readyz)
    Console       http://$HTTP_ADDR/console/   (sign in with the admin key, or a csm's API key)
    Temporal UI   $TEMPORAL_UI_URL
    Admin key     $PLAYBOOKD_ADMIN_KEY   (Authorization: Bearer <key>)
    PostgreSQL    $DATABASE_URL

BANNER
wait "$playbookd_pid"
