#!/usr/bin/env bash
# The Writ story, end to end, with real processes on loopback: a broker, a documents service that accepts
# only Writ tokens, and a retrieval assistant acting for a user. Run with `make demo`.
set -euo pipefail
BIN=${BIN:-.build/debug}
DIR=$(mktemp -d)
BROKER_PORT=${BROKER_PORT:-18080}; TLS_PORT=${TLS_PORT:-18443}; DOCS_PORT=${DOCS_PORT:-19090}
B=http://127.0.0.1:$BROKER_PORT; D=http://127.0.0.1:$DOCS_PORT
pids=(); names=()
# Stops the services with SIGTERM as an operator would and keeps every log: a service that does not exit 0
# on SIGTERM, or a failed step, shows its log and fails the demo.
cleanup() {
  local status=$? i code
  for i in "${!pids[@]}"; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for i in "${!pids[@]}"; do
    code=0; wait "${pids[$i]}" 2>/dev/null || code=$?
    if [ "$code" -ne 0 ]; then
      echo "${names[$i]} exited $code on SIGTERM; its log ($DIR/${names[$i]}.log):"; tail -n 20 "$DIR/${names[$i]}.log"
      status=1
    fi
  done
  if [ "$status" -ne 0 ]; then
    for name in "${names[@]}"; do echo "--- $DIR/$name.log (last lines)"; tail -n 20 "$DIR/$name.log"; done
  fi
  echo "logs are kept in $DIR"
  exit "$status"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1"; exit 1; }

say "starting the broker (state in $DIR) and the documents service"
WRIT_STATE_DIR=$DIR/state WRIT_LISTEN=127.0.0.1:$BROKER_PORT WRIT_TLS_LISTEN=127.0.0.1:$TLS_PORT \
  WRIT_LOG_LEVEL=warning "$BIN/writ" serve > "$DIR/broker.log" 2>&1 & pids+=($!); names+=(broker)
wait_for "$B/healthz"
# The documents service reads the broker's revocation feed as a resource server, with its own workload identity.
"$BIN/writ" dev workload-token --state "$DIR/state" spiffe://example.org/services/documents > "$DIR/documents.jwt"
WRIT_BROKER=$B LISTEN=127.0.0.1:$DOCS_PORT FEED_CREDENTIAL_FILE=$DIR/documents.jwt \
  "$BIN/writ-example-documents" > "$DIR/docs.log" 2>&1 & pids+=($!); names+=(docs)
wait_for "$D/healthz"

AGENT=$("$BIN/writ" dev workload-token --state "$DIR/state" spiffe://example.org/agents/retrieval-assistant)
ALICE=$("$BIN/writ" dev user-token --state "$DIR/state" alice --claim email=alice@example.org --claim department=hr)
run() { "$BIN/writ-example-assistant" --broker "$B" --documents "$D" --workload-token "$AGENT" --user-token "$ALICE" "$@"; }

say "1. the assistant, for alice (hr), reads the documents its task names"
run --read departments/hr/handbook/leave --read departments/hr/handbook/expenses

say "2. a prompt-injected step tries a document outside the task: the documents service refuses it, by name"
run --read departments/hr/handbook/leave --stray departments/hr/handbook/expenses

say "3. asking for finance documents as alice: the policy denies the task, with reasons"
run --read departments/finance/payroll/2026-11 || true

export WRIT_BROKER=$B WRIT_OPERATOR_TOKEN_FILE=$DIR/state/operator-token
say "4. the operator sees what ran: workloads and their tasks"
"$BIN/writ" workloads list
"$BIN/writ" tasks list --limit 5

say "5. a steered task probes documents outside its grant: the documents service reports every refusal,"
echo "   the policy's monitoring rule fires on the sixth, and the assistant is quarantined"
# After its strays it keeps reading its own document with its live token, every 100 ms, until it is refused.
run --read departments/hr/handbook/leave --stray departments/finance/payroll/2026-11 \
  --stray departments/hr/handbook/expenses --stray public/reports/q3 --stray departments/finance/payroll/2026-10 \
  --stray departments/legal/contracts --stray departments/hr/salaries --until-refused 20 > "$DIR/probe.out" 2>&1 || true
echo "$(grep '"step":"stray"' "$DIR/probe.out" | grep -c '"status":"403"') documents outside the grant refused"
grep '"step":"again"' "$DIR/probe.out" | grep -v '"status":"200"' | grep '"status":"401"' | grep 'revoked' \
  || { echo "the quarantined assistant's live token was not refused:"; cat "$DIR/probe.out"; exit 1; }
say "   the operator sees why, and releases it once the injected document is gone"
"$BIN/writ" monitor
"$BIN/writ" quarantine release spiffe://example.org/agents/retrieval-assistant --reason "the injected document is removed"
sleep 1
run --read departments/hr/handbook/leave

say "6. while the assistant holds a live token, an operator revokes its workload"
# The assistant begins a task and keeps reading with the same token, every 100 ms, until it is refused.
run --read departments/hr/handbook/leave --until-refused 30 > "$DIR/live.out" 2>&1 & live=$!
for _ in $(seq 1 100); do grep -q '"step":"read"' "$DIR/live.out" && break; sleep 0.1; done
grep '"step":"task"\|"step":"read"' "$DIR/live.out"
"$BIN/writ" revoke workload spiffe://example.org/agents/retrieval-assistant
wait "$live" || true
say "   the token it holds is refused at the documents service (the broker pushed the revocation to it)"
echo "($(grep -c '"step":"again".*"status":"200"' "$DIR/live.out" || true) more reads with that token succeeded before the revocation)"
grep '"step":"again"' "$DIR/live.out" | grep -v '"status":"200"' | grep '"status":"401"' | grep 'revoked' \
  || { echo "the revoked workload's live token was not refused:"; cat "$DIR/live.out"; exit 1; }
say "   and new tasks are refused"
run --read departments/hr/handbook/leave || true

say "7. and proves afterwards what happened: the audit chain is intact"
"$BIN/writ" audit tail -n 4
"$BIN/writ" audit verify

say "done"
