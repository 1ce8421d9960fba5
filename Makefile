# Run `make` for the list of targets.
.DEFAULT_GOAL := help
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

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

.PHONY: test/race
test/race: ## Run the tests with the race detector (slow)
	go test -race ./...

.PHONY: bench
bench: ## Run the Go benchmarks (add PostgreSQL/Redis with test/pg's variables)
	go test -run '^$$' -bench . -benchmem ./...

.PHONY: check
check: ## What CI runs: services, fresh database, vet, gofmt, drift check, tests
	bash .ci/run
