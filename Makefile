# The project's commands. `make test` is the one test command; CI runs it.

GO      ?= go
GOFILES  = $(shell find . -name '*.go' -not -path '*/testdata/*')
# The generator is not concurrent code; its tests type-check packages from
# source and run several times slower under the race detector.
GENPKGS  = ./gen/... ./cmd/sgngen/... ./templates/...

.PHONY: test demo demo-cluster bench generate lint

## test: check formatting, vet, generated files, then run every test (concurrent code with the race detector)
test: lint
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e /gen -e /cmd/sgngen -e /templates)
	$(GO) test -count=1 $(GENPKGS)

## demo: build sgngen, generate, build the tutorial's examples and their workers, run them
demo:
	$(GO) build -o bin/ ./cmd/sgngen
	$(GO) generate ./examples/...
	$(GO) build -o bin/ ./examples/...
	bin/numbers
	bin/arrays

## demo-cluster: build the cluster example and its workers, run it: a NATS server in the example, three worker binaries started as separate processes with only its URL, the tutorial's numbers squared by two replicas on them
demo-cluster:
	$(GO) build -o bin/ ./cmd/sgngen
	$(GO) generate ./examples/cluster/...
	$(GO) build -o bin/ ./examples/cluster/...
	bin/cluster

## bench: run the benchmarks; prints one "BENCH <name> <value> <unit>" line per figure, and writes the README's results tables to bin/bench.md
bench:
	@mkdir -p bin
	$(GO) test -run '^$$' -bench . -benchtime 2s ./... | tee bin/bench.txt | $(GO) run ./internal/benchfmt -table bin/bench.md

## generate: regenerate every generated file
generate:
	$(GO) generate ./...

## lint: gofmt, go vet, and generated files current
lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run ./cmd/sgngen check ./...
