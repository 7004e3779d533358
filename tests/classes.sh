#!/bin/bash
# tests/classes.sh - traffic classes and their uplink policies in the lab.
#
# scripts/lab.conf with three classes (tests/classes.conf-style sections
# appended here):
#   voip    match = proto udp dport 7      uplinks = fiber cell
#           (the lab's UDP echo stands for the SIP/RTP server)
#   office  match = src 10.77.0.11         uplinks = sat fiber
#   guests  match = src 10.77.0.12         uplinks = fiber cell, metered = no
#           (cell is metered: the guests are on fiber or nowhere)
#   tunnel  match = proto tcp dport 9000   uplinks = fiber cell, failback = reset-tcp
#           (the lab's tcphold server stands for a site-to-site tunnel)
# voip has failback = move-udp; the default class says nothing (stay, as
# failback_moves_flows = no).
# Checks:
#  - status --json lists the classes with their uplinks (default, voip and
#    guests on fiber, office on sat) and `bpftool map dump` of the policy
#    map names them;
#  - a new flow of each class leaves by its class's uplink (office's ping
#    through sat, the guest's through fiber), counted in its class;
#  - fiber silently dead: the voip stream moves to cell as one flow; the
#    guests' new flows are dropped, counted as drop_class_no_uplink, and
#    status shows guests with no uplink; office stays on sat;
#  - during the cut, on cell: a voip stream, the tunnel's TCP connection,
#    a ping of the default class;
#  - fiber back: after the failback hold every class is on its uplink
#    again; each class's flows do what its failback says: the tunnel's TCP
#    connection is reset (tx_rst_moved, the kick), the voip stream moves to
#    fiber as one flow, the default class's ping stays on cell, answered;
#    the guests' pings are answered through fiber.
#
# Run as root after `make`. Output is TAP-like; "classes: X passed, Y
# failed" at the end; everything it creates is removed on exit.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsk-$$-
harness_init classes
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
HOST=10.77.0.10 # the default class's, and voip's and the tunnel's
OFFICE=10.77.0.11
GUEST=10.77.0.12
ALL_UP='d["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'

# cls NAME EXPR: a Python expression over class NAME of status --json (c).
cls() { sj "[c for c in d['classes'] if c['name'] == '$1'][0]$2"; }
reason() { sj "r.get('$1', 0)"; }

# ping_from ADDR [COUNT]: pings from ADDR (a LAN address) to the first probe
# target; true when every one is answered.
ping_from() { nsx lan ping -c "${2:-3}" -i 0.2 -W 1 -I "$1" "${LAB_TARGETS[0]}" >/dev/null; }

# flow_uplink ADDR: the uplink index of ADDR's echo flow in `bascule flows`.
flow_uplink() { bsc flows 200 | awk -v a="$1" '$1 == "icmp" && index($2, a ":") == 1 {print $7; exit}'; }

t_lab_up() {
	site_up && lab_conf || return 1
	cat >>"$CONF" <<-EOF

		[class voip]
		match = proto udp dport $LAB_UDPECHO_PORT
		uplinks = fiber cell
		failback = move-udp

		[class office]
		match = src $OFFICE
		uplinks = sat fiber

		[class guests]
		match = src $GUEST
		uplinks = fiber cell
		metered = no

		[class tunnel]
		match = proto tcp dport $LAB_TCPHOLD_PORT
		uplinks = fiber cell
		failback = reset-tcp
	EOF
	"$BASCULE" check-config "$CONF" >/dev/null || { "$BASCULE" check-config "$CONF"; return 1; }
}

t_daemon_ready() {
	start_daemon || return 1
	wait_until 300 hj "$ALL_UP" || { echo "not all up with fiber active: $(health_line)"; return 1; }
}

t_status_classes() {
	local want='[("default", "fiber"), ("voip", "fiber"), ("office", "sat"), ("guests", "fiber"), ("tunnel", "fiber")]'
	wait_until 50 sj "[(c['name'], c['active']) for c in d['classes']] == $want" ||
		{ echo "classes: $(sj '[(c["name"], c["active"]) for c in d["classes"]]')"; return 1; }
	echo "= classes: $(sj '", ".join("%s on %s" % (c["name"], c["active"]) for c in d["classes"])')"
	bpftool -j map dump pinned "$PIN/policy" | "$PY" -c '
import json, sys
names = [e["formatted"]["value"]["name"] for e in json.load(sys.stdin)][:5]
print("= bpftool map dump policy: names", names)
sys.exit(names != ["default", "voip", "office", "guests", "tunnel"])' || return 1
	bsc status | grep -E '^(CLASS|default|voip|office|guests|tunnel) ' | sed 's/^/=   /'
	# and why, from the daemon
	bsc status | grep -qE '^office +sat .*  \(first of its list\)$' ||
		{ echo "status does not say why office is on sat"; bsc status | grep '^office'; return 1; }
}

t_each_class_its_uplink() {
	ping_from "$OFFICE" || { echo "office's ping not answered"; return 1; }
	ping_from "$GUEST" || { echo "the guest's ping not answered"; return 1; }
	[[ $(flow_uplink "$OFFICE") == 2 ]] || { echo "office's flow is not on sat (uplink 2): $(bsc flows 200 | grep "$OFFICE")"; return 1; }
	[[ $(flow_uplink "$GUEST") == 0 ]] || { echo "the guest's flow is not on fiber (uplink 0): $(bsc flows 200 | grep "$GUEST")"; return 1; }
	(($(cls office '["tx_packets"]') >= 3 && $(cls guests '["tx_packets"]') >= 3 && $(cls office '["new_flows"]') >= 1)) ||
		{ echo "not counted in their classes: office $(cls office ''), guests $(cls guests '')"; return 1; }
	echo "= office: $(cls office '["tx_packets"]') packets out, guests: $(cls guests '["tx_packets"]')"
	bsc flows 200 | grep -E "^icmp +$OFFICE:[0-9]+ .* class office$" | sed 's/^/= flows: /' | grep -q . ||
		{ echo "bascule flows does not show office's flow in its class:"; bsc flows 200; return 1; }
}

# explain_says ARGS -- LINE...: `bascule explain ARGS` prints each LINE
# (a grep -E pattern over its whole output).
explain_says() {
	local out args=() p
	while [[ $1 != -- ]]; do args+=("$1"); shift; done
	shift
	out=$(bsc explain "${args[@]}") || { echo "explain ${args[*]} failed: $out"; return 1; }
	for p in "$@"; do
		grep -qE "$p" <<<"$out" || { echo "explain ${args[*]}: no line /$p/ in:"; echo "$out"; return 1; }
	done
	echo "= explain ${args[*]}: $(grep -E '^(class|uplink):' <<<"$out" | tr '\n' ' ')"
}

t_explain() {
	explain_says "$HOST" "$LAB_UDPECHO_IP" udp "$LAB_UDPECHO_PORT" -- '^class: voip: rule 1 of 4' '^uplink: fiber: ' \
		"^nat: leaves as ${LAB_ISP_EDGE_IP[fiber]}$" || return 1
	explain_says "$OFFICE" 203.0.113.2 icmp -- '^class: office: rule 2 of 4' '^uplink: sat: ' || return 1
	explain_says "$GUEST" 203.0.113.2 tcp 443 -- '^class: guests: rule 3 of 4' '^uplink: fiber: ' || return 1
	explain_says "$HOST" "$LAB_TCPHOLD_IP" tcp "$LAB_TCPHOLD_PORT" sport 40000 -- '^class: tunnel: rule 4 of 4' || return 1
	explain_says "$HOST" 203.0.113.2 udp 53 -- '^class: default: no rule takes it' '^uplink: fiber: ' || return 1
	explain_says 192.168.9.9 203.0.113.2 icmp -- 'drop_spoofed_source' || return 1
	# asked wrong: usage, exit 2
	bsc explain "$HOST" 203.0.113.2 sctp >/dev/null 2>&1
	(($? == 2)) || { echo "explain with a bad PROTO did not exit 2"; return 1; }
}

t_fiber_cut() {
	local d0 d1
	stream_go voip 60 || return 1
	d0=$(reason drop_class_no_uplink)
	lab_fault "$PREFIX" blackhole fiber || return 1
	wait_until 100 hj 'd["active"] == "cell"' || { echo "no failover: $(health_line)"; stream_stop voip; return 1; }
	wait_until 50 sj "[c['active'] for c in d['classes']] == ['cell', 'cell', 'sat', None, 'cell']" ||
		{ echo "classes: $(sj '[(c["name"], c["active"]) for c in d["classes"]]')"; stream_stop voip; return 1; }
	stream_flowing 500 || { stream_stop voip; return 1; }
	stream_stop voip || return 1
	flow_path voip "${LAB_ISP_EDGE_IP[fiber]}" "${LAB_ISP_EDGE_IP[cell]}" || return 1
	gap_under voip 1000 || return 1 # the usual cut-over (failover.sh's bound)
	nsx lan ping -c 3 -i 0.2 -W 1 -I "$GUEST" 203.0.113.3 >/dev/null &&
		{ echo "a guest's new flow was answered with only metered cell (and sat, not its) up"; return 1; }
	d1=$(reason drop_class_no_uplink)
	echo "= drop_class_no_uplink $d0 -> $d1; guests: $(cls guests '["active"]')"
	((d1 >= d0 + 3)) || { echo "the guests' pings were not counted as drop_class_no_uplink"; return 1; }
	ping_from "$OFFICE" || { echo "office's ping not answered through sat"; return 1; }
	bsc status | grep -q '^guests .*none .*no uplink it may use' || { echo "status does not show guests without an uplink"; bsc status; return 1; }
	explain_says "$GUEST" 203.0.113.2 icmp -- '^class: guests' '^uplink: none: .*drop_class_no_uplink' || return 1
	explain_says "$HOST" "$LAB_UDPECHO_IP" udp "$LAB_UDPECHO_PORT" -- '^class: voip' '^uplink: cell: ' || return 1
	[[ $(cls voip '["why"]') == "its list (fiber not usable)" ]] ||
		{ echo "status --json does not say why voip is on cell: $(cls voip '["why"]')"; return 1; }
}

PINGP=
on_uplink() { [[ $(flow_uplink "$1") == "$2" ]]; }
answered() { grep -c "bytes from" "$WORK/ping.out"; }

t_flows_on_cell() {
	stream_go back 120 || return 1
	tcphold_start 120 || { echo "tcphold never got data: $(cat "$WORK/tcphold.json")"; return 1; }
	bsc flows 200 | grep " $LAB_TCPHOLD_IP:$LAB_TCPHOLD_PORT " | grep -q "via uplink 1 " ||
		{ echo "the tunnel's connection is not on cell: $(bsc flows 200 | grep " $LAB_TCPHOLD_IP:")"; return 1; }
	nsx lan ping -i 0.2 -W 1 -I "$HOST" "${LAB_TARGETS[0]}" >"$WORK/ping.out" 2>&1 &
	PINGP=$!
	BG_PIDS+=("$PINGP")
	wait_for 50 on_uplink "$HOST" 1 || { echo "the default class's ping is not on cell: $(bsc flows 200 | grep "$HOST")"; return 1; }
	echo "= on cell: the voip stream, the tunnel, the default class's ping"
}

t_fiber_back() {
	local rst0 rst1 n0 js res
	rst0=$(reason tx_rst_moved) || return 1
	kill -0 "$CP" 2>/dev/null || { echo "the tunnel's connection ended during the cut: $(cat "$WORK/tcphold.json")"; return 1; }
	lab_fault "$PREFIX" restore fiber || return 1
	wait_until 300 sj "[c['active'] for c in d['classes']] == ['fiber', 'fiber', 'sat', 'fiber', 'fiber']" ||
		{ echo "classes: $(sj '[(c["name"], c["active"]) for c in d["classes"]]')"; return 1; }
	echo "= classes back after ${WAITED} s"
	# tunnel (reset-tcp): reset at once, by the kick and the data plane
	wait_gone "$CP" 50 || { echo "the tunnel's connection still up 5 s after its class went back to fiber"; return 1; }
	wait "$CP"
	js=$(cat "$WORK/tcphold.json")
	res=$(jf "$js" 'j["result"]') || { echo "tcphold said: $js"; return 1; }
	rst1=$(reason tx_rst_moved)
	echo "= tunnel: $res; tx_rst_moved $rst0 -> $rst1"
	[[ $res == reset ]] && ((rst1 > rst0)) || return 1
	grep -q "class tunnel: 1 TCP flow(s) on cell to be reset" "$WORK/daemon.log" ||
		{ echo "the daemon did not log the tunnel's move"; return 1; }
	# voip (move-udp): the stream back on fiber, one flow
	stream_flowing 500 || { stream_stop back; return 1; }
	stream_stop back || return 1
	flow_path back "${LAB_ISP_EDGE_IP[cell]}" "${LAB_ISP_EDGE_IP[fiber]}" || return 1
	# default (stay): the ping stays on cell, and answered there
	n0=$(answered)
	sleep 1
	on_uplink "$HOST" 1 && (($(answered) >= n0 + 3)) ||
		{ echo "the default class's ping left cell ($(flow_uplink "$HOST")), or is not answered: $n0 -> $(answered)"; return 1; }
	kill "$PINGP"
	echo "= default class's ping: still on cell, $(answered) answered"
	nsx lan ping -c 3 -i 0.2 -W 1 -I "$GUEST" 203.0.113.2 >/dev/null || { echo "the guest's new flow not answered through fiber"; return 1; }
	# each class's changes are in the history (the writer commits within
	# a second or so)
	cat >"$WORK/hist.py" <<-'EOF'
		import sqlite3, sys
		db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
		rows = db.execute("SELECT class, from_uplink, to_uplink FROM class_changes WHERE class = 'guests' ORDER BY id").fetchall()
		print("= history, guests: " + ", ".join("%s -> %s" % (a, b) for _, a, b in rows))
		sys.exit([r[1:] for r in rows][-2:] != [("fiber", "none"), ("none", "fiber")])
	EOF
	wait_for 50 "$PY" "$WORK/hist.py" "$WORK/history.db"
}

t_exit_clean() {
	stop_daemon TERM || return 1
	((DAEMON_RC == 0))
}

# ------------------------------------------------------------- the run

echo "# Bascule classes test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, bpftool" t_prereq bpftool ip ping
setup "lab site ${PREFIX}* is up; lab.conf with the classes voip, office and guests" t_lab_up
check "daemon READY; all three uplinks up, fiber active" t_daemon_ready || bail_out "no daemon"
check "status --json: default, voip and guests on fiber, office on sat (first of its list, status says); bpftool's policy dump names them" t_status_classes
check "a new flow leaves by its class's uplink: office's ping through sat, the guest's through fiber, counted in their classes; bascule flows names the class" t_each_class_its_uplink
check "explain: each class's flow by its rule (the first that takes it) with its uplink and NAT address; the default class for the rest; a foreign source dropped as drop_spoofed_source; a bad question exits 2" t_explain
check "fiber blackholed: the voip stream moves to cell as one flow, its longest gap under 1 s; the guests (metered = no) dropped as drop_class_no_uplink, shown with no uplink (and so explained); voip on cell because fiber is not usable; office stays on sat" t_fiber_cut
check "during the cut, on cell: a voip stream, the tunnel's TCP connection, the default class's ping" t_flows_on_cell
check "fiber back: every class on its uplink again after the hold; the tunnel (failback = reset-tcp) reset at once (tx_rst_moved), the voip stream (move-udp) back on fiber as one flow, the default class's ping (stay) still on cell, the guests answered through fiber; the guests' changes in the history" t_fiber_back
check "SIGTERM: exit 0" t_exit_clean
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup

summary
((FAILED == 0))
