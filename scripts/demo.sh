#!/bin/bash
# scripts/demo.sh - Bascule in one minute, on a lab site (see shared/docs/lab.md).
#
# Builds the site bsc-demo-* (an office LAN, an edge box running Bascule,
# fibre, 5G and satellite ISPs, and "the Internet"), then tells the story:
# traffic goes out over fibre, the fibre is cut while a UDP call runs (the
# call carries on over 5G), a TCP connection on the dead fibre is reset at
# once, and new flows return to fibre when it comes back.
#
# Run as root after `make` (`make demo` does both). Exits 0 when everything
# happened as shown, non-zero with the reason otherwise. The site is removed
# on exit, also on failure or Ctrl-C.

set -uo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lab.sh
source "$ROOT/scripts/lab.sh"

BASCULE=${BASCULE:-$ROOT/build/bascule}
PREFIX=bsc-demo-
PY=$LAB_PY
TOOLS=$LAB_TOOLS
WORK=
DAEMON_PID=
BG_PIDS=()
PROBLEMS=()
T_START=$SECONDS

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

cleanup() {
	local p i
	trap '' INT TERM
	for p in "${BG_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	lab_down "$PREFIX" >/dev/null 2>&1
	if [[ -n "$WORK" ]]; then
		if mountpoint -q "$WORK/bpf" 2>/dev/null; then
			umount "$WORK/bpf" 2>/dev/null || umount -l "$WORK/bpf" 2>/dev/null
		fi
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

# bsc ARGS...: the Bascule CLI on the edge, against this site's pins.
bsc() { "${EDGE[@]}" "$BASCULE" -p "$WORK/bpf/bascule" "$@"; }

# sj EXPR: a Python expression over `bascule status --json`
# (d = document, u = uplinks by name, r = reason counters).
sj() {
	bsc status --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
u = {x["name"]: x for x in d["uplinks"]}
r = d["reasons"]
print(eval(sys.argv[1]))' "$1"
}

jf() { "$PY" -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# Packets an ISP forwarded from the edge's address on it (nft counter).
isp_count() {
	ip netns exec "${PREFIX}$1" nft -j list counter inet bscdemo "$2" | "$PY" -c '
import json, sys
print([o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o][0])'
}

show_status() {
	cmd_echo "bascule status"
	bsc status | sed 's/^/   /'
}

show_isps() {
	local isp
	printf '   %-6s %-16s %10s   %s\n' ISP "edge address" packets "packets from 10.77.0.0/24 (LAN)"
	for isp in "${LAB_ISPS[@]}"; do
		printf '   %-6s %-16s %10s   %s\n' "$isp" "${LAB_ISP_EDGE_IP[$isp]}" \
			"$(isp_count "$isp" edge_src)" "$(isp_count "$isp" lan_src)"
	done
}

# ----------------------------------------------------------------- setup

[[ $EUID -eq 0 ]] || die "run me as root (network namespaces, BPF)"
[[ -x "$BASCULE" ]] || die "$BASCULE is missing: run make first"

heading "Bascule demo: an office with fibre, 5G and satellite uplinks"
say "LAN host 10.77.0.10 -> edge (Bascule, XDP) -> fiber 192.0.2.2 (priority 10)"
say "                                           -> cell  198.51.100.2 (5G, priority 20)"
say "                                           -> sat   100.64.0.2 (behind CGNAT, priority 30)"
say "all of it in network namespaces ${PREFIX}*, removed when the demo ends"

WORK=$(mktemp -d /tmp/bsc-demo.XXXXXX)
mkdir -p "$WORK/svc" "$WORK/bpf"
lab_up "$PREFIX" || die "could not build the lab site"
lab_services "$PREFIX" "$WORK/svc" || die "could not start the inet services"
mount -t bpf bpf "$WORK/bpf" || die "could not mount a bpffs on $WORK/bpf"
sed "s#/sys/fs/bpf/bascule#$WORK/bpf/bascule#" "$ROOT/scripts/lab.conf" >"$WORK/lab.conf"

# Each ISP counts what it forwards from the edge's address, and anything
# carrying a LAN source address (which NAT must never let out).
for isp in "${LAB_ISPS[@]}"; do
	ip netns exec "${PREFIX}$isp" nft -f - <<-EOF || die "nftables counters in $isp"
		table inet bscdemo {
			counter edge_src {
			}
			counter lan_src {
			}
			chain count_fwd {
				type filter hook forward priority -300; policy accept;
				ip saddr ${LAB_ISP_EDGE_IP[$isp]} counter name "edge_src"
			}
			chain count_pre {
				type filter hook prerouting priority -300; policy accept;
				ip saddr 10.77.0.0/24 counter name "lan_src"
			}
		}
	EOF
done

"${EDGE[@]}" "$BASCULE" run -c "$WORK/lab.conf" >"$WORK/daemon.log" 2>&1 </dev/null &
DAEMON_PID=$!
for _ in $(seq 100); do
	grep -qx READY "$WORK/daemon.log" && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -qx READY "$WORK/daemon.log"; then
	tail -n 15 "$WORK/daemon.log" >&2
	die "bascule did not start (log above)"
fi
good "site up, bascule attached to lan0, wan0, wan1, wan2"

# ----------------------------------------------------------------- 1

heading "1. Before: fibre is the active uplink"
show_status
[[ "$(sj '[x["name"] for x in d["uplinks"] if x["active"]]')" == "['fiber']" ]] ||
	bad "fiber is not the active uplink"

# ----------------------------------------------------------------- 2

heading "2. The LAN host uses the Internet"
cmd_echo "curl http://$LAB_HTTP_IP/big.bin"
dl=$("${LAN[@]}" curl -sS --max-time 20 -o "$WORK/dl.bin" -w '%{size_download} %{time_total}' \
	"http://$LAB_HTTP_IP/big.bin")
if [[ -s "$WORK/dl.bin" ]] &&
	[[ "$(sha256sum <"$WORK/dl.bin" | cut -d' ' -f1)" == "$(cut -d' ' -f1 "$WORK/svc/www/big.bin.sha256")" ]]; then
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

say "Which ISP carried it? Packets each ISP forwarded, by source address:"
show_isps
fiber_tx=$(sj 'u["fiber"]["tx_packets"]')
if (($(isp_count fiber edge_src) >= fiber_tx && fiber_tx > 0 && $(isp_count cell edge_src) == 0 &&
	$(isp_count sat edge_src) == 0)); then
	good "all of it went over fibre, NATed to 192.0.2.2"
else
	bad "the traffic did not all go over fibre"
fi
say "$(sj '"XDP forwarded %d packets LAN->uplink and %d uplink->LAN" % (r["fwd_lan_to_uplink"], r["fwd_uplink_to_lan"])')"

# ----------------------------------------------------------------- 3

heading "3. The fibre is cut while a call is running"
say "A UDP stream, one datagram per ms to an echo server (a VoIP call, say)."
say "At 1.5 s the operator takes the fibre out by hand. This is the manual"
say "switch; automatic failure detection by health probes comes later."
n0=$(wc -l <"$WORK/svc/udpecho.seq")
f0=$(isp_count cell edge_src)
"${LAN[@]}" "$PY" "$TOOLS/udpstream.py" "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT" \
	--duration 4 --interval-ms 1 >"$WORK/stream.json" 2>&1 &
sp=$!
BG_PIDS+=("$sp")
sleep 1.5
cmd_echo "bascule uplink down fiber"
bsc uplink down fiber | sed 's/^/   /'
wait "$sp"
js=$(cat "$WORK/stream.json")
sleep 0.2
if jf "$js" 'j["sent"]' >/dev/null 2>&1; then
	say "$(jf "$js" '"stream: %(sent)d sent, %(received)d echoed, %(lost)d lost; longest gap without an echo: %(longest_gap_ms).1f ms" % j')"
	# The echo server's log: "<seq> <source ip>:<port>" per datagram.
	tail -n +"$((n0 + 1))" "$WORK/svc/udpecho.seq" | "$PY" -c '
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
	if [[ "$(jf "$js" 'j["lost"] * 100 < j["sent"] * 2 and j["longest_gap_ms"] < 500')" == True ]]; then
		good "longest gap $(jf "$js" 'round(j["longest_gap_ms"], 1)') ms, $(jf "$js" 'j["lost"]') datagram(s) lost"
	else
		bad "the call suffered: $(jf "$js" '"%(lost)d lost, gap %(longest_gap_ms)s ms" % j')"
	fi
else
	bad "the UDP stream failed: $js"
fi
say "5G forwarded $(($(isp_count cell edge_src) - f0)) packets from 198.51.100.2 since the cut"

# ----------------------------------------------------------------- 4

heading "4. A TCP connection on a cut uplink is reset at once"
say "TCP cannot change its address: instead of hanging for minutes, the"
say "application gets a reset right away and can reconnect (over 5G)."
cmd_echo "bascule uplink up fiber     # fibre back for a moment"
bsc uplink up fiber | sed 's/^/   /'
rm -f "$WORK/tcp.mark"
"${LAN[@]}" "$PY" "$TOOLS/tcphold.py" client "$LAB_TCPHOLD_IP" "$LAB_TCPHOLD_PORT" \
	--timeout 10 --mark "$WORK/tcp.mark" >"$WORK/tcp.json" 2>&1 &
cp=$!
BG_PIDS+=("$cp")
for _ in $(seq 50); do
	[[ -e "$WORK/tcp.mark" ]] && break
	sleep 0.1
done
if [[ -e "$WORK/tcp.mark" ]]; then
	say "a long-lived connection to $LAB_TCPHOLD_IP:$LAB_TCPHOLD_PORT is receiving data:"
	bsc flows | grep " $LAB_TCPHOLD_IP:$LAB_TCPHOLD_PORT " | sed 's/^/   /'
	cmd_echo "bascule uplink down fiber"
	t0=$(date +%s.%N)
	bsc uplink down fiber | sed 's/^/   /'
	for _ in $(seq 30); do
		kill -0 "$cp" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$cp" 2>/dev/null; then
		bad "the connection was not reset: still open 3 s after the cut"
		# Was a RST sent but held back on its way to the LAN host?
		"${LAN[@]}" ping -n -c 1 -W 1 "${LAB_TARGETS[0]}" >/dev/null 2>&1
		sleep 0.3
		if ! kill -0 "$cp" 2>/dev/null; then
			say "(it got its reset only once another packet reached the LAN host:"
			say " $(cat "$WORK/tcp.json"))"
		fi
		kill "$cp" 2>/dev/null
	else
		tj=$(cat "$WORK/tcp.json")
		res=$(jf "$tj" 'j["result"]' 2>/dev/null)
		ms=$(jf "$tj" "int((j['t_end'] - $t0) * 1000)" 2>/dev/null)
		if [[ "$res" == reset ]] && ((ms < 1000)); then
			good "the client saw a reset ${ms} ms after the cut"
		else
			bad "the client ended with '$res' after ${ms:-?} ms"
		fi
	fi
else
	bad "could not open the TCP connection: $(cat "$WORK/tcp.json")"
fi

# ----------------------------------------------------------------- 5

heading "5. After: fibre is down, 5G carries the traffic"
show_status

# ----------------------------------------------------------------- 6

heading "6. The fibre is back: new flows return to it"
cmd_echo "bascule uplink up fiber"
bsc uplink up fiber | sed 's/^/   /'
f0=$(isp_count fiber edge_src)
c0=$(isp_count cell edge_src)
cmd_echo "dig @$LAB_DNS_IP bascule.test; curl http://$LAB_HTTP_IP/big.bin"
a=$("${LAN[@]}" dig +short +time=2 +tries=2 @"$LAB_DNS_IP" bascule.test 2>&1)
"${LAN[@]}" curl -sS --max-time 20 -o /dev/null "http://$LAB_HTTP_IP/big.bin" || bad "curl failed"
df=$(($(isp_count fiber edge_src) - f0))
dc=$(($(isp_count cell edge_src) - c0))
say "packets forwarded since: fiber +$df, cell +$dc"
if [[ "$a" == "$LAB_HTTP_IP" ]] && ((df >= 10 && dc == 0)); then
	good "new flows leave through fibre again"
else
	bad "new flows did not go back to fibre (dig '$a', fiber +$df, cell +$dc)"
fi
show_isps
if (($(isp_count fiber lan_src) + $(isp_count cell lan_src) + $(isp_count sat lan_src) == 0)); then
	good "no ISP ever saw a LAN (10.77.0.x) address"
else
	bad "an ISP saw a LAN source address"
fi

# ----------------------------------------------------------------- end

heading "Done in $((SECONDS - T_START)) s"
if ((${#PROBLEMS[@]})); then
	printf '%sdemo: %d thing(s) did not happen as expected:%s\n' "$RED" "${#PROBLEMS[@]}" "$OFF" >&2
	printf '  - %s\n' "${PROBLEMS[@]}" >&2
	exit 1
fi
good "everything happened as shown"
