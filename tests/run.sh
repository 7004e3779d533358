#!/bin/bash
# run.sh - run every test suite (unit, data plane, lab integration) and end
# with one line, "N passed, N failed", that CI reads.  Each suite prints TAP
# lines (`ok N - ...` / `not ok N - ...`); a suite that crashes, or exits
# non-zero without reporting a failure, counts as one failure itself, and a
# run that executed no test fails.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "tests need root (BPF programs, network namespaces)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

BUILD=${BUILD:-build}
pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

suite() {
	local name=$1 p f rc
	shift
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited with status $rc"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name ran no test"
		f=1
	fi
	echo "=== $name: $p passed, $f failed"
	pass=$((pass + p))
	fail=$((fail + f))
}

export CMOCKA_MESSAGE_OUTPUT=TAP
suite unit "$BUILD/tests/test_unit"
suite history "$BUILD/tests/test_history"
suite health "$BUILD/tests/test_health"
suite probe "$BUILD/tests/test_probe"
suite probe-lab tests/probe_lab.sh
suite metrics "$BUILD/tests/test_metrics"
suite dataplane "$BUILD/tests/test_dataplane"
suite fuzz tests/fuzz/run.sh
suite integration tests/integration.sh
suite hardening tests/hardening.sh
suite failover tests/failover.sh
suite ops tests/ops.sh
suite drill tests/drill.sh
SOAK_CYCLES=10 suite soak tests/soak.sh
suite report tests/report.sh
suite bench tests/bench_smoke.sh
suite linkemu tests/linkemu_test.sh
suite layout tests/layout.sh
suite completion tests/completion_test.sh
suite prom-rules tests/prom_rules.sh

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
