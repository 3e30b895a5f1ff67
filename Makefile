# Writ — build, test, fuzz and benchmark.
SHELL := /bin/bash
SWIFT ?= swift
DEB_PACKAGES := libsqlite3-dev libargon2-dev zlib1g-dev graphviz openssl curl postgresql
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= all
BENCH_SECONDS ?= 2

.PHONY: deps build run demo test lint format fuzz bench bench-broker docs clean

# Installs the Debian packages the build and tests need (PostgreSQL among them: the store tests start a server
# of their own), PyJWT (a third-party verifier the tests use), schemathesis (which holds the broker to
# docs/openapi.yaml in the tests), and the MCP Python SDK and Authlib (stock clients the tests drive), only when
# some are missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c 'import jwt, cryptography' 2>/dev/null || { echo "installing: pyjwt cryptography (PyPI)"; \
		python3 -m pip install -q 'pyjwt>=2.8' cryptography 2>&1 | grep -v 'WARNING: Running pip as' || true; }
	@python3 -c 'import schemathesis' 2>/dev/null || { echo "installing: schemathesis (PyPI)"; \
		python3 -m pip install -q 'schemathesis>=4.3,<5' 2>&1 | grep -v 'WARNING: Running pip as' || true; }
	@python3 -c 'import mcp.client.auth.extensions.client_credentials, authlib' 2>/dev/null || { \
		echo "installing: mcp authlib (PyPI)"; \
		python3 -m pip install -q 'mcp==2.3.0' 'authlib>=1.9,<2' 2>&1 | grep -v 'WARNING: Running pip as' || true; }

build: deps
	$(SWIFT) build

# Builds and starts the broker on its embedded defaults (state in ./.writ, policies from ./policies).
run: deps
	$(SWIFT) build --product writ
	@echo "the broker is starting on http://127.0.0.1:8080; README.md ('Trying the broker') shows a first request"
	.build/debug/writ serve

# The story end to end with real processes: broker, documents service, retrieval assistant.
demo: deps
	$(SWIFT) build
	./Examples/demo.sh

lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests integration Examples

format:
	$(SWIFT) format format --in-place --recursive --parallel Package.swift Sources Tests integration Examples

# Lint, then every test. The last line printed is the test runner's summary.
test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Runs the libFuzzer targets for FUZZ_SECONDS each (FUZZ_TARGET=token|proof|policy|all).
fuzz: deps
	./FuzzTesting/run.sh $(FUZZ_TARGET) $(FUZZ_SECONDS)

# Release build of the yardsticks (their own binary: `writ` never links jwt-kit), then the verify and policy
# benchmarks; results go to docs/benchmarks.md by hand.
bench: deps
	$(SWIFT) build -c release --product writ-bench
	.build/release/writ-bench verify --seconds $(BENCH_SECONDS)
	.build/release/writ-bench policy

# Release build, a broker with limits out of the way, then `writ bench issue` against it.
bench-broker: deps
	$(SWIFT) build -c release --product writ
	rm -rf .build/bench-state
	WRIT_STATE_DIR=.build/bench-state WRIT_POLICIES=benchmarks/policies WRIT_RATE_LIMIT=1000000 WRIT_OPEN_TASKS=1000000 WRIT_STREAMS_PER_CALLER=1000 WRIT_LOG_LEVEL=error \
		.build/release/writ serve & pid=$$!; sleep 2; \
		.build/release/writ bench issue --state .build/bench-state --seconds $(BENCH_SECONDS); \
		kill $$pid

# Renders the architecture picture (docs/architecture/rooms.dot, Graphviz) to SVG.
docs: deps
	dot -Tsvg docs/architecture/rooms.dot -o docs/architecture/rooms.svg

clean:
	rm -rf .build FuzzTesting/.build
