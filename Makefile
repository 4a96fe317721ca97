.PHONY: run test build bench chaos cluster

# Everything locally: PostgreSQL, Temporal dev server + UI, migrations, API and worker.
run:
	./scripts/run.sh

# The production topology without Docker: a Temporal server (built once) on
# PostgreSQL with 16 history shards, two API and two worker processes.
# scripts/cluster.sh --background leaves it running; scripts/cluster.sh stop.
cluster:
	./scripts/cluster.sh

# The full suite, as CI runs it.
test:
	./scripts/test.sh

build:
	go build -o bin/playbookd ./cmd/playbookd

# PRODUCT.md §10 measured on this machine; figures go into BENCHMARKS.md.
# BENCH_FLAGS="-topology cluster" measures scripts/cluster.sh's topology instead of the dev server.
bench:
	./scripts/bench.sh perf $(BENCH_FLAGS)

# Kill -9 the worker, restart PostgreSQL, throttle SendGrid: count runs
# finished, duplicate emails, lost tasks. CHAOS_FLAGS="-runs 60 -kills 2" for a short one;
# CHAOS_FLAGS="-topology cluster" also kills an API replica and restarts the Temporal server.
chaos:
	./scripts/bench.sh chaos $(CHAOS_FLAGS)
