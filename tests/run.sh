#!/bin/bash
# run.sh - run every test suite (unit, data plane, lab integration) and end
# with one line, "N passed, N failed, N skipped", that CI reads.
#
# Each suite prints TAP: its plan ("1..N"), then `ok N - ...` /
# `not ok N - ...` lines; a skip is a line with "# SKIP reason".  What this
# script holds each suite to:
#  - its plan must be the number the table below expects (a check that
#    vanishes, or one added without saying so here, fails the run), and it
#    must report that many checks: the ones it did not (a bail-out, a crash)
#    are failures;
#  - it runs under its own time limit (a hang fails that suite, and the run
#    goes on to the next);
#  - a suite that exits non-zero without reporting a failure, or prints no
#    plan, counts as one failure itself;
#  - every check here is required: a skip is counted apart, listed with its
#    reason at the end, and fails the run.
# The total expected is the sum of the table's plans, checked, not only
# printed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "tests need root (BPF programs, network namespaces)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

export BUILD=${BUILD:-build}
pass=0 fail=0 skip=0 expected=0 reported=0
skipped=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# suite NAME PLAN LIMIT_S CMD...
suite() {
	local name=$1 want=$2 limit=$3 p f s plan seen rc
	shift 3
	expected=$((expected + want))
	echo "=== $name"
	timeout -k 15 "$limit" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	s=$(grep -cE '^(not )?ok [0-9]+.*# ?SKIP' "$log")
	p=$(grep -E '^ok ' "$log" | grep -cvE '# ?SKIP')
	f=$(grep -E '^not ok ' "$log" | grep -cvE '# ?SKIP')
	seen=$((p + f + s))
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -d. -f3)
	while IFS= read -r line; do
		skipped+=("$name: $line")
	done < <(grep -E '^(not )?ok [0-9]+.*# ?SKIP' "$log")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "not ok - suite $name did not finish within its limit of $limit s"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited with status $rc"
		f=$((f + 1))
	fi
	if [ -z "$plan" ]; then
		echo "not ok - suite $name printed no plan (1..N)"
		f=$((f + 1))
	else
		if [ "$plan" -ne "$want" ]; then
			echo "not ok - suite $name plans $plan checks; tests/run.sh expects $want (a check removed, or one added without updating the table)"
			f=$((f + 1))
		fi
		if [ "$seen" -lt "$plan" ]; then
			echo "not ok - suite $name reported $seen of its $plan checks: $((plan - seen)) not run, counted as failed"
			f=$((f + plan - seen))
		fi
	fi
	if [ "$seen" -eq 0 ]; then
		echo "not ok - suite $name ran no test"
		f=$((f + 1))
	fi
	echo "=== $name: $p passed, $f failed, $s skipped"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	reported=$((reported + p + s))
}

# The suites: name, the checks it plans, its time limit in seconds (about
# four times what it takes on 2 cores: a limit catches a hang, it does not
# time anything), the command.
export CMOCKA_MESSAGE_OUTPUT=TAP
suite unit-config 159 60 "$BUILD/tests/test_config"
suite unit-lib 8 60 "$BUILD/tests/test_lib"
suite unit-dataplane 44 60 "$BUILD/tests/test_dataplane_unit"
suite unit-control 13 120 "$BUILD/tests/test_control"
suite unit-daemon 8 120 "$BUILD/tests/test_daemon"
suite history 21 120 "$BUILD/tests/test_history"
suite health 89 60 "$BUILD/tests/test_health"
suite probe 129 180 "$BUILD/tests/test_probe"
suite probe-lab 8 120 tests/probe_lab.sh
suite metrics 12 120 "$BUILD/tests/test_metrics"
suite dataplane 187 180 "$BUILD/tests/test_dataplane"
suite fuzz 2 240 tests/fuzz/run.sh
suite integration 25 180 tests/integration.sh
suite hardening 10 300 tests/hardening.sh
suite failover 19 360 tests/failover.sh
suite ops 27 240 tests/ops.sh
suite drill 23 360 tests/drill.sh
SOAK_CYCLES=10 suite soak 9 300 tests/soak.sh
suite report 13 240 tests/report.sh
suite classes 9 120 tests/classes.sh
suite balance 7 120 tests/balance.sh
suite load 6 120 tests/load.sh
suite bench 1 300 tests/bench_smoke.sh
suite linkemu 17 300 tests/linkemu_test.sh
suite layout 10 120 tests/layout.sh
suite completion 26 60 tests/completion_test.sh
suite prom-rules 3 60 tests/prom_rules.sh

if [ "$skip" -gt 0 ]; then
	echo "# skipped (every check here is required, so the run fails):"
	printf '#   %s\n' "${skipped[@]}"
fi
echo "# $expected checks expected, $((reported + fail)) counted"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$skip" -eq 0 ] && [ "$pass" -eq "$expected" ]
