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
# The output's last six lines are issue 5's, exactly in this form and order.
num='[0-9]+(\.[0-9]+)?'
tail_ok=$(tail -n 6 "$out" | awk -v n="$num" '
	NR == 1 && $0 ~ "^RESULT pps_bascule=" n " pps_kernel=" n " pps_limit=" n " flows=1$" { k++ }
	NR == 2 && $0 ~ "^RESULT pps_bascule=" n " pps_kernel=" n " pps_limit=" n " flows=1000000$" { k++ }
	NR == 3 && $0 ~ "^RESULT ratio_vs_kernel=" n " ratio_vs_limit=" n " flows=1$" { k++ }
	NR == 4 && $0 ~ "^RESULT ratio_vs_kernel=" n " ratio_vs_limit=" n " flows=1000000$" { k++ }
	NR == 5 && $0 ~ "^RESULT ns_per_pkt_hit=" n " ns_per_pkt_miss=" n "$" { k++ }
	NR == 6 && $0 ~ "^RESULT flip_to_effect_us=" n "$" { k++ }
	END { print k + 0 }')
if [ "$rc" -eq 0 ] && [ "$n" -eq 9 ] && [ "$bad" -eq 0 ] && [ "$tail_ok" -eq 6 ]; then
	echo "ok 1 - bench (short): ran all three paths, printed 9 RESULT lines with positive figures, the six of issue 5 last"
	echo "bench: 1 passed, 0 failed"
else
	echo "not ok 1 - bench (short): exit $rc, $n RESULT line(s), $bad without a positive figure, $tail_ok of the last six lines in issue 5's form"
	echo "bench: 0 passed, 1 failed"
	exit 1
fi
