#!/usr/bin/env bash
# The benchmark and reliability suites of PRODUCT.md §10 (cmd/bench): they
# provision like the test suite, then run against a real Temporal dev server
# and PostgreSQL on this machine and write their figures into BENCHMARKS.md.
#   scripts/bench.sh perf  [flags]   # make bench
#   scripts/bench.sh chaos [flags]   # make chaos
# With -topology cluster the suites bring up scripts/cluster.sh (a Temporal
# server on PostgreSQL, two APIs, two workers) instead, and stop it after.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

suite=${1:-perf}
shift || true
ensure_go
if [ -z "${BENCH_DATABASE_URL:-}" ]; then
	ensure_local_postgres
	export BENCH_DATABASE_URL="$LOCAL_PG_ADMIN_URL"
fi
ensure_temporal_cli
log "bench: $suite suite"
go run ./cmd/bench -suite "$suite" "$@"
