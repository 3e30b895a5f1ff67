#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer and runs each for SECONDS.
# usage: FuzzTesting/run.sh [token|proof|policy|all] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
which=${1:-all}
seconds=${2:-60}
# SwiftPM passes -sanitize=fuzzer before -sanitize=address, and in that order swiftc leaves out the
# coverage instrumentation that guides libFuzzer; asking for the coverage explicitly puts it back.
flags=(-c release --sanitize=address --sanitize=fuzzer
    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table)
bin=$(swift build "${flags[@]}" --show-bin-path)
run() {
    local target=$1 seeds=$2
    swift build "${flags[@]}" --product "$target"
    local work=.build/corpus/$seeds
    mkdir -p "$work" artifacts
    echo "fuzzing $target for ${seconds}s (seeds: Corpus/$seeds)"
    # Leak detection is off: Swift's lazily initialised globals and runtime caches live for the whole
    # process and LeakSanitizer reports them at exit. AddressSanitizer's memory-error checks stay on.
    ASAN_OPTIONS=detect_leaks=0 "$bin/$target" "$work" "Corpus/$seeds" -max_total_time="$seconds" -max_len=12000 -timeout=10 \
        -detect_leaks=0 -artifact_prefix=artifacts/ -print_final_stats=1
}
case "$which" in
    token) run FuzzAccessToken AccessToken ;;
    proof) run FuzzDPoPProof DPoPProof ;;
    policy) run FuzzPolicy Policy ;;
    all) run FuzzAccessToken AccessToken; run FuzzDPoPProof DPoPProof; run FuzzPolicy Policy ;;
    *) echo "usage: $0 [token|proof|policy|all] [SECONDS]" >&2; exit 2 ;;
esac
