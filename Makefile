.PHONY: run test build

# Everything locally: PostgreSQL, Temporal dev server + UI, migrations, API and worker.
run:
	./scripts/run.sh

# The full suite, as CI runs it.
test:
	./scripts/test.sh

build:
	go build -o bin/playbookd ./cmd/playbookd
