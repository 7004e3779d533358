#!/bin/bash
# bench_smoke.sh - the short performance benchmark, as a test: it must run
# and print its nine RESULT lines with figures.  Figures are printed for the
# record; no timing is asserted (shared CI machines are noisy).  The lab
# keeps its direct veths here (scripts/bench.sh sets LAB_LINKEMU=0): the
# link emulator would be the bottleneck of a forwarding-rate benchmark.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
BENCH_SHORT=1 scripts/bench.sh 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
n=$(grep -cE '^RESULT ' "$out")
bad=$(grep -E '^RESULT ' "$out" | grep -cE '=(0|0\.0+|nan|-[0-9.]+)( |$)')
if [ "$rc" -eq 0 ] && [ "$n" -eq 9 ] && [ "$bad" -eq 0 ]; then
	echo "ok 1 - bench (short): ran all three paths and printed 9 RESULT lines with positive figures"
	echo "bench: 1 passed, 0 failed"
else
	echo "not ok 1 - bench (short): exit $rc, $n RESULT line(s), $bad without a positive figure"
	echo "bench: 0 passed, 1 failed"
	exit 1
fi
