#!/bin/bash
# scripts/demo.sh - Bascule in under a minute, on a lab site (see docs/lab.md).
#
# Builds the site bsc-demo-* (an office LAN, an edge box running Bascule,
# fibre, 5G and satellite ISPs, and "the Internet"), then tells the story:
# Bascule probes every uplink; traffic goes out over fibre; the fibre ISP
# dies silently (the link stays up, nobody touches Bascule) while a UDP call
# and a TCP connection run: the probes notice, the call carries on over 5G
# as the same flow, the TCP connection is reset at once; when the fibre
# comes back, Bascule waits for it to prove itself (failback_hold_ms), then
# new flows return to it.  Then a continuity drill (`bascule drill`) and the
# continuity plan (`bascule report`, left in build/demo-plan.html).
#
# Run as root after `make` (`make demo` does both). Exits 0 when everything
# happened as shown, non-zero with the reason otherwise. The site is removed
# on exit, also on failure or Ctrl-C.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../tests/lib.sh"

PREFIX=bsc-demo-
PROBLEMS=()

LAN=(ip netns exec "${PREFIX}lan")
EDGE=(ip netns exec "${PREFIX}edge")

if [[ -t 1 ]]; then
	BOLD=$'\e[1m' GREEN=$'\e[32m' RED=$'\e[31m' DIM=$'\e[2m' OFF=$'\e[0m'
else
	BOLD='' GREEN='' RED='' DIM='' OFF=''
fi

heading() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$OFF"; }
say() { printf '   %s\n' "$*"; }
cmd_echo() { printf '   %s$ %s%s\n' "$DIM" "$*" "$OFF"; }
good() { printf '   %s✔ %s%s\n' "$GREEN" "$*" "$OFF"; }
bad() {
	printf '   %s✘ %s%s\n' "$RED" "$*" "$OFF"
	PROBLEMS+=("$*")
}
die() {
	printf '\n%sdemo: %s%s\n' "$RED" "$*" "$OFF" >&2
	exit 1
}

# cleanup (tests/lib.sh): the daemon, tools, the site and the work dir go.
trap cleanup EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

# `bascule events`, only the lines since event number $1 (header kept).
show_events_from() {
	cmd_echo "bascule events"
	bsc events | awk -v n="$1" 'NR == 1 || NR > n + 1' | sed 's/^/   /'
}

# Packets of LAN flows Bascule's data plane sent out of an uplink.
lan_tx() { sj "u['$1']['tx_packets']"; }

show_health() {
	cmd_echo "bascule health"
	bsc health | sed 's/^/   /'
}

# The probes leave from the uplink's address too, so what an ISP sees from
# the edge is LAN traffic (counted by Bascule's data plane) plus probes and
# the box's own traffic (the rest).
show_isps() {
	local isp seen lan
	printf '   %-6s %-14s %12s %14s %16s %12s\n' ISP "edge address" "ISP saw" "LAN flows" "probes & box" "LAN src IPs"
	for isp in "${LAB_ISPS[@]}"; do
		seen=$(isp_count "$isp" edge_src)
		lan=$(lan_tx "$isp")
		printf '   %-6s %-14s %12s %14s %16s %12s\n' "$isp" "${LAB_ISP_EDGE_IP[$isp]}" \
			"$seen" "$lan" "$((seen - lan))" "$(isp_count "$isp" lan_src)"
	done
	say "${DIM}(packets; 'LAN flows' from Bascule's per-uplink counters, 'LAN src IPs' must stay 0)${OFF}"
}

# ----------------------------------------------------------------- setup

[[ $EUID -eq 0 ]] || die "run me as root (network namespaces, BPF)"
[[ -x "$BASCULE" ]] || die "$BASCULE is missing: run make first"

heading "Bascule demo: an office with fibre, 5G and satellite uplinks"
say "LAN host 10.77.0.10 -> edge (Bascule, XDP) -> fiber 192.0.2.2 (priority 10)"
say "                                           -> cell  198.51.100.2 (5G, metered, priority 20)"
say "                                           -> sat   100.64.0.2 (behind CGNAT, priority 30)"
say "all of it in network namespaces ${PREFIX}*, removed when the demo ends"

site_init demo
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
site_up || die "could not build the lab site"
# scripts/lab.conf with its health probes; only the pins and the control
# socket move into this demo's own directory.
lab_conf || die "could not write $CONF"
grep -q '^probe *=' "$CONF" || die "scripts/lab.conf has no probes: the demo needs them"
HOLD_MS=$(sed -n 's/^failback_hold_ms *= *\([0-9]*\).*/\1/p' "$CONF")
HOLD_MS=${HOLD_MS:-10000}

# Each ISP counts what it sees from the edge's address on it, and anything
# carrying a LAN source address (which NAT must never let out).
isp_counters || die "could not set up the nftables counters"

start_daemon >/dev/null || { tail -n 15 "$DAEMON_LOG" >&2; die "bascule did not start (log above)"; }
wait_until 30 hj 'd["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'
good "site up, bascule attached to lan0, wan0, wan1, wan2"

# ----------------------------------------------------------------- 1

heading "1. Before: Bascule probes every uplink, through that uplink"
say "ICMP, TCP and DNS targets on the Internet, every 50 ms on the active uplink,"
say "every 500 ms on standby ones (every 2 s on the metered 5G)."
show_health
[[ "$(health_line)" == "fiber:up* cell:up sat:up" ]] ||
	bad "expected the three uplinks up and fiber active"

# ----------------------------------------------------------------- 2

heading "2. The LAN host uses the Internet"
cmd_echo "curl http://$LAB_HTTP_IP/big.bin"
dl=$("${LAN[@]}" curl -sS --max-time 20 -o "$WORK/dl.bin" -w '%{size_download} %{time_total}' \
	"http://$LAB_HTTP_IP/big.bin")
if [[ -s "$WORK/dl.bin" ]] &&
	[[ "$(sha256sum <"$WORK/dl.bin" | cut -d' ' -f1)" == "$(cut -d' ' -f1 "$SVC/www/big.bin.sha256")" ]]; then
	good "$(awk '{ printf "%.1f MiB in %.3f s, sha256 verified", $1 / 1048576, $2 }' <<<"$dl")"
else
	bad "download failed or corrupted ($dl)"
fi
rm -f "$WORK/dl.bin"

cmd_echo "ping -c 3 ${LAB_TARGETS[0]}"
p=$("${LAN[@]}" ping -n -c 3 -i 0.2 -W 2 "${LAB_TARGETS[0]}" 2>&1)
if grep -q '3 received' <<<"$p"; then
	good "3 replies, $(grep -o 'rtt.*' <<<"$p")"
else
	bad "ping: $(grep 'transmitted' <<<"$p")"
fi

cmd_echo "dig @$LAB_DNS_IP bascule.test"
a=$("${LAN[@]}" dig +short +time=2 +tries=2 @"$LAB_DNS_IP" bascule.test 2>&1)
if [[ "$a" == "$LAB_HTTP_IP" ]]; then good "bascule.test is $a"; else bad "dig answered '$a'"; fi

say "Which ISP carried it? Packets each ISP saw from the edge, and whose they were:"
show_isps
if (($(lan_tx fiber) > 0 && $(lan_tx cell) == 0 && $(lan_tx sat) == 0 &&
	$(isp_count fiber edge_src) >= $(lan_tx fiber))); then
	good "all LAN traffic went over fibre, NATed to 192.0.2.2; the other ISPs saw probes only"
else
	bad "the LAN traffic did not all go over fibre"
fi

# ----------------------------------------------------------------- 3

heading "3. The fibre ISP dies while a call and a TCP connection run"
say "A UDP stream, one datagram per ms to an echo server (a VoIP call, say), and a"
say "long TCP connection receiving data. At 1.5 s the fibre ISP starts dropping"
say "everything. The link stays up (no carrier loss) and nobody touches Bascule."
tcphold_start 15 || bad "could not open the TCP connection: $(cat "$WORK/tcphold.json")"
cmd_echo "bascule flows"
bsc flows | grep " $LAB_TCPHOLD_IP:$LAB_TCPHOLD_PORT " | sed 's/^/   /'
n_ev=$(bsc events --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
stream_start stream 4
sleep 1.5
cmd_echo "scripts/lab.sh fault $PREFIX blackhole fiber     # in the fibre ISP, not on the edge"
lab_fault "$PREFIX" blackhole fiber || die "could not inject the fault"
# (after it: starting the shell that sets the fault takes a good part of a
# second's tenth, and the times below count from the fault in place)
t0=$(now)
wait "$SP"
wait_gone "$CP" 30
sleep 0.2

say "Bascule noticed on its own:"
show_events_from "$n_ev"
down=$(ev "$t0" '"; ".join("%.0f ms|%s" % ((x["time"] - t0) * 1000, x["reason"]) for x in up if x["uplink"] == "fiber" and x["new"] == "down")')
flip=$(ev "$t0" '"; ".join("%.0f ms" % ((x["time"] - t0) * 1000) for x in act if x["old"] == "fiber" and x["new"] == "cell")')
if [[ -n "$down" && -n "$flip" ]]; then
	good "fibre declared down ${down%%|*} after the cut (${down#*|}), 5G active at $flip"
else
	bad "Bascule did not declare the fibre down and switch to 5G"
fi

js=$(cat "$WORK/stream.json")
if jf "$js" 'j["sent"]' >/dev/null 2>&1; then
	say "$(jf "$js" '"the call: %(sent)d sent, %(received)d echoed, %(lost)d lost; longest gap without an echo: %(longest_gap_ms).1f ms" % j')"
	# The echo server's log: "<seq> <source ip>:<port>" per datagram.
	tail -n +"$((N0 + 1))" "$SVC/udpecho.seq" | "$PY" -c '
import sys
groups = []
for line in sys.stdin:
    seq, src = line.split()
    if groups and groups[-1][0] == src:
        groups[-1][1] += 1
    else:
        groups.append([src, 1])
for src, n in groups:
    print("      %-22s %5d datagrams" % (src, n))
ips = [g[0].rsplit(":", 1)[0] for g in groups]
ports = {g[0].rsplit(":", 1)[1] for g in groups}
print("MOVED" if ips == ["192.0.2.2", "198.51.100.2"] and len(ports) == 1 else "NOT MOVED")
' >"$WORK/seen.txt"
	say "the echo server saw this one flow arrive from:"
	grep -v MOVED "$WORK/seen.txt" | sed 's/^/   /'
	if grep -qx MOVED "$WORK/seen.txt"; then
		good "same flow, same port, first over fibre then over 5G: the call continued"
	else
		bad "the flow did not move from fibre to 5G as one flow"
	fi
	if [[ "$(jf "$js" 'j["longest_gap_ms"] < 1000')" == True ]]; then
		good "the call was cut for $(jf "$js" 'round(j["longest_gap_ms"])') ms, detection by the probes included"
	else
		bad "the call was cut for $(jf "$js" 'j["longest_gap_ms"]') ms"
	fi
else
	bad "the UDP stream failed: $js"
fi

if kill -0 "$CP" 2>/dev/null; then
	bad "the TCP connection was not reset: still open 3 s after the cut"
	kill "$CP" 2>/dev/null
else
	tj=$(cat "$WORK/tcphold.json")
	res=$(jf "$tj" 'j["result"]' 2>/dev/null)
	ms=$(jf "$tj" "int((j['t_end'] - $t0) * 1000)" 2>/dev/null)
	if [[ "$res" == reset ]] && ((ms < 1500)); then
		good "the TCP client got a reset ${ms} ms after the cut (it can reconnect over 5G at once)"
	else
		bad "the TCP client ended with '$res' after ${ms:-?} ms"
	fi
fi

# ----------------------------------------------------------------- 4

heading "4. After: fibre down, 5G carries the traffic, the box's own too"
show_health
cmd_echo "ip route show default     # on the edge"
r=$("${EDGE[@]}" ip route show default)
say "$r"
[[ "$r" == *"dev ${LAB_ISP_WAN[cell]}"* ]] || bad "the edge's default route did not follow to 5G"

# ----------------------------------------------------------------- 5

heading "5. The fibre comes back: Bascule waits for it to prove itself"
n_ev=$(bsc events --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
cmd_echo "scripts/lab.sh fault $PREFIX restore fiber"
t1=$(now)
lab_fault "$PREFIX" restore fiber || die "could not restore the fibre"
say "waiting for the failback (${HOLD_MS} ms of good probes after the fibre is up) ..."
if wait_active fiber $(((HOLD_MS / 1000 + 15) * 10)); then
	show_events_from "$n_ev"
	fb=$(ev "$t1" '(lambda a, b: "%.1f|%.1f" % (a[0]["time"] - t0, b[0]["time"] - a[0]["time"]) if a and b else "")([x for x in up if x["uplink"] == "fiber" and x["old"] == "down"], [x for x in act if x["new"] == "fiber"])')
	if [[ -n "$fb" ]]; then
		good "fibre up ${fb%|*} s after it came back, active again ${fb#*|} s later (hold ${HOLD_MS} ms)"
	else
		bad "no 'fiber down -> up' then 'cell -> fiber' in the events"
	fi
else
	show_events_from "$n_ev"
	bad "the fibre was not active again $((HOLD_MS / 1000 + 15)) s after it came back"
fi
say "Flows already on 5G stay there; new flows take the fibre:"
f0=$(lan_tx fiber)
c0=$(lan_tx cell)
cmd_echo "dig @$LAB_DNS_IP bascule.test; curl http://$LAB_HTTP_IP/big.bin"
a=$("${LAN[@]}" dig +short +time=2 +tries=2 @"$LAB_DNS_IP" bascule.test 2>&1)
"${LAN[@]}" curl -sS --max-time 20 -o /dev/null "http://$LAB_HTTP_IP/big.bin" || bad "curl failed"
df=$(($(lan_tx fiber) - f0))
dc=$(($(lan_tx cell) - c0))
say "LAN packets Bascule sent since: fiber +$df, cell +$dc"
if [[ "$a" == "$LAB_HTTP_IP" ]] && ((df >= 10 && dc == 0)); then
	good "new flows leave through fibre again"
else
	bad "new flows did not go back to fibre (dig '$a', fiber +$df, cell +$dc)"
fi

# ----------------------------------------------------------------- 6

heading "6. Who carried what"
show_isps
if (($(isp_count fiber lan_src) + $(isp_count cell lan_src) + $(isp_count sat lan_src) == 0)); then
	good "no ISP ever saw a LAN (10.77.0.x) address"
else
	bad "an ISP saw a LAN source address"
fi
if (($(lan_tx cell) > 0 && $(lan_tx sat) == 0)); then
	good "5G carried LAN traffic during the outage, the satellite none"
else
	bad "unexpected LAN traffic on 5G ($(lan_tx cell)) or satellite ($(lan_tx sat))"
fi

# ----------------------------------------------------------------- 7

heading "7. A continuity drill: Bascule tries the failover itself"
say "The fibre is played dead inside Bascule (no cable touched), a synthetic flow"
say "measures the cut-over, the site's services are checked over 5G, then the"
say "fibre is given back and the failback checked."
cmd_echo "bascule drill"
out=$(timeout 120 "${B[@]}" drill 2>&1)
rc=$?
sed 's/^/   /' <<<"$out"
if ((rc == 0)) && grep -q '^passed: cut-over' <<<"$out"; then
	good "drill passed: $(sed -n 's/^passed: //p' <<<"$out")"
else
	bad "the drill did not pass (exit $rc)"
fi

# ----------------------------------------------------------------- 8

heading "8. The continuity plan, written from what happened"
PLAN=$ROOT/build/demo-plan
cmd_echo "bascule report -c lab.conf -o build/demo-plan.html   (and --format md)"
if "${B[@]}" report -c "$CONF" -o "$PLAN.html" && "${B[@]}" report -c "$CONF" --format md -o "$PLAN.md"; then
	grep -m1 -i -A3 "outages of the period" "$PLAN.md" | sed 's/^/   /'
	good "plan written: $PLAN.html (open it in a browser) and $PLAN.md"
else
	bad "bascule report failed"
fi

# ----------------------------------------------------------------- end

heading "Done in $((SECONDS - T_START)) s"
if ((${#PROBLEMS[@]})); then
	printf '%sdemo: %d thing(s) did not happen as expected:%s\n' "$RED" "${#PROBLEMS[@]}" "$OFF" >&2
	printf '  - %s\n' "${PROBLEMS[@]}" >&2
	exit 1
fi
good "everything happened as shown"
