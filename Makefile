# AxonTask's build. `make test` is the one command CI runs (through .ci/run).
GO    ?= go
TOOL  := $(GO) tool -modfile=tools/go.mod
PKGS  := ./...
# The packages with Go benchmarks, which make test runs once each.
BENCH_PKGS := $(shell grep -rl --include='*_test.go' '^func Benchmark' . | xargs -r -n1 dirname | sort -u)
# The fuzz targets, as dir:FuzzName, and how long make fuzz runs each.
FUZZ_TARGETS := $(shell grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed -E 's|^\./(.*)/[^/]*_test\.go:func |\1:|' | sort)
FUZZTIME ?= 30s

.PHONY: test check fmt-check vet lint sqlc-check generate bench fuzz build

## test: every check and every test, with the race detector, against real
## Postgres (AXONTASK_TEST_DATABASE_URL, or a throwaway server started by the tests),
## make bench's steps among them at a tiny scale (benchreport's TestSmoke, a
## smoke run of about 30 s), then every Go benchmark once, so that none breaks
## unnoticed (make bench measures).
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

## bench: the benchmarks of docs/benchmarks.md, on a durable (fsync on) Postgres
## (go run ./internal/cmd/benchreport -smoke: every step once at a tiny scale).
bench:
	$(GO) run ./internal/cmd/benchreport

## fuzz: each fuzz target for FUZZTIME, one after another (go test -fuzz takes
## one target a run). An input that fails is written to its package's
## testdata/fuzz/<FuzzName>/: fix the bug and commit the input as a seed.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; \
	done

build:
	$(GO) build -o bin/axontask ./cmd/axontask
