# Writ — build, test, fuzz and benchmark.
SHELL := /bin/bash
SWIFT ?= swift
DEB_PACKAGES := libsqlite3-dev libargon2-dev graphviz openssl curl
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= all
BENCH_SECONDS ?= 2

.PHONY: deps build test lint format fuzz bench clean

# Installs the Debian packages the build and tests need, only when some are missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests integration

format:
	$(SWIFT) format format --in-place --recursive --parallel Package.swift Sources Tests integration

# Lint, then every test. The last line printed is the test runner's summary.
test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Runs the libFuzzer targets for FUZZ_SECONDS each (FUZZ_TARGET=token|proof|policy|all).
fuzz: deps
	./FuzzTesting/run.sh $(FUZZ_TARGET) $(FUZZ_SECONDS)

# Release build, then the verify benchmark; results go to docs/benchmarks.md by hand.
bench: deps
	$(SWIFT) build -c release --product writ
	.build/release/writ bench verify --seconds $(BENCH_SECONDS)
	.build/release/writ bench policy

clean:
	rm -rf .build FuzzTesting/.build
