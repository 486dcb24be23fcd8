# leadscore — the newcomer's commands. Each target installs what it needs first.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift

.PHONY: deps build release test demo bench bench-thresholds clean

## Install the system packages (librdkafka-dev, kcat) when they are missing.
deps:
	@if ! pkg-config --exists rdkafka 2>/dev/null || ! command -v kcat >/dev/null 2>&1; then \
		echo "installing librdkafka-dev and kcat"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librdkafka-dev kcat; \
	fi

build: deps
	$(SWIFT) build

## One release build of the daemon, shared by the end-to-end tests and the demo.
release: deps
	$(SWIFT) build -c release --product leadscored

## The test command (README): unit, integration (built-in Kafka cluster) and end-to-end tests.
## The in-process HTTP server tests run on their own: Hummingbird's handlers need a thread of Swift's
## cooperative pool (two on small machines), which the other suites' synchronous tests may hold for minutes.
test: release
	LEADSCORED_BIN=$(CURDIR)/.build/release/leadscored $(SWIFT) test --skip HTTPServerTests
	LEADSCORED_BIN=$(CURDIR)/.build/release/leadscored $(SWIFT) test --skip-build --filter HTTPServerTests

## The first run: dev broker + daemon + synthetic traffic with a live terminal view.
demo: release
	$(CURDIR)/.build/release/leadscored demo

## package-benchmark suites (their own package, outside `swift test`).
## Tables of every suite, then the per-event allocation counts checked against Benchmarks/Thresholds (fails on a
## regression beyond 10 %). `make bench-thresholds` records new thresholds after an intended change.
bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark
	cd Benchmarks && $(SWIFT) package benchmark baseline check --check-absolute-path Thresholds/

bench-thresholds: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark thresholds update
	cd Benchmarks && for f in Thresholds/*.json; do python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump({"mallocCountTotal": d["mallocCountTotal"]}, open(sys.argv[1], "w"), indent=2)' "$$f"; done

clean:
	rm -rf .build
