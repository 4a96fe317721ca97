#!/usr/bin/env bash
# The full test suite: formatting, vet, workflowcheck, then unit tests,
# workflow tests in simulated time, and integration and end-to-end tests
# against the real PostgreSQL and a real Temporal dev server.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_go
if [ -z "${PLAYBOOKD_TEST_DATABASE_URL:-}" ]; then
	ensure_local_postgres
	export PLAYBOOKD_TEST_DATABASE_URL="$LOCAL_PG_ADMIN_URL"
fi
ensure_temporal_cli
ensure_workflowcheck
ensure_golangci_lint
ensure_prism
ensure_chromium
export TEMPORAL_CLI_PATH="$ROOT/bin/temporal"
# Integration tests fail, instead of skipping, when a dependency is missing.
export PLAYBOOKD_REQUIRE_INTEGRATION=1

log "tracked files (none over 2 MB)"
large_tracked_files
log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))
[ -z "$unformatted" ] || die "gofmt needed on: $unformatted"
log "go vet"
go vet ./...
log "golangci-lint (.golangci.yml: staticcheck, errcheck, exhaustive, ...)"
bin/golangci-lint run ./...
log "workflowcheck (workflow code must be deterministic)"
bin/workflowcheck ./workflows/...
log "go test"
go test -count=1 -race -timeout 30m "$@" ./...
