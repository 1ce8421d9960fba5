# Run `make` for the list of targets.
.DEFAULT_GOAL := help
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
# Redis database 15, not 0: `go run .` with REDIS_URL=redis://…/0 (as the
# README shows) keeps its sessions there, and tests should not share it.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Every database the PostgreSQL tests create starts with this prefix
# (internal/testenv), and test/clean drops only those: give each user or CI
# run of a shared server its own.
TEST_DATABASE_PREFIX ?= t_
export TEST_DATABASE_PREFIX
PSQL ?= psql

.PHONY: help
help: ## Show this help
	@grep -E '^[a-zA-Z/_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: run
run: ## Run the server (SQLite + in-memory cache unless DATABASE_URL/REDIS_URL are set)
	go run .

.PHONY: generate
generate: ## Regenerate the gqlgen code of both APIs
	go generate ./...

.PHONY: test
test: ## Run the tests on SQLite + miniredis
	go test ./...

.PHONY: test/pg
test/pg: ## Run the tests on SQLite and on the local PostgreSQL + Redis too
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' go test ./...

# testenv keeps the migrated template <prefix>tmpl_<hash of the migrations>
# on purpose (migrating once and cloning it per test is what makes the
# PostgreSQL tests fast); each test's <prefix><unix time>_<random> database
# is dropped when the test ends, and ones a killed run left behind are
# dropped by the next run after 3 hours. This target drops both now, for
# TEST_DATABASE_PREFIX only: other databases on the server, other prefixes'
# included, are left alone. It refuses (and says so) to drop a database in
# use: don't run it during a test run.
.PHONY: test/clean
test/clean: ## Drop the PostgreSQL test templates and leftover test databases of TEST_DATABASE_PREFIX (default t_)
	@if ! printf '%s' '$(TEST_DATABASE_PREFIX)' | grep -Eq '^[a-z][a-z0-9_]{0,30}_$$'; then \
		echo "TEST_DATABASE_PREFIX='$(TEST_DATABASE_PREFIX)': use lower-case letters, digits and underscores, starting with a letter and ending with an underscore, at most 32 characters" >&2; \
		exit 2; \
	fi; \
	status=0; \
	for db in $$($(PSQL) '$(TEST_DATABASE_URL)' -XAtc "SELECT datname FROM pg_database WHERE datname ~ '^$(TEST_DATABASE_PREFIX)(tmpl_[0-9a-f]+(_build)?|[0-9]+_[0-9a-f]+)$$' ORDER BY 1"); do \
		echo "dropping $$db"; \
		$(PSQL) '$(TEST_DATABASE_URL)' -Xqc "DROP DATABASE IF EXISTS \"$$db\"" || status=1; \
	done; \
	exit $$status

.PHONY: test/race
test/race: ## Run the tests with the race detector (slow)
	go test -race ./...

# FUZZTIME=10m make fuzz FUZZ=FuzzPOST runs one target for longer; a
# failing input lands in the package's testdata/fuzz (docs/testing.md).
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 10s; FUZZ=regexp picks targets)
	bash internal/fuzz/run.sh $(FUZZ)

.PHONY: bench
bench: ## Run the Go benchmarks (add PostgreSQL/Redis with test/pg's variables)
	go test -run '^$$' -bench . -benchmem ./...

.PHONY: check
check: ## What CI runs: services, fresh database, vet, gofmt, drift check, tests, fuzz targets
	bash .ci/run
