#!/bin/bash
# tests/load.sh - a failover carrying thousands of flows from many hosts.
#
# Forty LAN hosts (macvlans in the lan namespace, each with its own MAC
# and address, 10.77.0.101-140) open 150 UDP flows each, and a greedy
# host (10.77.0.141) tries 600; every flow sends one datagram a second to
# an echo in inet that tells each flow the address and port it saw (the
# NAT's: tests/tools/manyflows.py, udpecho.py --tell). The per-host budget
# is a burst of 200 new flows, refilled at 1 a second. Checks:
#
#  - before: the 6,000 flows are all answered through fiber, each on its
#    own NAT port; the greedy host got its burst (200, plus the refill) and
#    was refused the rest, counted as drop_host_flow_limit and in its
#    `hosts` entry; no other host was refused anything;
#  - fiber silently dead (blackholed at its ISP): every flow bound on fiber
#    (about 6,200) is answered through cell within 10 s, each on its own
#    NAT port on cell; flow_rebound grew by as many; the data plane dropped
#    nothing but the greedy host's refusals; the rebinding storm spent no
#    budget (no host refused, and the greedy host's flows moved
#    with its bucket empty);
#  - fiber restored: after the failback hold every flow is answered through
#    fiber again (failback_moves_flows), with no budget spent either.
#
# Run as root after `make`. Output is TAP-like; "load: X passed, Y failed"
# at the end; everything it creates is removed on exit, failure or Ctrl-C.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsl-$$-
harness_init load
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
LAN=(ip netns exec "${PREFIX}lan")
HOSTS=40         # the well-behaved hosts
PER_HOST=150     # flows each: within the burst, with 50 tokens left
GREEDY_FLOWS=600 # the greedy host's attempts
BURST=200
RATE=1
ECHO_PORT=7778
STATUS=$WORK/flows.json
GEN_PID=
ALL_UP='d["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'

host_ip() { echo "10.77.0.$((100 + $1))"; } # host 1..41, 41 the greedy one
GREEDY=$(host_ip $((HOSTS + 1)))

stop_gen() { stop_pid "$GEN_PID"; GEN_PID=; }
CLEANUP_HOOKS+=(stop_gen)

# ------------------------------------------------------------- helpers

mono() { "$PY" -c 'import time; print(time.monotonic())'; }

# fl EXPR [ARGS]: a Python expression (or statements, the last setting
# `r`) over the generator's status: F the flows as rows (h, port, sent,
# answered, last, ip, nport, changed), t its time, A the flows saved by
# `bound_save` (keys "h:port"), a = sys.argv[3:]. Prints r, or EXPR's value.
fl() {
	"$PY" - "$STATUS" "$@" <<-'EOF'
		import json, os, sys
		s = json.load(open(sys.argv[1]))
		F, t, a = s["flows"], s["t"], sys.argv[3:]
		A = set(open(os.environ["BOUND"]).read().split()) if os.path.exists(os.environ.get("BOUND", "")) else set()
		key = lambda f: "%s:%d" % (f[0], f[1])
		code = sys.argv[2]
		try:
		    r = eval(code)
		except SyntaxError:
		    g = dict(globals()); exec(code, g); r = g["r"]
		print(r)
	EOF
}

# every_bound_via IP T: every flow saved by bound_save was answered after T
# (CLOCK_MONOTONIC s) through IP's NAT.
every_bound_via() {
	[[ $(fl 'all(f[5] == a[0] and f[4] > float(a[1]) for f in F if key(f) in A)' "$1" "$2") == True ]]
}

# others_all_via IP: every flow of the hosts but the greedy one answered,
# last through IP's NAT.
others_all_via() {
	[[ $(fl 'all(f[3] and f[5] == a[0] for f in F if f[0] != a[1])' "$1" "$GREEDY") == True ]]
}

# bound_save: the flows answered through fiber so far, to $BOUND.
BOUND=$WORK/bound
export BOUND
bound_save() {
	fl '"\n".join(key(f) for f in F if f[3] and f[5] == a[0])' "${LAB_ISP_EDGE_IP[fiber]}" >"$BOUND.tmp" &&
		mv "$BOUND.tmp" "$BOUND"
}

# denied: "ADDR DENIED" per entry of the hosts map (a LAN host's budget).
denied() {
	bpftool -j map dump pinned "$PIN/hosts" | "$PY" -c '
import json, sys
for e in json.load(sys.stdin):
    k = bytes(int(x, 16) for x in e["key"])
    print("%d.%d.%d.%d" % tuple(k), e["formatted"]["value"]["denied"] if "formatted" in e else e["value"]["denied"])'
}

# others_denied: the hosts (not the greedy one) that were refused a flow.
others_denied() { denied | awk -v g="$GREEDY" '$1 != g && $2 > 0'; }

reason() { sj "r.get('$1', 0)"; }

# ------------------------------------------------------------- setup

t_lab_up() {
	site_up || return 1
	lab_conf "/^\\[bascule\\]/a host_new_flows_per_s = $RATE\\nhost_new_flows_burst = $BURST\\nfailback_moves_flows = yes" || return 1
	grep -q "^host_new_flows_burst = $BURST\$" "$CONF" && grep -q '^failback_moves_flows = yes$' "$CONF" ||
		{ echo "the budget or failback_moves_flows not set"; return 1; }
}

# The hosts: a macvlan each on the lan namespace's eth0 (its own MAC and
# address), a routing table each so that a socket bound to the address
# leaves by its macvlan; each answers ARP for its own address only.
t_hosts_up() {
	local i ip
	nsx lan sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 || return 1
	for i in $(seq 1 $((HOSTS + 1))); do
		ip=$(host_ip "$i")
		nsx lan ip link add link eth0 name "h$i" address "$(printf '02:00:00:77:00:%02x' "$i")" type macvlan mode bridge &&
			nsx lan ip addr add "$ip/24" dev "h$i" &&
			nsx lan ip link set "h$i" up &&
			nsx lan ip route add default via 10.77.0.1 dev "h$i" table $((200 + i)) &&
			nsx lan ip rule add from "$ip" table $((200 + i)) || return 1
	done
	nsx lan ping -c 1 -W 2 -I "$GREEDY" 10.77.0.1 >/dev/null || { echo "the greedy host cannot reach the edge"; return 1; }
	echo "= $((HOSTS + 1)) hosts, $(host_ip 1) to $GREEDY, each its own MAC"
}

# The echo that tells each flow what it saw, in inet.
t_echo_up() { tell_echo_up "$ECHO_PORT"; }

# ------------------------------------------------------------- checks

t_daemon_ready() {
	start_daemon || return 1
	wait_until 300 hj "$ALL_UP" || { echo "not all up with fiber active: $(health_line)"; return 1; }
}

t_flows_up() {
	local i args=() t0 n
	for i in $(seq 1 "$HOSTS"); do
		args+=(--host "$(host_ip "$i"):$PER_HOST")
	done
	args+=(--host "$GREEDY:$GREEDY_FLOWS")
	t0=$(mono)
	"${LAN[@]}" "$PY" "$TOOLS/manyflows.py" "$LAB_UDPECHO_IP" "$ECHO_PORT" "$STATUS" "${args[@]}" \
		</dev/null >"$WORK/manyflows.log" 2>&1 &
	GEN_PID=$!
	wait_for 100 test -s "$STATUS" || { echo "no status from the generator:"; cat "$WORK/manyflows.log"; return 1; }
	wait_for 200 others_all_via "${LAB_ISP_EDGE_IP[fiber]}" ||
		{ echo "not every flow answered through fiber: $(fl 'sum(1 for f in F if f[0] != a[0] and not f[3])' "$GREEDY") of them not"; return 1; }
	bound_save || return 1
	n=$(wc -l <"$BOUND")
	"$PY" - "$STATUS" "$GREEDY" "$t0" "$BURST" "$RATE" "$((HOSTS * PER_HOST))" <<-'EOF' || return 1
		import json, sys
		s = json.load(open(sys.argv[1]))
		greedy, t0, burst, rate, normal = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
		F = s["flows"]
		ok = [f for f in F if f[3]]
		ports = {(f[5], f[6]) for f in ok}
		g = sum(1 for f in ok if f[0] == greedy)
		most = burst + rate * (s["t"] - t0) + 2
		print("= %d flows answered through fiber on %d NAT ports; the greedy host: %d of its %d (burst %d, at most %.0f by now)"
		      % (len(ok), len(ports), g, sum(1 for f in F if f[0] == greedy), burst, most))
		if len(ok) - g != normal: sys.exit("not all %d flows of the other hosts answered" % normal)
		if len(ports) != len(ok): sys.exit("flows share a NAT port")
		# a bound flow whose datagram was lost on the way is answered a
		# second later: a few fewer than the burst may have answered yet
		if not burst - 5 <= g <= most: sys.exit("the greedy host's flows are not its budget")
	EOF
	(($(reason drop_host_flow_limit) > 0)) || { echo "no drop_host_flow_limit counted"; return 1; }
	[[ -z $(others_denied) ]] || { echo "other hosts were refused flows:"; others_denied; return 1; }
	[[ $(denied | awk -v g="$GREEDY" '$1 == g {print $2}') -gt 0 ]] || { echo "the greedy host's entry shows no refusal"; return 1; }
	echo "= $n flows bound on fiber; drop_host_flow_limit $(reason drop_host_flow_limit), the greedy host denied $(denied | awk -v g="$GREEDY" '$1 == g {print $2}')"
}

t_failover() {
	local t0 rb0 rb1 n moved
	bound_save || return 1
	n=$(wc -l <"$BOUND")
	rb0=$(reason flow_rebound)
	sj '"\n".join("%s %s" % kv for kv in sorted(r.items()))' >"$WORK/reasons0"
	t0=$(mono)
	lab_fault "$PREFIX" blackhole fiber || return 1
	wait_for 100 every_bound_via "${LAB_ISP_EDGE_IP[cell]}" "$t0" || {
		echo "not every flow answered through cell 10 s after the cut: $(fl 'sum(1 for f in F if key(f) in A and f[5] != a[0])' "${LAB_ISP_EDGE_IP[cell]}") not"
		return 1
	}
	rb1=$(reason flow_rebound)
	sj '"\n".join("%s %s" % kv for kv in sorted(r.items()))' >"$WORK/reasons1"
	join "$WORK/reasons0" "$WORK/reasons1" | awk '$3 != $2 {printf "= reason %s: %d -> %d\n", $1, $2, $3}'
	# the storm drops nothing: what grew is forwarding, the kernel's own
	# traffic, the rebinding, and the greedy host's refusals
	join -a 2 "$WORK/reasons0" "$WORK/reasons1" |
		awk 'NF == 2 {$3 = $2; $2 = 0} $3 != $2 && $1 !~ /^(fwd_|pass_)/ && $1 != "flow_rebound" && $1 != "drop_host_flow_limit" {print "= dropped in the storm: " $1 " +" $3 - $2; bad = 1} END {exit bad}' ||
		return 1
	moved=$("$PY" - "$STATUS" "$BOUND" "$t0" "${LAB_ISP_EDGE_IP[cell]}" "$GREEDY" <<-'EOF'
		import json, sys
		F = json.load(open(sys.argv[1]))["flows"]
		A = set(open(sys.argv[2]).read().split())
		t0, cell, greedy = float(sys.argv[3]), sys.argv[4], sys.argv[5]
		m = sorted(f for f in F if "%s:%d" % (f[0], f[1]) in A)
		ch = sorted(f[7] - t0 for f in m)
		print("= %d flows moved to cell on %d NAT ports there; the first %.0f ms after the cut, half by %.0f ms, 99 %% by %.0f ms, the last %.0f ms; the greedy host's %d among them"
		      % (len(m), len({(f[5], f[6]) for f in m}), ch[0] * 1e3, ch[len(ch) // 2] * 1e3, ch[len(ch) * 99 // 100] * 1e3, ch[-1] * 1e3, sum(f[0] == greedy for f in m)), file=sys.stderr)
		print("= all flows so far: %d datagrams sent, %d answered" % (sum(f[2] for f in m), sum(f[3] for f in m)), file=sys.stderr)
		if len({(f[5], f[6]) for f in m}) != len(m) or any(f[5] != cell for f in m): sys.exit("flows share a NAT port on cell")
		if ch[-1] > 10: sys.exit("the last flow moved %.1f s after the cut, not within 10 s" % ch[-1])
		print(len(m))
	EOF
	) || return 1
	echo "= flow_rebound $rb0 -> $rb1 (+$((rb1 - rb0))) for $moved flows bound on fiber at the cut"
	# A greedy flow bound on fiber in the moments before fiber was found
	# down, never answered there, is rebound too: a few more at most.
	((moved == n && rb1 - rb0 >= moved && rb1 - rb0 <= moved + 5)) ||
		{ echo "flow_rebound does not count the flows moved ($n bound)"; return 1; }
	[[ -z $(others_denied) ]] || { echo "the rebinding storm spent the hosts' budgets:"; others_denied; return 1; }
	(($(sj 'u["cell"]["flows"]') >= moved)) || { echo "cell holds $(sj 'u["cell"]["flows"]') flows, not $moved"; return 1; }
	echo "= cell: $(sj 'u["cell"]["flows"]') flows, NAT port use $(sj 'u["cell"]["nat_port_use_ratio"]')"
}

t_failback() {
	local t0
	t0=$(mono)
	lab_fault "$PREFIX" restore fiber || return 1
	wait_for 300 every_bound_via "${LAB_ISP_EDGE_IP[fiber]}" "$t0" || {
		echo "not every flow answered through fiber again 30 s after the restore: $(fl 'sum(1 for f in F if key(f) in A and f[5] != a[0])' "${LAB_ISP_EDGE_IP[fiber]}") not"
		return 1
	}
	echo "= every flow back on fiber $(fl 'round(max(f[7] for f in F if key(f) in A) - float(a[0]), 1)' "$t0") s after the restore (failback hold 3 s)"
	[[ $(fl 'len({(f[5], f[6]) for f in F if key(f) in A}) == len(A)') == True ]] || { echo "flows share a NAT port on fiber"; return 1; }
	[[ -z $(others_denied) ]] || { echo "moving the flows back spent the hosts' budgets:"; others_denied; return 1; }
}

t_exit_clean() {
	stop_gen
	stop_daemon TERM || return 1
	((DAEMON_RC == 0))
}

# ------------------------------------------------------------- the run

echo "# Bascule load test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, bpftool" t_prereq bpftool ip ss
setup "lab site ${PREFIX}* is up; the budget a burst of $BURST new flows at $RATE/s, failback_moves_flows" t_lab_up
setup "$((HOSTS + 1)) LAN hosts, each its own MAC and address" t_hosts_up
setup "an echo that tells each flow its NAT address and port, in inet at $LAB_UDPECHO_IP:$ECHO_PORT" t_echo_up
check "daemon READY; all three uplinks up, fiber active" t_daemon_ready || bail_out "no daemon"
check "$((HOSTS * PER_HOST)) flows from $HOSTS hosts answered through fiber, each its own NAT port; the greedy host's $GREEDY_FLOWS: its burst bound, the rest refused and counted; no other host refused" t_flows_up || bail_out "no flows"
check "fiber blackholed: every flow bound on fiber answered through cell within 10 s, each its own NAT port; flow_rebound counts them; nothing dropped, no budget spent" t_failover
check "fiber restored: every flow back on fiber after the failback hold (failback_moves_flows), each its own NAT port; no budget spent" t_failback
check "SIGTERM: exit 0" t_exit_clean
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup

summary
((FAILED == 0))
