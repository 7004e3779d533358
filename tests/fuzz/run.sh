#!/bin/bash
# run.sh - run each libFuzzer target for FUZZ_SECONDS (tests/run.sh: 10),
# from its seeds (tests/fuzz/seeds/NAME) and the corpus it grew before
# ($BUILD/fuzz/corpus-NAME); TAP, one check per target: it ran, and found
# no crash, leak, overrun, undefined behaviour or broken invariant.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${BUILD:-build}
SECS=${FUZZ_SECONDS:-10}
n=0 failed=0
for t in config probe; do
	n=$((n + 1))
	bin=$BUILD/fuzz/fuzz_$t corpus=$BUILD/fuzz/corpus-$t log=$BUILD/fuzz/fuzz_$t.log
	mkdir -p "$corpus" "$BUILD/fuzz/crashes-$t"
	if [[ ! -x "$bin" ]]; then
		echo "not ok $n - fuzz $t: $bin is not built (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	"$bin" -max_total_time="$SECS" -timeout=5 -rss_limit_mb=2048 -max_len=4096 \
		-artifact_prefix="$BUILD/fuzz/crashes-$t/" "$corpus" "tests/fuzz/seeds/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
	if ((rc == 0)) && [[ -n "$runs" ]] && ((runs > 1000)); then
		echo "ok $n - fuzz $t: $runs runs in $SECS s, no crash ($(ls "$corpus" | wc -l) inputs in its corpus)"
	else
		echo "not ok $n - fuzz $t: exit $rc after ${runs:-?} runs; see $log and $BUILD/fuzz/crashes-$t/"
		tail -n 30 "$log" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
echo "1..$n"
echo "fuzz: $((n - failed)) passed, $failed failed"
((failed == 0))
