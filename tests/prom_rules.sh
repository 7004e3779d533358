#!/bin/bash
# tests/prom_rules.sh - the Prometheus alerting rules
# (scripts/prometheus/bascule.rules.yml): promtool finds them valid, their
# unit tests pass (tests/prom/bascule.rules.test.yml), and every metric name
# they use is one the exporter writes (user/metrics/metrics.c), so a renamed
# metric fails here.  TAP; needs promtool (Debian's prometheus package),
# neither root nor the network.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.." || exit 1

RULES=scripts/prometheus/bascule.rules.yml
TESTS=tests/prom/bascule.rules.test.yml
METRICS=user/metrics/metrics.c
source tests/tap.sh

if ! command -v promtool >/dev/null; then
	# required (scripts/deps.sh installs it): missing is a failure
	echo "not ok 1 - promtool is not installed (apt-get install prometheus)"
	echo "1..1"
	exit 1
fi

out=$(promtool check rules "$RULES" 2>&1)
result $? "promtool check rules $RULES" "$out"

out=$(cd "$(dirname "$TESTS")" && promtool test rules "$(basename "$TESTS")" 2>&1)
result $? "promtool test rules $TESTS" "$out"

# Every bascule_* name in the rules (expressions, and the metrics their
# texts name) must be written by the exporter: as a quoted family or sample
# name, "NAME" or "NAME{...".
mapfile -t names < <(grep -o 'bascule_[a-z0-9_]*' "$RULES" | sort -u)
missing=()
for m in "${names[@]}"; do
	grep -qE "\"${m}[\"{ ]" "$METRICS" || missing+=("$m")
done
if ((${#names[@]} == 0)); then
	result 1 "the rules use metrics of $METRICS" "no bascule_* name found in $RULES"
else
	result ${#missing[@]} "the ${#names[@]} metric names of the rules are all in $METRICS" \
		"${missing[*]/#/not exported: }"
fi

tap_end
