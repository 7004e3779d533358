#!/bin/bash
# tests/probe_lab.sh - `bascule probe` through each uplink of a lab site.
#
# The daemon will probe every uplink, not only the active one, through that
# uplink's device and address, with one routing rule per uplink ("from ADDR
# lookup TABLE").  This builds a site (scripts/lab.sh, prefix bsc-probe-<pid>-),
# adds those rules on the edge as the daemon will, and checks that:
#   - icmp, tcp, dns and http probes answer through wan0, wan1 and wan2;
#   - probes for wan1 really go through the 5G ISP (nft counters there) and
#     none through the fibre, although the main default route is via wan0;
#   - a router's ICMP error ends a probe at once, with its reason;
#   - a dead ISP (blackhole: link up, everything dropped) makes all four
#     fail with "timeout", at the timeout, while the fibre still answers;
#   - without its routing rule an uplink's probes fail: they never fall back
#     to the default route.
#
# Run as root after `make` (uses build/bascule, or $BASCULE).  Output is TAP,
# then "probe_lab: X passed, Y failed"; exit 1 when anything failed.  The
# site is removed on exit, on failure and on Ctrl-C.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsc-probe-$$-
harness_init probe_lab

# The ISPs behind the link emulator with their profiles' delay, jitter and
# sat's bursts of delay, but without random loss: every check here asserts
# the outcome of single probes (all four answer, each fails with 'timeout'),
# and a TCP or HTTP probe is a dozen frames that cell's and sat's 0.5 % loss
# each way would fail now and then (a few % per call). Where probes go, and
# how they fail, is what this suite tests; how health copes with lossy links
# is tests/failover.sh's and scripts/bench-failover.sh's part.
export LAB_LINKEMU_ARGS="--loss 0 --burst-loss 0"
CHECK_TAIL=20

TARGETS=("icmp ${LAB_TARGETS[0]}" "tcp $LAB_HTTP_IP:80" "dns $LAB_DNS_IP bascule.test"
	"http $LAB_HTTP_IP/ 200")
declare -A TABLE=([fiber]=100 [cell]=101 [sat]=102)

# Lines as measurements, shown under the check.
show() { printf '%s\n' "$1" | sed 's/^/= /'; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# probe ISP [-t MS] TARGET...: from the edge, through that ISP's uplink and
# address.
probe() {
	local isp=$1
	shift
	nsx edge "$BASCULE" probe "${LAB_ISP_WAN[$isp]}" "${LAB_ISP_EDGE_IP[$isp]}" "$@"
}

# What the daemon will set up: one table per uplink, chosen by source.
uplink_rule() {
	local isp=$1 action=$2
	if [[ $action == add ]]; then
		nsx edge ip route replace default via "${LAB_ISP_GW_IP[$isp]}" \
			dev "${LAB_ISP_WAN[$isp]}" table "${TABLE[$isp]}"
	fi
	nsx edge ip rule "$action" from "${LAB_ISP_EDGE_IP[$isp]}" lookup "${TABLE[$isp]}"
}

# Per-ISP counters of what the edge's wan1 address sends to inet, by protocol.
count_setup() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		nsx "$isp" nft -f - <<-EOF
			table inet bsc_probe_count {
				counter n_icmp {}
				counter n_tcp {}
				counter n_udp {}
				chain forward {
					type filter hook forward priority -20; policy accept;
					ip saddr 198.51.100.2 ip protocol icmp counter name n_icmp
					ip saddr 198.51.100.2 ip protocol tcp counter name n_tcp
					ip saddr 198.51.100.2 ip protocol udp counter name n_udp
				}
			}
		EOF
	done
}

count() { # ISP NAME
	nsx "$1" nft list counter inet bsc_probe_count "n_$2" |
		awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

count_reset() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		nsx "$isp" nft reset counters table inet bsc_probe_count >/dev/null
	done
}

# ------------------------------------------------------------- checks

all_ok() { # ISP
	local rc
	probe "$1" "${TARGETS[@]}" | sed 's/^/= /'
	rc=${PIPESTATUS[0]}
	[[ $rc == 0 ]]
}

wan1_leaves_through_cell() {
	local p
	count_reset
	nsx edge ip route show default | grep -q "via ${LAB_ISP_GW_IP[fiber]} dev wan0" ||
		{ echo "main default route is not via wan0"; return 1; }
	probe cell "${TARGETS[@]}" >/dev/null || return 1
	for p in icmp tcp udp; do
		echo "= cell $p: $(count cell "$p") packets, fiber $p: $(count fiber "$p")"
		[[ $(count cell "$p") -ge 1 && $(count fiber "$p") == 0 && $(count sat "$p") == 0 ]] ||
			return 1
	done
}

icmp_error_is_reported() {
	local out t0 t1
	nsx cell ip route add unreachable 203.0.113.99
	t0=$(now_ms)
	out=$(probe cell -t 2000 'icmp 203.0.113.99' 'tcp 203.0.113.99:80')
	t1=$(now_ms)
	nsx cell ip route del unreachable 203.0.113.99
	show "$out"
	echo "= took $((t1 - t0)) ms"
	grep -q "^FAIL icmp 203.0.113.99 .*icmp: host unreachable (from ${LAB_ISP_GW_IP[cell]})$" <<<"$out" &&
		grep -q "^FAIL tcp 203.0.113.99:80 .*connect 203.0.113.99:80: No route to host$" <<<"$out" &&
		((t1 - t0 < 2000)) # reported, not waited out to the 2 s deadline
}

blackhole_times_out() {
	local out rc t0 t1 n
	scripts_lab fault "$PREFIX" blackhole cell
	t0=$(now_ms)
	out=$(probe cell -t 500 "${TARGETS[@]}")
	rc=$?
	t1=$(now_ms)
	show "$out"
	echo "= took $((t1 - t0)) ms for a 500 ms timeout"
	n=$(grep -c '^FAIL .*  timeout$' <<<"$out")
	# never before the deadline; the upper bound only says they ended
	[[ $rc == 1 && $n == 4 ]] && ((t1 - t0 >= 500 && t1 - t0 < 3000)) || return 1
	# The fibre is not affected.
	probe fiber -t 500 "${TARGETS[@]}" >/dev/null
}

restored() {
	scripts_lab fault "$PREFIX" restore cell
	all_ok cell
}

no_rule_no_fallback() {
	local out rc
	count_reset
	uplink_rule cell del
	out=$(probe cell -t 500 "${TARGETS[@]}")
	rc=$?
	uplink_rule cell add
	show "$out"
	echo "= fiber saw icmp $(count fiber icmp), tcp $(count fiber tcp), udp $(count fiber udp)"
	[[ $rc == 1 && $(grep -c '^ok ' <<<"$out") == 0 ]] &&
		[[ $(count fiber icmp) == 0 && $(count fiber tcp) == 0 && $(count fiber udp) == 0 ]]
}

scripts_lab() { bash "$ROOT/scripts/lab.sh" "$@"; }

# ------------------------------------------------------------- run

[[ $(id -u) == 0 ]] || { echo "probe_lab: needs root" >&2; exit 1; }
[[ -x "$BASCULE" ]] || { echo "probe_lab: $BASCULE not built (make)" >&2; exit 1; }

lab_up "$PREFIX" || { echo "Bail out! lab up failed"; exit 1; }
lab_services "$PREFIX" "$SVC" || { echo "Bail out! lab services failed"; exit 1; }
for isp in "${LAB_ISPS[@]}"; do
	uplink_rule "$isp" add
done
count_setup

check "probes through wan0 (fiber) answer" all_ok fiber
check "probes through wan1 (cell) answer" all_ok cell
check "probes through wan2 (sat, CGNAT) answer" all_ok sat
check "wan1 probes leave through the cell ISP only (default route via wan0)" wan1_leaves_through_cell
check "an ICMP unreachable from the cell router ends probes at once" icmp_error_is_reported
check "cell blackholed: all four fail with 'timeout' at the timeout, fiber still ok" blackhole_times_out
check "cell restored: probes answer again" restored
check "without its rule, wan1's probes fail and never go through wan0" no_rule_no_fallback

summary
((FAILED == 0))
