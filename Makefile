# AxonTask's build. `make test` is the one command CI runs (through .ci/run).
GO    ?= go
TOOL  := $(GO) tool -modfile=tools/go.mod
PKGS  := ./...
# The packages with Go benchmarks, which make test runs once each.
BENCH_PKGS := $(shell grep -rl --include='*_test.go' '^func Benchmark' . | xargs -r -n1 dirname | sort -u)

.PHONY: test check fmt-check vet lint sqlc-check generate bench build

## test: every check and every test, with the race detector, against real
## Postgres (AXONTASK_TEST_DATABASE_URL, or a throwaway server started by the tests),
## then every Go benchmark once, so that none breaks unnoticed (make bench measures).
test: check
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x $(BENCH_PKGS)

## check: formatting, vet, golangci-lint and generated code are current.
check: fmt-check vet lint sqlc-check

fmt-check:
	@out="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

lint:
	$(TOOL) golangci-lint run $(PKGS)

sqlc-check:
	$(TOOL) sqlc diff

## generate: regenerate sqlc code after changing sql/.
generate:
	$(TOOL) sqlc generate

## bench: the benchmarks of docs/benchmarks.md, on a durable (fsync on) Postgres.
bench:
	$(GO) run ./internal/cmd/benchreport

build:
	$(GO) build -o bin/axontask ./cmd/axontask
