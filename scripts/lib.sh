# Shared provisioning for scripts/run.sh and scripts/test.sh: make sure Go,
# PostgreSQL and the Temporal CLI are there, installing or starting what is not.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPORAL_CLI_VERSION=v1.5.1
WORKFLOWCHECK_VERSION=v0.6.0
GOLANGCI_LINT_VERSION=v2.15.0
PRISM_VERSION=5.16.0
# Built tools are cached outside the checkout, so a fresh clone on the same
# machine does not rebuild the Temporal CLI (~8 minutes on 2 cores).
TOOLS_CACHE=${PLAYBOOKD_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/playbookd}
LOCAL_PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_go() {
	if ! command -v go >/dev/null 2>&1; then
		[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
	fi
	command -v go >/dev/null 2>&1 || die "Go is not installed: get Go 1.26 from https://go.dev/dl/"
	mkdir -p "$ROOT/bin"
}

# install_go_tool NAME PACKAGE@VERSION: go install into the cache once, link
# into bin/ as NAME (the binary go builds is named after the package's last
# element: go.temporal.io/server/cmd/server builds "server").
install_go_tool() {
	local name=$1 pkg=$2 version=${2##*@}
	local built=${pkg%@*}
	built=${built##*/}
	local cached="$TOOLS_CACHE/$name-$version"
	if [ ! -x "$cached" ]; then
		local tmp started=$SECONDS
		tmp=$(mktemp -d)
		log "building $pkg (once; the Temporal CLI or server takes ~8 minutes on 2 cores)"
		GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$pkg" || die "go install $pkg failed"
		mkdir -p "$TOOLS_CACHE"
		mv "$tmp/$built" "$cached"
		rm -rf "$tmp"
		log "built $name $version in $((SECONDS - started))s"
	fi
	ln -sf "$cached" "$ROOT/bin/$name"
}

ensure_temporal_cli() {
	install_go_tool temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
}

# The Temporal server and its SQL schema tool, for scripts/cluster.sh: built
# from the Go module proxy as separate binaries, never part of our module.
TEMPORAL_SERVER_VERSION=v1.29.1
ensure_temporal_server() {
	install_go_tool temporal-server "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION"
	install_go_tool temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
}

ensure_workflowcheck() {
	install_go_tool workflowcheck "go.temporal.io/sdk/contrib/tools/workflowcheck@$WORKFLOWCHECK_VERSION"
}

# ensure_golangci_lint: the linters make test runs (.golangci.yml).
ensure_golangci_lint() {
	install_go_tool golangci-lint "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
}

# ensure_prism: Stoplight Prism from the npm registry, to serve SendGrid's
# official Mail Send spec as a validating mock in the contract tests.
ensure_prism() {
	local dir="$TOOLS_CACHE/prism-$PRISM_VERSION"
	if [ ! -x "$dir/node_modules/.bin/prism" ]; then
		command -v npm >/dev/null 2>&1 || die "npm is needed for the SendGrid contract tests: install Node.js"
		log "installing @stoplight/prism-cli@$PRISM_VERSION (once)"
		mkdir -p "$dir"
		npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null \
			|| die "npm install @stoplight/prism-cli failed"
	fi
	export PRISM_PATH="$dir/node_modules/.bin/prism"
}

# apt_install PACKAGE: from Debian's packages, with sudo when not root.
apt_install() {
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null \
		|| die "could not install $1 from Debian's packages"
}

# ensure_chromium: Debian's Chromium, which the console's browser tests drive
# (headless, through chromedp). Installed from Debian's packages when missing.
ensure_chromium() {
	local bin
	for bin in "${CHROMIUM_PATH:-}" chromium chromium-browser google-chrome; do
		if [ -n "$bin" ] && command -v "$bin" >/dev/null 2>&1; then
			export CHROMIUM_PATH
			CHROMIUM_PATH=$(command -v "$bin")
			return
		fi
	done
	command -v apt-get >/dev/null 2>&1 || die "the console's browser tests need Chromium: install it or set CHROMIUM_PATH"
	log "installing Chromium from Debian's packages (once)"
	apt_install chromium
	export CHROMIUM_PATH
	CHROMIUM_PATH=$(command -v chromium)
}

# ensure_local_postgres: the machine's PostgreSQL on 127.0.0.1:5432, started
# (or installed from Debian's packages) when it is not running.
ensure_local_postgres() {
	if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
		return
	fi
	if ! command -v pg_ctlcluster >/dev/null 2>&1; then
		command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed; install it or set DATABASE_URL"
		log "installing PostgreSQL from Debian's packages"
		apt_install postgresql
	fi
	local version
	version=$(ls /etc/postgresql | sort -V | tail -n 1)
	log "starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
		|| pg_ctlcluster "$version" main start || die "could not start PostgreSQL"
	for _ in $(seq 1 30); do
		pg_isready -q -h 127.0.0.1 -p 5432 && break
		sleep 1
	done
	pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not come up on 127.0.0.1:5432"
	# Local development uses trust auth for the postgres role over TCP.
	psql "$LOCAL_PG_ADMIN_URL" -qtAc 'SELECT 1' >/dev/null 2>&1 \
		|| die "PostgreSQL runs but postgres@127.0.0.1 cannot log in; set DATABASE_URL"
}

# ensure_database NAME: create the database on the local server if missing.
ensure_database() {
	local name=$1
	if ! psql "$LOCAL_PG_ADMIN_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
		log "creating database $name"
		psql "$LOCAL_PG_ADMIN_URL" -qc "CREATE DATABASE $name" || die "could not create database $name"
	fi
}

# wait_for_postgres_url URL: a given DATABASE_URL must answer.
wait_for_postgres_url() {
	local url=$1
	command -v psql >/dev/null 2>&1 || return 0 # playbookd itself retries and names the problem
	for _ in $(seq 1 30); do
		psql "$url" -qtAc 'SELECT 1' >/dev/null 2>&1 && return
		sleep 1
	done
	die "PostgreSQL at DATABASE_URL does not answer"
}

# large_tracked_files fails naming every file git tracks that is over 2 MB:
# builds belong in bin/ (ignored), not in the history every clone downloads.
# Fixtures (fuzz corpora, recorded histories) are far below it.
large_tracked_files() {
	git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 || return 0
	local large
	large=$(cd "$ROOT" && git ls-files -z | xargs -0 -r stat -c '%s %n' -- 2>/dev/null |
		awk -v max=2000000 '$1 > max { size = $1; sub(/^[0-9]+ /, ""); printf "  %s (%.1f MB)\n", $0, size / 1000000 }' || true)
	[ -z "$large" ] || die "tracked files over 2 MB (untrack with git rm --cached and add to .gitignore; builds go to bin/):
$large"
}

# ensure_dev_keys: stable admin and signing keys, kept in .data so restarts do
# not change them (unsubscribe links in sent emails keep working).
ensure_dev_keys() {
	mkdir -p "$ROOT/.data"
	if [ -z "${PLAYBOOKD_ADMIN_KEY:-}" ]; then
		[ -s "$ROOT/.data/admin-key" ] || head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | sed 's/^/pbk_/' >"$ROOT/.data/admin-key"
		PLAYBOOKD_ADMIN_KEY=$(cat "$ROOT/.data/admin-key")
		export PLAYBOOKD_ADMIN_KEY
	fi
	if [ -z "${PLAYBOOKD_SIGNING_KEY:-}" ]; then
		[ -s "$ROOT/.data/signing-key" ] || head -c 48 /dev/urandom | base64 | tr -d '=\n' >"$ROOT/.data/signing-key"
		PLAYBOOKD_SIGNING_KEY=$(cat "$ROOT/.data/signing-key")
		export PLAYBOOKD_SIGNING_KEY
	fi
}
