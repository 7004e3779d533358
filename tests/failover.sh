#!/bin/bash
# tests/failover.sh - automatic failover end to end: health probes, the flip,
# failback, hooks and events, on a lab site of its own.
#
# Builds a site (scripts/lab.sh) with the prefix bsc-<pid>-, runs the
# controller on its edge with scripts/lab.conf (probes kept: only the pin
# root and the control socket are rewritten, and a hook is added), then
# breaks the site's uplinks the way real ones break (carrier loss, a silent
# blackhole, random loss, one dead probe target, a dead backup) and checks
# what the daemon decided (`bascule health --json`, `bascule events --json`)
# and what the traffic saw (a 1 ms UDP stream, a long TCP connection, the
# edge's own HTTP requests). Every check starts from a known state: all
# faults restored, the three uplinks up and fibre active.
#
# Bounds are generous on purpose (a gap < 1 s, a reset < 1.5 s): the suite
# asserts behaviour; scripts/bench-failover.sh measures.
#
# Note on flap damping: every fall of an uplink adds a penalty of 1000 that
# halves every 60 s, and an uplink is held down above 2500 (user/health/health.c,
# not configurable). This suite cuts the fibre three times, spaced so that it
# never gets there: keep it so when adding a cut.
#
# Run as root from anywhere, after `make` (it uses build/bascule, or
# $BASCULE). Output is TAP-like, "ok N - ..." / "not ok N - ...", then
# "failover: X passed, Y failed"; the exit code is 1 when anything failed.
# Everything it creates is removed on exit, on failure and on Ctrl-C.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsc-$$-
harness_init failover
HOOK_LOG=$WORK/hook.log

LAN=(ip netns exec "${PREFIX}lan")
EDGE=(ip netns exec "${PREFIX}edge")
INET=(ip netns exec "${PREFIX}inet")
FIBERNS=(ip netns exec "${PREFIX}fiber")
SATNS=(ip netns exec "${PREFIX}sat")
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")

HOLD_MS= # failback_hold_ms, read from the configuration

# ------------------------------------------------------------- helpers

restore_all() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		lab_fault "$PREFIX" restore "$isp" || return 1
	done
	"${INET[@]}" nft delete table ip bsc_deadtarget 2>/dev/null
	return 0
}

# The known state every check starts from: no fault anywhere, the three
# uplinks up, fibre active. The cell is probed every 2 s while it stands
# by (metered), so after a cell fault this takes about 10 s.
known_state() {
	restore_all || { echo "restoring the faults failed"; return 1; }
	if ! wait_until 300 hj 'd["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'; then
		echo "not back to the known state (all up, fiber active) within 30 s: $(health_line)"
		echo "fiber: $(hj 'u["fiber"]')"
		return 1
	fi
}

# ------------------------------------------------------------- checks

t_lab_up() {
	site_up || return 1
	# The hook appends its BASCULE_* environment, one line per event,
	# tab-separated (a reason has spaces).
	cat >"$WORK/hook.sh" <<-EOF
		#!/bin/sh
		line=\$(env | grep '^BASCULE_' | sort | tr '\n' '\t')
		printf '%s\n' "\$line" >>"$HOOK_LOG"
	EOF
	chmod +x "$WORK/hook.sh" || return 1
	# scripts/lab.conf as it is, probes included; only where it pins, where
	# it listens, and a hook.
	# The satellite uplink learns its gateway like a DHCP client would
	# leave it: a default route of its own, followed by `gateway = auto`.
	lab_conf "s#^\[bascule\]#&\nhook = $WORK/hook.sh#" "s#^gateway = 100.64.0.1#gateway = auto#" || return 1
	"${EDGE[@]}" ip route add default via 100.64.0.1 dev wan2 metric 300 proto dhcp ||
		{ echo "cannot add the satellite's DHCP-style route"; return 1; }
	grep -q "^hook = $WORK/hook.sh" "$WORK/lab.conf" || { echo "hook not added"; return 1; }
	[[ "$(grep -c '^probe *=' "$WORK/lab.conf")" -ge 3 ]] || { echo "no probes in $WORK/lab.conf"; return 1; }
	HOLD_MS=$(sed -n 's/^failback_hold_ms *= *\([0-9]*\).*/\1/p' "$WORK/lab.conf")
	[[ -n "$HOLD_MS" ]] || { echo "no failback_hold_ms in scripts/lab.conf"; return 1; }
	echo "= failback_hold_ms = $HOLD_MS"
	"$BASCULE" check-config "$WORK/lab.conf" || return 1
}

T_READY=
t_daemon_ready() {
	start_daemon || return 1
	T_READY=$(now)
}

t_initial_health() {
	wait_until 20 hj 'd["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"]) and len(d["uplinks"]) == 3' ||
		{ echo "not all up with fiber active 2 s after READY: $(health_line)"; return 1; }
	echo "= $(health_line) ${WAITED} s after READY"
	local probes
	probes=$(hj '" ".join("%s:%d" % (x["name"], x["probes"]) for x in d["uplinks"])')
	echo "= probe targets per uplink: $probes"
	[[ "$probes" == "fiber:4 cell:3 sat:3" ]]
}

# A cut of the fibre during a 1 ms stream: KIND carrier|blackhole, REASON a
# Python regular expression the fibre's down event must match.
T_FAULT='' T_RESTORE=''
cut_fiber() {
	local kind=$1 re=$2 n
	known_state || return 1
	stream_go "$kind" || return 1
	T_FAULT=$(now)
	lab_fault "$PREFIX" "$kind" fiber || { echo "lab_fault $kind fiber failed"; return 1; }
	if ! wait_until 50 hj 'd["active"] == "cell"'; then
		echo "cell is not active 5 s after the fault: $(health_line)"
		ev_lines "$T_FAULT"
		stream_stop "$kind"
		return 1
	fi
	echo "= active is cell ${WAITED} s after the fault was in place"
	stream_flowing 500 || { stream_stop "$kind"; return 1; }
	stream_stop "$kind" || return 1
	ev_lines "$T_FAULT"
	n=$(ev "$T_FAULT" 'len([x for x in up if x["uplink"] == "fiber" and x["old"] == "up" and x["new"] == "down" and __import__("re").search(sys.argv[4], x["reason"])])' "$re") || return 1
	((n == 1)) || { echo "expected one event 'fiber up -> down' with a reason matching /$re/, got $n"; return 1; }
	n=$(ev "$T_FAULT" '[(x["old"], x["new"]) for x in act] == [("fiber", "cell")]') || return 1
	[[ "$n" == True ]] || { echo "expected exactly one flip, fiber -> cell"; return 1; }
	[[ "$(hj 'u["fiber"]["health"]')" == down ]] || { echo "fiber is not down: $(health_line)"; return 1; }
	gap_under "$kind" 1000 || return 1
	flow_path "$kind" "${LAB_ISP_EDGE_IP[fiber]}" "${LAB_ISP_EDGE_IP[cell]}"
}

# Restore the fibre: it must come back up after probing, and take over
# again only once it has been up for failback_hold_ms, exactly once.
failback() {
	local v
	T_RESTORE=$(now)
	lab_fault "$PREFIX" restore fiber || return 1
	if ! wait_until $((HOLD_MS / 100 + 150)) hj 'd["active"] == "fiber"'; then
		echo "fiber not active again within $((HOLD_MS / 1000 + 15)) s of the restore: $(health_line)"
		echo "fiber: $(hj 'u["fiber"]')"
		ev_lines "$T_RESTORE"
		return 1
	fi
	# Long enough to see a flap, if there is one.
	sleep 2
	ev_lines "$T_RESTORE"
	v=$(ev "$T_RESTORE" '
(lambda fu, fa: (
  "fiber should come back exactly once (down -> up), saw %d" % len(fu) if len(fu) != 1 else
  "fiber should be active again exactly once, saw flips %s" % [(x["old"], x["new"]) for x in act] if [(x["old"], x["new"]) for x in act] != [("cell", "fiber")] else
  "other fibre transitions: %s" % [(x["old"], x["new"]) for x in up if x["uplink"] == "fiber" and x not in fu] if len([x for x in up if x["uplink"] == "fiber"]) != 1 else
  "fibre active %.3f s after it came up, before the hold of %.3f s" % (fa[0]["time"] - fu[0]["time"], float(sys.argv[4]) / 1000) if fa[0]["time"] - fu[0]["time"] < float(sys.argv[4]) / 1000 - 0.01 else
  "fibre active %.3f s after it came up, long after the hold of %.3f s" % (fa[0]["time"] - fu[0]["time"], float(sys.argv[4]) / 1000) if fa[0]["time"] - fu[0]["time"] > float(sys.argv[4]) / 1000 + 3 else
  "OK fibre up %.1f s after the restore (%s), active %.3f s after that (hold %s ms)" % (fu[0]["time"] - t0, fu[0]["reason"], fa[0]["time"] - fu[0]["time"], sys.argv[4]))
)([x for x in up if x["uplink"] == "fiber" and x["old"] == "down" and x["new"] in ("up", "degraded")],
  [x for x in act if x["new"] == "fiber"])' "$HOLD_MS") || return 1
	if [[ "$v" == OK* ]]; then
		echo "= ${v#OK }"
	else
		echo "$v"
		return 1
	fi
	[[ "$(health_line)" == "fiber:up* cell:up sat:up" ]] || { echo "now: $(health_line)"; return 1; }
}

t_carrier() {
	cut_fiber carrier '^carrier lost'
}

t_blackhole() {
	cut_fiber blackhole 'round|timeout'
}

# The hook saw the blackhole: fiber up -> down with its reason, and the flip.
t_hooks() {
	[[ -s "$HOOK_LOG" ]] || { echo "the hook never ran ($HOOK_LOG is empty)"; return 1; }
	"$PY" - "$HOOK_LOG" <<-'EOF'
		import sys
		lines = []
		for l in open(sys.argv[1]):
		    env = {}
		    for kv in l.rstrip("\n").split("\t"):
		        if "=" in kv:
		            k, v = kv.split("=", 1)
		            env[k] = v
		    lines.append(env)
		print("= the hook ran %d time(s)" % len(lines))
		down = [e for e in lines if e.get("BASCULE_EVENT") == "uplink" and
		        e.get("BASCULE_UPLINK") == "fiber" and e.get("BASCULE_OLD_STATE") == "up" and
		        e.get("BASCULE_NEW_STATE") == "down" and e.get("BASCULE_REASON")]
		flip = [e for e in lines if e.get("BASCULE_EVENT") == "active" and
		        e.get("BASCULE_OLD_STATE") == "fiber" and e.get("BASCULE_NEW_STATE") == "cell"]
		for e in (down[-1:] + flip[-1:]):
		    print("= " + " ".join("%s=%r" % kv for kv in sorted(e.items())))
		bad = []
		if not down:
		    bad.append("no line with BASCULE_UPLINK=fiber OLD_STATE=up NEW_STATE=down and a reason")
		if not flip:
		    bad.append("no line with BASCULE_EVENT=active fiber -> cell")
		for e in down + flip:
		    for k in ("BASCULE_ACTIVE", "BASCULE_TIME"):
		        if not e.get(k):
		            bad.append("%s empty in %s" % (k, e))
		if flip and flip[-1].get("BASCULE_ACTIVE") != "cell":
		    bad.append("BASCULE_ACTIVE is %r in the flip to cell" % flip[-1].get("BASCULE_ACTIVE"))
		for b in bad:
		    print(b)
		sys.exit(1 if bad else 0)
	EOF
}

# `bascule events` (text) lists the transitions of both cuts with reasons.
t_events_text() {
	local out
	out=$(bsc events) || { echo "bascule events failed"; return 1; }
	echo "$out" | sed 's/^/= /'
	grep -Eq '^[0-9:.]+ +uplink +fiber +up +-> down +carrier lost' <<<"$out" ||
		{ echo "no 'uplink fiber up -> down carrier lost' line"; return 1; }
	grep -Eq '^[0-9:.]+ +uplink +fiber +up +-> down +.*(round|timeout)' <<<"$out" ||
		{ echo "no 'uplink fiber up -> down' line for the blackhole"; return 1; }
	grep -Eq '^[0-9:.]+ +uplink +fiber +down +-> up +[^ ]' <<<"$out" ||
		{ echo "no 'uplink fiber down -> up' line with a reason"; return 1; }
	(($(grep -Ec '^[0-9:.]+ +active +- +fiber +-> cell +[^ ]' <<<"$out") == 2)) ||
		{ echo "not two 'active fiber -> cell' lines"; return 1; }
	(($(grep -Ec '^[0-9:.]+ +active +- +cell +-> fiber +[^ ]' <<<"$out") == 2)) ||
		{ echo "not two 'active cell -> fiber' lines"; return 1; }
}

# `bascule events --json`: the same, in order, with times (the carrier cut
# also logs the carrier coming back, before probing brings fibre up). READY is printed
# before the first probe rounds end: the start-up events (unknown -> up,
# none -> fiber) may come just after it, and are left out.
t_events_json() {
	local v
	v=$(ev "$T_READY" '
(lambda e: (lambda f: "OK %d events after start-up, fibre and flips: %s" % (len(e), " ".join(f)) if f == [
  "up->down", "fiber->cell", "no carrier->carrier", "down->up", "cell->fiber",
  "up->down", "fiber->cell", "down->up", "cell->fiber"] and all(x["reason"] for x in e)
  and all(a["time"] <= b["time"] for a, b in zip(e, e[1:]))
  else "unexpected events: %s" % [(x["kind"], x["uplink"], x["old"], x["new"], x["reason"]) for x in e]
)(["%s->%s" % (x["old"], x["new"]) for x in e if x["uplink"] == "fiber" or x["kind"] == "active"])
)([x for x in e if x["old"] not in ("unknown", "none")])') || return 1
	if [[ "$v" == OK* ]]; then
		echo "= ${v#OK }"
	else
		echo "$v"
		return 1
	fi
}

# Observe for S seconds: fibre active and never down, and COND (a Python
# expression over the health document, d and u) true at every sample
# (twice a second). Goes on to the end, and tells what it saw.
observe() {
	local secs=$1 cond=$2 t0 s bad=0 samples=() a fh ok start end
	t0=$(now)
	start=$(date +%s%N)
	end=$((start + secs * 1000000000))
	while (($(date +%s%N) < end)); do
		s=$(hj '"%s %s %d %s %s" % (d["active"], u["fiber"]["health"], u["fiber"]["loss_pct"], u["cell"]["health"], ('"$cond"'))') || return 1
		samples+=("$s")
		read -r a fh _ _ ok <<<"$s"
		if [[ "$a" != fiber || "$fh" == down || "$ok" != True ]] && ((bad == 0)); then
			echo "first at +$(awk -v d="$(($(date +%s%N) - start))" 'BEGIN { printf "%.1f", d / 1e9 }') s: active $a, fiber $fh, condition $ok ($s)"
			bad=1
		fi
		sleep 0.4
	done
	printf '%s\n' "${samples[@]}" >"$WORK/observe.samples"
	printf '%s\n' "${samples[@]}" | "$PY" -c '
import sys, collections
rows = [l.split() for l in sys.stdin if l.strip()]
fh = collections.Counter(r[1] for r in rows)
ch = collections.Counter(r[3] for r in rows)
ac = collections.Counter(r[0] for r in rows)
print("= %d samples: active %s; fiber %s, probe loss up to %d%%; cell %s" % (
    len(rows), ", ".join("%s x%d" % kv for kv in sorted(ac.items())),
    ", ".join("%s x%d" % kv for kv in sorted(fh.items())),
    max(int(r[2]) for r in rows), ", ".join("%s x%d" % kv for kv in sorted(ch.items()))))'
	ev_lines "$t0" | head -n 12
	s=$(ev "$t0" "len([x for x in act if x['time'] < t0 + $secs])")
	echo "= $s flip(s) of the active uplink in $secs s"
	((s == 0)) || { echo "the active uplink changed $s time(s)"; bad=1; }
	[[ "$(ev "$t0" 'len([x for x in up if x["uplink"] == "fiber" and x["new"] == "down"])')" == 0 ]] ||
		{ echo "fiber went down"; bad=1; }
	((bad == 0))
}

# table_packets CMD...: the packets counted by the rules of the table that
# CMD (an `nft -j list table`) prints.
table_packets() {
	"$@" | "$PY" -c '
import json, sys
print(sum(e["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "rule" in o
          for e in o["rule"]["expr"] if "counter" in e))'
}

t_random_loss() {
	local c m
	known_state || return 1
	lab_fault "$PREFIX" loss fiber 10 || return 1
	observe 20 'True' || return 1
	# The fault was there: fiber's ISP dropped packets (its rule's
	# counter), and fibre's probes saw losses in some sample.
	c=$(table_packets "${FIBERNS[@]}" nft -j list table inet bsc_loss) ||
		{ echo "no loss table at fiber's ISP"; return 1; }
	m=$(awk '{ if ($3 > m) m = $3 } END { print m + 0 }' "$WORK/observe.samples")
	echo "= the fault dropped $c packet(s); the probes' loss reached $m %"
	((c > 0)) || { echo "the loss fault dropped nothing"; return 1; }
	((m > 0)) || { echo "fibre's probes never saw a loss"; return 1; }
}

t_dead_target() {
	local c
	known_state || return 1
	"${INET[@]}" nft -f - <<-EOF || { echo "nft in inet failed"; return 1; }
		table ip bsc_deadtarget {
			chain pre {
				type filter hook prerouting priority -300; policy accept;
				ip daddr ${LAB_TARGETS[0]} counter drop
			}
		}
	EOF
	observe 10 'u["fiber"]["health"] == "up" and u["cell"]["health"] == "up"' || return 1
	c=$(table_packets "${INET[@]}" nft -j list table ip bsc_deadtarget)
	echo "= $c packet(s) to ${LAB_TARGETS[0]} dropped in inet"
	"${INET[@]}" nft delete table ip bsc_deadtarget
	((c > 0))
}

t_cell_dies() {
	local t0 js
	known_state || return 1
	stream_go cell || return 1
	t0=$(now)
	lab_fault "$PREFIX" blackhole cell || { stream_stop cell; return 1; }
	# Standing by and metered, the cell is probed every 2 s.
	if ! wait_until 150 hj 'u["cell"]["health"] == "down"'; then
		echo "cell not down 15 s after its blackhole: $(health_line)"
		stream_stop cell
		return 1
	fi
	echo "= cell down ${WAITED} s after the fault"
	stream_flowing 300 || { stream_stop cell; return 1; }
	stream_stop cell || return 1
	ev_lines "$t0"
	# It may pass through degraded on its way down: its loss window spans
	# many seconds at the metered rate.
	[[ "$(ev "$t0" 'bool(up) and all(x["uplink"] == "cell" for x in up) and up[-1]["new"] == "down" and not act')" == True ]] ||
		{ echo "expected cell events only, ending in down, and no flip"; return 1; }
	[[ "$(hj 'd["active"]')" == fiber ]] || { echo "fiber is not active: $(health_line)"; return 1; }
	js=$(cat "$WORK/cell.json")
	[[ "$(jf "$js" 'j["lost"] == 0 and j["sent"] > 1000')" == True ]] ||
		{ echo "the stream lost $(jf "$js" 'j["lost"]') of $(jf "$js" 'j["sent"]') datagrams"; return 1; }
	flow_path cell "${LAB_ISP_EDGE_IP[fiber]}"
}

# edge_curl TAG: an HTTP request from the edge's own stack; prints
# "<code> <local address>".
edge_curl() {
	"${EDGE[@]}" curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{local_ip}' \
		"http://$LAB_HTTP_IP/?bsc-$1"
}

# The HTTP server logged the request tagged TAG from ADDR.
http_saw() {
	local i
	for i in $(seq 20); do
		grep -q "^$2 .*\"GET /?bsc-$1 HTTP" "$SVC/http.log" && return 0
		sleep 0.1
	done
	echo "the HTTP server did not log GET /?bsc-$1 from $2:"
	grep "bsc-$1" "$SVC/http.log"
	return 1
}

edge_default() {
	"${EDGE[@]}" ip route show default
}

t_edge_before() {
	local r o
	known_state || return 1
	r=$(edge_default)
	echo "= edge: $r"
	grep -q "via ${LAB_ISP_GW_IP[fiber]} dev ${LAB_ISP_WAN[fiber]}" <<<"$r" ||
		{ echo "the edge's default route is not via fibre"; return 1; }
	o=$(edge_curl before) || { echo "curl from the edge failed: $o"; return 1; }
	echo "= curl http://$LAB_HTTP_IP/ from the edge: $o"
	[[ "$o" == "200 ${LAB_ISP_EDGE_IP[fiber]}" ]] || return 1
	http_saw before "${LAB_ISP_EDGE_IP[fiber]}"
}

# The silent cut for the next check (and the one after): a TCP connection
# over fibre, then the blackhole.
t_tcp_reset() {
	local fl js res dt
	tcphold_start 15 || { echo "tcphold never got data: $(cat "$WORK/tcphold.json")"; return 1; }
	# the connection got data: its binding is there
	fl=$(bsc flows | grep " $LAB_TCPHOLD_IP:$LAB_TCPHOLD_PORT ")
	echo "= flow: $fl"
	grep -q "via uplink 0 " <<<"$fl" || { echo "the connection is not on fiber (uplink 0)"; return 1; }
	T_FAULT=$(now)
	lab_fault "$PREFIX" blackhole fiber || { echo "lab_fault blackhole fiber failed"; return 1; }
	if ! wait_gone "$CP" 50; then
		echo "the client is still connected 5 s after the blackhole"
		ev_lines "$T_FAULT"
		kill "$CP" 2>/dev/null
		return 1
	fi
	wait "$CP"
	js=$(cat "$WORK/tcphold.json")
	ev_lines "$T_FAULT"
	res=$(jf "$js" 'j["result"]') || { echo "tcphold said: $js"; return 1; }
	dt=$(jf "$js" "round(j['t_end'] - $T_FAULT, 3)")
	echo "= client: $res ${dt} s after the blackhole (the fault itself takes ~0.1 s to set up)"
	[[ "$res" == reset ]] || return 1
	[[ "$(jf "$js" "j['t_end'] - $T_FAULT < 1.5")" == True ]] || { echo "the reset came too late"; return 1; }
	grep -q "resetting [0-9]* TCP flow" "$WORK/daemon.log" || { echo "the daemon did not log a TCP kick"; return 1; }
}

t_edge_after() {
	local r o i
	wait_until 50 hj 'd["active"] == "cell"' || { echo "cell is not active: $(health_line)"; return 1; }
	for i in $(seq 20); do
		r=$(edge_default)
		grep -q "via ${LAB_ISP_GW_IP[cell]} dev ${LAB_ISP_WAN[cell]}" <<<"$r" && break
		sleep 0.1
	done
	echo "= edge: $r"
	grep -q "via ${LAB_ISP_GW_IP[cell]} dev ${LAB_ISP_WAN[cell]}" <<<"$r" ||
		{ echo "the edge's default route did not follow the flip to cell"; return 1; }
	o=$(edge_curl after) || { echo "curl from the edge failed: $o"; return 1; }
	echo "= curl http://$LAB_HTTP_IP/ from the edge: $o"
	[[ "$o" == "200 ${LAB_ISP_EDGE_IP[cell]}" ]] || return 1
	http_saw after "${LAB_ISP_EDGE_IP[cell]}"
}

# DHCP renumbers the satellite uplink and its router is replaced (new
# address, new MAC): the controller follows through netlink (address, rule,
# table route, gateway MAC), probes from the new address, and new flows on
# sat leave from it.
t_dhcp_renumber() {
	local js dev
	# The sat router's edge-facing device: emu1 behind the link emulator.
	dev=$(lab_l3dev "$PREFIX" sat)
	# (deleting a primary address takes its secondaries along: old first)
	"${SATNS[@]}" ip addr del 100.64.0.1/24 dev "$dev" || return 1
	"${SATNS[@]}" ip addr add 100.64.0.254/24 dev "$dev" || return 1
	"${SATNS[@]}" ip link set "$dev" address 02:00:00:00:04:99 || return 1
	"${EDGE[@]}" ip route replace default via 100.64.0.254 dev wan2 metric 300 proto dhcp || return 1
	"${EDGE[@]}" ip addr del 100.64.0.2/24 dev wan2 || return 1
	"${EDGE[@]}" ip addr add 100.64.0.3/24 dev wan2 || return 1
	"${EDGE[@]}" ip route replace default via 100.64.0.254 dev wan2 metric 300 proto dhcp || return 1
	local i
	for i in $(seq 150); do
		js=$(bsc status --json) || return 1
		[[ "$(jf "$js" '[(x["address"], x["gateway"], x["state"]) for x in j["uplinks"] if x["name"] == "sat"][0] == ("100.64.0.3", "100.64.0.254", "up")')" == True ]] && break
		sleep 0.1
	done
	echo "= followed after about $((i / 10)).$((i % 10)) s"
	[[ "$(hj 'u["sat"]["health"]')" == up ]] || { echo "sat is not up: $(hj 'u["sat"]')"; return 1; }
	jf "$js" '[(x["address"], x["gateway"], x["gateway_mac"], x["state"]) for x in j["uplinks"] if x["name"] == "sat"][0]' | sed 's/^/= sat now: /'
	[[ "$(jf "$js" '[x for x in j["uplinks"] if x["name"] == "sat"][0]["address"]')" == 100.64.0.3 ]] ||
		{ echo "sat's address not followed"; return 1; }
	[[ "$(jf "$js" '[x for x in j["uplinks"] if x["name"] == "sat"][0]["gateway"]')" == 100.64.0.254 ]] ||
		{ echo "sat's gateway not followed"; return 1; }
	[[ "$(jf "$js" '[x for x in j["uplinks"] if x["name"] == "sat"][0]["gateway_mac"]')" == 02:00:00:00:04:99 ]] ||
		{ echo "sat's new gateway MAC not learnt"; return 1; }
	"${EDGE[@]}" ip rule | grep -q "from 100.64.0.3 lookup 102" ||
		{ echo "the probe rule did not follow the address"; "${EDGE[@]}" ip rule; return 1; }
	bsc uplink activate sat | sed 's/^/= /'
	"${LAN[@]}" dig +short +time=2 +tries=2 @"$LAB_DNS_IP" bascule.test | grep -qx "$LAB_HTTP_IP" ||
		{ echo "no DNS answer through the renumbered sat"; bsc uplink auto; return 1; }
	bsc flows 100 | grep -q "via uplink 2 as 100.64.0.3" ||
		{ echo "the new flow did not leave sat from 100.64.0.3"; bsc flows; bsc uplink auto; return 1; }
	echo "= a new flow through sat leaves from 100.64.0.3"
	bsc uplink auto | sed 's/^/= /'
}

t_sigterm() {
	local x
	daemon_alive || { echo "the daemon is not running"; return 1; }
	x=$("${EDGE[@]}" ip rule show | grep -E '^100[0-2]:')
	echo "= before: $(wc -l <<<"$x") bascule rule(s) in the edge"
	stop_daemon TERM || return 1
	((DAEMON_RC == 0)) || { echo "exit status $DAEMON_RC"; return 1; }
	edge_clean || return 1
	[[ ! -e "$CTL" ]] || { echo "the control socket $CTL is still there"; return 1; }
}

# ------------------------------------------------------------- the run

echo "# Bascule failover test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, traffic tools" t_prereq curl nft ip timeout
setup "lab site ${PREFIX}* is up with its inet services; lab.conf with probes and a hook" t_lab_up
check "daemon attaches and prints READY" t_daemon_ready || bail_out "no daemon"
check "within 2 s of READY: fiber, cell, sat up (probes answered), fiber active" t_initial_health

check "carrier loss on fiber during a 1 ms stream: down 'carrier lost', cell active, gap < 1 s, same flow continues from 198.51.100.2" t_carrier
check "carrier back: fiber up after probing, active again once, only after failback_hold_ms" failback

check "silent blackhole of fiber during a 1 ms stream: down after failed rounds, cell active, gap < 1 s, same flow continues from 198.51.100.2" t_blackhole
check "blackhole lifted: fiber up after probing, active again once, only after failback_hold_ms" failback

check "hook: ran with BASCULE_* for fiber up -> down (with a reason) and for the flip" t_hooks
check "bascule events: both cuts and failbacks, with reasons" t_events_text
check "bascule events --json: the same transitions, in order, with reasons" t_events_json

check "10 % random loss on fiber for 20 s (its drops counted, seen by the probes): no failover, fiber never down" t_random_loss
check "one probe target (${LAB_TARGETS[0]}) dead for 10 s: fiber and cell stay up, fiber active" t_dead_target
check "5G blackholed while fiber is active: cell down, no flip, 0 datagrams of a 1 ms stream lost" t_cell_dies

check "edge's own traffic over fibre: default via wan0, curl from the edge works from 192.0.2.2" t_edge_before
check "TCP on fiber during a silent cut: the client gets a reset within 1.5 s" t_tcp_reset
check "edge's own traffic after the flip: default via wan1, curl works again from 198.51.100.2" t_edge_after
check "back to the known state after the last cut (failback)" known_state

check "DHCP renumbers sat and replaces its router: address, gateway, MAC and probe rule followed; new flows leave from the new address" t_dhcp_renumber
check "SIGTERM: daemon exits 0, no ip rule 1000-1002, tables 100-102 empty, no pins, no XDP, no control socket" t_sigterm
check "cleanup: no namespace ${PREFIX}*, bpffs unmounted, work dir gone, no process left" t_cleanup

summary
((FAILED == 0))
