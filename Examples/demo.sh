#!/usr/bin/env bash
# The Writ story, end to end, with real processes on loopback: a broker, a documents service that accepts
# only Writ tokens, and a retrieval assistant acting for a user. Run with `make demo`.
set -euo pipefail
BIN=${BIN:-.build/debug}
DIR=$(mktemp -d)
BROKER_PORT=${BROKER_PORT:-18080}; TLS_PORT=${TLS_PORT:-18443}; DOCS_PORT=${DOCS_PORT:-19090}
B=http://127.0.0.1:$BROKER_PORT; D=http://127.0.0.1:$DOCS_PORT
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1"; exit 1; }

say "starting the broker (state in $DIR) and the documents service"
WRIT_STATE_DIR=$DIR/state WRIT_LISTEN=127.0.0.1:$BROKER_PORT WRIT_TLS_LISTEN=127.0.0.1:$TLS_PORT \
  WRIT_LOG_LEVEL=warning "$BIN/writ" serve > "$DIR/broker.log" 2>&1 & pids+=($!)
wait_for "$B/healthz"
WRIT_BROKER=$B LISTEN=127.0.0.1:$DOCS_PORT "$BIN/writ-example-documents" > "$DIR/docs.log" 2>&1 & pids+=($!)
wait_for "$D/healthz"

AGENT=$("$BIN/writ" dev workload-token --state "$DIR/state" spiffe://example.org/agents/retrieval-assistant)
ALICE=$("$BIN/writ" dev user-token --state "$DIR/state" alice --claim email=alice@example.org --claim department=hr)
run() { "$BIN/writ-example-assistant" --broker "$B" --documents "$D" --workload-token "$AGENT" --user-token "$ALICE" "$@"; }

say "1. the assistant, for alice (hr), reads the documents its task names"
run --read departments/hr/handbook/leave --read departments/hr/handbook/expenses

say "2. a prompt-injected step tries a document outside the task: refused by the documents service"
run --read departments/hr/handbook/leave --stray departments/hr/handbook/expenses

say "3. asking for finance documents as alice: the policy denies the task, with reasons"
run --read departments/finance/payroll/2026-11 || true

export WRIT_BROKER=$B WRIT_OPERATOR_TOKEN_FILE=$DIR/state/operator-token
say "4. the operator sees what ran: workloads and their tasks"
"$BIN/writ" workloads list
"$BIN/writ" tasks list --limit 5

say "5. an operator revokes the assistant's workload: new tasks are refused (tokens it holds die at the documents service)"
"$BIN/writ" revoke workload spiffe://example.org/agents/retrieval-assistant
run --read departments/hr/handbook/leave || true

say "6. and proves afterwards what happened: the audit chain is intact"
"$BIN/writ" audit tail -n 4
"$BIN/writ" audit verify

say "done: logs were in $DIR (removed on exit)"
