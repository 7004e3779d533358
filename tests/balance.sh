#!/bin/bash
# tests/balance.sh - a balance class in the lab.
#
# scripts/lab.conf with one class appended:
#   bulk  match = proto udp dport 7778    balance = fiber:3 cell:1
# A LAN host (10.77.0.10) opens 1,000 UDP flows to an echo in inet that
# tells each flow the NAT address and port it saw (tests/tools/manyflows.py,
# udpecho.py --tell). Checks:
#  - bpftool's policy dump marks bulk balance = 1, status shows it on
#    fiber, and its members are fiber and cell (the daemon's log) once the
#    later of them has been up for the failback hold, in status with their
#    shares of the table (fiber 75 %, cell 25 %);
#  - the 1,000 flows spread by weight: fiber's share within 5 points of
#    75 % (the table is by weighted rendezvous hashing; 1,000 flows are a
#    sample of it: about 1.5 points of spread);
#  - cell blackholed at its ISP: every flow that was on cell is answered
#    through fiber within 15 s, and every flow that was on fiber is still
#    answered through fiber on the same NAT port (only the leaver's flows
#    move); no drop reason grows but those of the flows caught on cell.
#
# Run as root after `make`. Output is TAP-like; "balance: X passed, Y
# failed" at the end; everything it creates is removed on exit.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsb-$$-
harness_init balance
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
LAN=(ip netns exec "${PREFIX}lan")
ECHO_PORT=7778
FLOWS=1000
HOST=10.77.0.10
STATUS=$WORK/flows.json
GEN_PID=
ALL_UP='d["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'

stop_gen() { stop_pid "$GEN_PID"; GEN_PID=; }
CLEANUP_HOOKS+=(stop_gen)

# fl EXPR [ARGS]: a Python expression over the generator's status: F the
# flows as rows (h, port, sent, answered, last, ip, nport, changed), t its
# time, S the rows saved by `save` as {port: (ip, nport)}, a = sys.argv[3:].
fl() {
	"$PY" - "$STATUS" "$@" <<-'EOF2'
		import json, os, sys
		s = json.load(open(sys.argv[1]))
		F, t, a = s["flows"], s["t"], sys.argv[3:]
		p = os.environ["SAVED"]
		S = {int(x.split()[0]): (x.split()[1], int(x.split()[2])) for x in open(p)} if os.path.exists(p) else {}
		print(eval(sys.argv[2]))
	EOF2
}
SAVED=$WORK/saved
export SAVED
save() { fl '"\n".join("%d %s %d" % (f[1], f[5], f[6]) for f in F if f[3])' >"$SAVED"; }
share() { fl 'sum(1 for f in F if f[3] and f[5] == a[0])' "$1"; }
all_answered() { [[ $(fl 'sum(1 for f in F if f[3])') == "$FLOWS" ]]; }
# cell_left T: no flow saved on cell is without an answer through fiber after T
cell_left() {
	[[ $(fl 'sum(1 for f in F if S[f[1]][0] == a[0] and not (f[5] == a[1] and f[4] > float(a[2])))' \
		"${LAB_ISP_EDGE_IP[cell]}" "${LAB_ISP_EDGE_IP[fiber]}" "$1") == 0 ]]
}

t_lab_up() {
	site_up || return 1
	lab_conf "/^\\[bascule\\]/a host_new_flows_burst = 5000" || return 1
	cat >>"$CONF" <<-EOF3

		[class bulk]
		match = proto udp dport $ECHO_PORT
		balance = fiber:3 cell:1
	EOF3
	"$BASCULE" check-config "$CONF" >/dev/null || { "$BASCULE" check-config "$CONF"; return 1; }
	tell_echo_up "$ECHO_PORT"
}

t_daemon_ready() {
	start_daemon || return 1
	wait_until 300 hj "$ALL_UP" || { echo "not all up with fiber active: $(health_line)"; return 1; }
}

t_status_balance() {
	bpftool -j map dump pinned "$PIN/policy" | "$PY" -c '
import json, sys
v = [e["formatted"]["value"] for e in json.load(sys.stdin)][1]
print("= bpftool map dump policy: entry 1", v["name"], "balance", v["balance"])
sys.exit(v["name"] != "bulk" or v["balance"] != 1)' || return 1
	wait_until 50 sj "[c for c in d['classes'] if c['name'] == 'bulk'][0]['active'] == 'fiber'" ||
		{ echo "bulk: $(sj "[c for c in d['classes'] if c['name'] == 'bulk']")"; return 1; }
	# the uplinks that came up after the first rejoin after the failback
	# hold (3 s in lab.conf), as any newcomer to a balance
	wait_for 100 grep -q 'class bulk: .* -> fiber+cell (balance: its usable members)$' "$DAEMON_LOG" ||
		{ echo "bulk's balance is not over fiber and cell:"; grep 'class bulk' "$DAEMON_LOG"; return 1; }
	grep 'class bulk' "$DAEMON_LOG" | sed 's/^/= /'
	# and each change is an event, for `bascule events` and the hooks
	bsc events --json | "$PY" -c '
import json, sys
ev = [e for e in json.load(sys.stdin) if e["kind"] == "class" and e["uplink"] == "bulk"]
print("= events: " + ", ".join("%s -> %s" % (e["old"], e["new"]) for e in ev))
sys.exit(not ev or ev[-1]["new"] != "fiber+cell")' || return 1
	# status shows both members with their shares of the table (3:1)
	wait_until 50 sj "[(b['uplink'], round(b['share'] * 4)) for c in d['classes'] if c['name'] == 'bulk' for b in c['balance']] == [('fiber', 3), ('cell', 1)]" ||
		{ echo "bulk's members in status --json: $(sj "[c['balance'] for c in d['classes'] if c['name'] == 'bulk']")"; return 1; }
	bsc status | grep -E '^bulk +balance .* over fiber 7[0-9]%, cell 2[0-9]%$' | sed 's/^/= /' | grep . ||
		{ echo "status does not show bulk over fiber and cell:"; bsc status | grep '^bulk'; return 1; }
}

t_spread() {
	local f c
	"${LAN[@]}" "$PY" "$TOOLS/manyflows.py" "$LAB_UDPECHO_IP" "$ECHO_PORT" "$STATUS" --host "$HOST:$FLOWS" \
		</dev/null >"$WORK/manyflows.log" 2>&1 &
	GEN_PID=$!
	wait_for 100 test -s "$STATUS" || { echo "no status from the generator:"; cat "$WORK/manyflows.log"; return 1; }
	wait_for 200 all_answered ||
		{ echo "$(fl 'sum(1 for f in F if not f[3])') of $FLOWS flows not answered"; return 1; }
	save || return 1
	f=$(share "${LAB_ISP_EDGE_IP[fiber]}")
	c=$(share "${LAB_ISP_EDGE_IP[cell]}")
	echo "= $FLOWS flows: $f through fiber, $c through cell (weights 3:1: 750 and 250)"
	((f + c == FLOWS)) || { echo "flows through neither fiber nor cell"; return 1; }
	((f >= 700 && f <= 800)) || { echo "fiber's share is not 75 % within 5 points"; return 1; }
	[[ $(fl 'len({(f[5], f[6]) for f in F})') == "$FLOWS" ]] || { echo "flows share a NAT port"; return 1; }
}

# explain, asked about 100 of the flows with their source ports, names the
# uplink each took (the same slot function as the data plane's); without
# a source port, the class's shares.
t_explain() {
	local n=0 bad=0 proto src arrow dst via up idx sport want got
	while read -r proto src arrow dst via up idx _; do
		[[ $proto == udp && $dst == *":$ECHO_PORT" ]] || continue
		sport=${src##*:}
		want=$(awk -v i="$idx" 'BEGIN { split("fiber cell sat", n, " "); print n[i + 1] }')
		got=$(bsc explain "${src%:*}" "${dst%:*}" udp "$ECHO_PORT" sport "$sport" | sed -n 's/^uplink: \([a-z]*\): slot .*/\1/p')
		[[ $got == "$want" ]] || { ((bad++)); echo "flow $src: on $want, explain says '${got}'"; }
		((++n >= 100)) && break
	done < <(bsc flows 5000)
	echo "= explain: $n flows asked, $bad answered another uplink than theirs"
	((n == 100 && bad == 0)) || return 1
	bsc explain "$HOST" "$LAB_UDPECHO_IP" udp "$ECHO_PORT" | grep -E '^uplink: by its source port.* fiber 75% cell 25%' ||
		{ echo "explain without sport:"; bsc explain "$HOST" "$LAB_UDPECHO_IP" udp "$ECHO_PORT"; return 1; }
}

t_cell_leaves() {
	local t0 n0 moved kept
	sj '"\n".join("%s %s" % kv for kv in sorted(r.items()) if not kv[0].startswith(("fwd_", "pass_", "tx_")) and kv[0] != "flow_rebound")' >"$WORK/reasons0"
	t0=$("$PY" -c 'import time; print(time.monotonic())')
	lab_fault "$PREFIX" blackhole cell || return 1
	n0=$(fl 'sum(1 for f in F if S.get(f[1], ("",))[0] == a[0])' "${LAB_ISP_EDGE_IP[cell]}")
	wait_for 150 cell_left "$t0" ||
		{ echo "cell's flows not all answered through fiber: $(fl 'sum(1 for f in F if S[f[1]][0] == a[0] and f[5] != a[1])' "${LAB_ISP_EDGE_IP[cell]}" "${LAB_ISP_EDGE_IP[fiber]}") not"; return 1; }
	moved=$(fl 'sum(1 for f in F if S[f[1]][0] == a[0] and f[5] == a[1])' "${LAB_ISP_EDGE_IP[cell]}" "${LAB_ISP_EDGE_IP[fiber]}")
	kept=$(fl 'sum(1 for f in F if S[f[1]][0] == a[0] and (f[5], f[6]) == S[f[1]] and f[4] > float(a[1]))' "${LAB_ISP_EDGE_IP[fiber]}" "$t0")
	echo "= cell down: its $n0 flows moved to fiber ($moved), fiber's $((FLOWS - n0)) kept their NAT port ($kept)"
	((moved == n0 && kept == FLOWS - n0)) || { echo "not only cell's flows moved"; return 1; }
	# the flows caught on cell while it was found down: drop_no_uplink /
	# class drops are not expected, the table moved first
	sj '"\n".join("%s %s" % kv for kv in sorted(r.items()) if not kv[0].startswith(("fwd_", "pass_", "tx_")) and kv[0] != "flow_rebound")' >"$WORK/reasons1"
	diff "$WORK/reasons0" "$WORK/reasons1" >/dev/null || { echo "drop reasons grew:"; diff "$WORK/reasons0" "$WORK/reasons1"; return 1; }
}

t_exit_clean() {
	stop_gen
	stop_daemon TERM || return 1
	((DAEMON_RC == 0))
}

# ------------------------------------------------------------- the run

echo "# Bascule balance test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, bpftool" t_prereq bpftool ip
setup "lab site ${PREFIX}* is up; lab.conf with the class bulk (balance = fiber:3 cell:1); the echo that tells" t_lab_up
check "daemon READY; all three uplinks up, fiber active" t_daemon_ready || bail_out "no daemon"
check "bpftool's policy dump shows bulk as a balance; status shows it on fiber; its members fiber and cell once cell has been up for the hold, in status with their shares" t_status_balance
check "$FLOWS new flows of bulk spread by weight: fiber's share 75 % within 5 points, each its own NAT port" t_spread
check "explain names the uplink of each of 100 of these flows (by its source port), and the class's shares without one" t_explain
check "cell blackholed: only cell's flows move (to fiber); fiber's keep their NAT port; no drop reason grows" t_cell_leaves
check "SIGTERM: exit 0" t_exit_clean
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup

summary
((FAILED == 0))
