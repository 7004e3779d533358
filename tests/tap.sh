# tests/tap.sh - TAP for the small suites that need no lab (layout.sh,
# prom_rules.sh): `result RC DESCRIPTION [DETAIL]` numbers a check, prints
# it with its detail as comments; `tap_end` prints the plan and returns
# non-zero when a check failed.  Sourced.
n=0 failed=0

result() {
	n=$((n + 1))
	if (($1 == 0)); then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
	[[ -n ${3:-} ]] && printf '%s\n' "$3" | sed 's/^/#   /'
	return 0
}

tap_end() {
	echo "1..$n"
	((failed == 0))
}
