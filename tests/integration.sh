#!/bin/bash
# tests/integration.sh - Bascule end to end, on a lab site of its own.
#
# Builds a site (scripts/lab.sh) with the prefix bsc-<pid>-, runs the
# controller on its edge and checks, with traffic from the LAN host to the
# inet services only, that the XDP data plane forwards TCP, UDP and ICMP
# (also with the edge's kernel forwarding off), that the ISPs only ever see
# the uplink's address, that a manual failover moves new flows, keeps a UDP
# flow going and resets TCP at once, that nothing from the WAN reaches the
# LAN unasked, and that the daemon leaves nothing behind.
#
# Run as root from anywhere, after `make` (it uses build/bascule, or
# $BASCULE). Output is TAP-like, "ok N - ..." / "not ok N - ...", then
# "integration: X passed, Y failed"; the exit code is 1 when anything failed.
# Everything it creates is removed on exit, on failure and on Ctrl-C.

set -uo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lab.sh
source "$ROOT/scripts/lab.sh"

BASCULE=${BASCULE:-$ROOT/build/bascule}
PREFIX=bsc-$$-
PY=$LAB_PY
TOOLS=$LAB_TOOLS
WORK=$(mktemp -d /tmp/bsc-integration.XXXXXX)
CHECK_OUT=$(mktemp /tmp/bsc-integration-out.XXXXXX)
SVC=$WORK/svc
BPFFS=$WORK/bpf
PIN=$BPFFS/bascule
T_START=$SECONDS

LAN=(ip netns exec "${PREFIX}lan")
EDGE=(ip netns exec "${PREFIX}edge")
FIBER=(ip netns exec "${PREFIX}fiber")
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN")

DAEMON_PID=
BG_PIDS=()
IN_CHECK=
N=0
PASSED=0
FAILED=0
CLEANED=
SIGNALLED=

# ------------------------------------------------------------- framework

# Remove everything this run created. Idempotent: it runs once explicitly
# (so the last check can verify it) and again from the EXIT trap.
cleanup() {
	[[ -n "$CLEANED" ]] && return 0
	local p i
	# Not to be cut short: children inherit the ignored signals too.
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
	# Also kills whatever still runs in the site's namespaces (services).
	lab_down "$PREFIX" >/dev/null 2>&1
	if mountpoint -q "$BPFFS" 2>/dev/null; then
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null
	fi
	rm -rf "$WORK"
	CLEANED=1
	if [[ -z "$SIGNALLED" ]]; then
		trap 'on_signal INT' INT
		trap 'on_signal TERM' TERM
	fi
}

summary() {
	echo "# took $((SECONDS - T_START)) s"
	echo "integration: $PASSED passed, $FAILED failed"
}

on_exit() {
	cleanup
	rm -f "$CHECK_OUT"
}

on_signal() {
	trap '' INT TERM
	SIGNALLED=$1
	# A check's output goes to a file: report on the real stdout.
	exec 1>&3 2>&4
	if [[ -n "$IN_CHECK" ]]; then
		echo "not ok $N - $IN_CHECK (interrupted by SIG$1)"
	else
		echo "not ok $((N + 1)) - interrupted by SIG$1"
	fi
	FAILED=$((FAILED + 1))
	cleanup
	summary
	[[ "$1" == INT ]] && exit 130
	exit 143
}

exec 3>&1 4>&2
trap on_exit EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# On a failure: the daemon's last words and the data plane's state.
diagnostics() {
	if [[ -s "$WORK/daemon.log" ]]; then
		echo "# daemon log (tail):"
		tail -n 6 "$WORK/daemon.log" | sed 's/^/#   /'
	fi
	if [[ -e "$PIN/config" ]]; then
		echo "# status:"
		"${B[@]}" status 2>&1 | sed 's/^/#   /'
	fi
}

# check "description" CMD...: run CMD in this shell (so it can set globals),
# record ok / not ok. CMD's output is shown only on failure, except lines
# starting with "= " (measurements), which are always shown as comments.
check() {
	local desc=$1
	shift
	N=$((N + 1))
	IN_CHECK=$desc
	if "$@" >"$CHECK_OUT" 2>&1; then
		IN_CHECK=
		PASSED=$((PASSED + 1))
		echo "ok $N - $desc"
		sed -n 's/^= /#   /p' "$CHECK_OUT"
	else
		IN_CHECK=
		FAILED=$((FAILED + 1))
		echo "not ok $N - $desc"
		sed 's/^= //; s/^/#   /' "$CHECK_OUT" | tail -n 25
		diagnostics
		return 1
	fi
}

# A check that cannot go on without its predecessor: stop here.
bail_out() {
	echo "# Bail out! $*"
	cleanup
	summary
	exit 1
}

# ------------------------------------------------------------- helpers

# sj EXPR: evaluate a Python expression over `bascule status --json`,
# with d = the whole document, u = uplinks by name, r = reason counters.
sj() {
	"${B[@]}" status --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
u = {x["name"]: x for x in d["uplinks"]}
r = d["reasons"]
print(eval(sys.argv[1]))' "$1"
}

reason() { sj "r['$1']"; }

# jf JSON EXPR: a Python expression over one JSON object j.
jf() {
	"$PY" -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# nft_count ISP NAME: packets of a named counter of table inet bsccount.
nft_count() {
	ip netns exec "${PREFIX}$1" nft -j list counter inet bsccount "$2" | "$PY" -c '
import json, sys
print([o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o][0])'
}

# Wait up to $2 tenths of a second for file $1.
wait_file() {
	local i
	for i in $(seq "$2"); do
		[[ -e "$1" ]] && return 0
		sleep 0.1
	done
	[[ -e "$1" ]]
}

active_uplink() {
	sj '",".join(x["name"] for x in d["uplinks"] if x["active"]) or "none"'
}

# Back to the known state: every uplink in service, priority order.
restore_uplinks() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		"${B[@]}" uplink up "$isp" >/dev/null || return 1
	done
	"${B[@]}" uplink auto >/dev/null || return 1
	[[ "$(active_uplink)" == fiber ]] || { echo "active uplink is $(active_uplink), not fiber"; return 1; }
}

# Download big.bin from the LAN host and compare its sha256.
download() {
	local f=$WORK/dl.bin want got
	rm -f "$f"
	if ! "${LAN[@]}" curl -sS --max-time 20 -o "$f" "http://$LAB_HTTP_IP/big.bin"; then
		echo "curl from the LAN host failed"
		return 1
	fi
	want=$(cut -d' ' -f1 "$SVC/www/big.bin.sha256")
	got=$(sha256sum "$f" | cut -d' ' -f1)
	rm -f "$f"
	[[ "$got" == "$want" ]] || { echo "sha256 $got, expected $want"; return 1; }
	echo "= sha256 ok ($want)"
}

dns_query() {
	local ans
	ans=$("${LAN[@]}" dig +short +time=2 +tries=2 @"$LAB_DNS_IP" bascule.test 2>&1)
	echo "= dig @$LAB_DNS_IP bascule.test: ${ans:-<nothing>}"
	[[ "$ans" == "$LAB_HTTP_IP" ]]
}

# ------------------------------------------------------------- checks

t_prereq() {
	[[ $EUID -eq 0 ]] || { echo "must run as root"; return 1; }
	[[ -x "$BASCULE" ]] || { echo "$BASCULE is missing: run make first"; return 1; }
	local t
	for t in curl dig ping nft sha256sum "$PY"; do
		command -v "$t" >/dev/null || { echo "$t is missing (make deps)"; return 1; }
	done
}

t_lab_up() {
	mkdir -p "$SVC" "$BPFFS" || return 1
	lab_up "$PREFIX" || { echo "lab_up $PREFIX failed"; return 1; }
	lab_services "$PREFIX" "$SVC" || { echo "lab_services failed"; return 1; }
	# bpffs in the root mount namespace: every `ip netns exec` sees it.
	mount -t bpf bpf "$BPFFS" || { echo "cannot mount bpffs on $BPFFS"; return 1; }
	# This suite checks the data plane and the operator's hand: no health
	# probes, so that the ISPs' counters see LAN traffic only and nothing
	# moves but what the test moves (tests/failover.sh covers probing).
	sed -e "s#/sys/fs/bpf/bascule#$PIN#" -e "s#/run/bascule/control.sock#$WORK/control.sock#" \
		-e '/^probe *=/d' "$ROOT/scripts/lab.conf" >"$WORK/lab.conf"
	grep -q "pin_root = $PIN" "$WORK/lab.conf" || { echo "pin_root not rewritten"; return 1; }
}

t_isp_counters() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		ip netns exec "${PREFIX}$isp" nft -f - <<-EOF || { echo "nft in $isp failed"; return 1; }
			table inet bsccount {
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
		[[ "$(nft_count "$isp" edge_src)" == 0 ]] || { echo "counter in $isp not at 0"; return 1; }
	done
}

t_daemon_ready() {
	local i
	"${EDGE[@]}" "$BASCULE" run -c "$WORK/lab.conf" >"$WORK/daemon.log" 2>&1 </dev/null &
	DAEMON_PID=$!
	for i in $(seq 100); do
		grep -qx READY "$WORK/daemon.log" && break
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "the daemon exited before READY:"
			tail -n 15 "$WORK/daemon.log"
			return 1
		fi
		sleep 0.1
	done
	grep -qx READY "$WORK/daemon.log" || { echo "no READY within 10 s"; return 1; }
	echo "= READY within $((i * 100)) ms"
}

t_status_initial() {
	local s
	s=$(sj '" ".join("%s:%s%s" % (x["name"], x["state"], "*" if x["active"] else "") for x in d["uplinks"])') || return 1
	echo "= uplinks $s"
	[[ "$s" == "fiber:up* cell:up sat:up" ]]
}

DL_XDP=0
t_tcp_download() {
	local a b
	DL_XDP=0
	a=$(reason fwd_uplink_to_lan) || return 1
	download || return 1
	b=$(reason fwd_uplink_to_lan) || return 1
	DL_XDP=$((b - a))
}

t_xdp_download() {
	echo "= fwd_uplink_to_lan grew by $DL_XDP during the 8 MiB download"
	((DL_XDP > 5000))
}

t_ping() {
	local o
	o=$("${LAN[@]}" ping -n -c 3 -i 0.2 -W 2 "${LAB_TARGETS[0]}" 2>&1)
	echo "= $(grep 'packets transmitted' <<<"$o")"
	grep -q '3 packets transmitted, 3 received' <<<"$o"
}

UDP_SENT=0 UDP_RECV=0 UDP_XDP_OUT=0 UDP_XDP_IN=0
t_udp_stream() {
	local a1 a2 b1 b2 js
	UDP_SENT=0 UDP_RECV=0 UDP_XDP_OUT=0 UDP_XDP_IN=0
	a1=$(reason fwd_lan_to_uplink) && a2=$(reason fwd_uplink_to_lan) || return 1
	js=$("${LAN[@]}" "$PY" "$TOOLS/udpstream.py" "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT" \
		--duration 1 --interval-ms 1) || { echo "udpstream failed: $js"; return 1; }
	b1=$(reason fwd_lan_to_uplink) && b2=$(reason fwd_uplink_to_lan) || return 1
	UDP_SENT=$(jf "$js" 'j["sent"]')
	UDP_RECV=$(jf "$js" 'j["received"]')
	UDP_XDP_OUT=$((b1 - a1))
	UDP_XDP_IN=$((b2 - a2))
	echo "= $UDP_RECV of $UDP_SENT echoes, longest gap $(jf "$js" 'j["longest_gap_ms"]') ms"
	((UDP_SENT >= 500 && UDP_RECV * 100 >= UDP_SENT * 99))
}

t_xdp_udp() {
	echo "= during the UDP stream: fwd_lan_to_uplink +$UDP_XDP_OUT (sent $UDP_SENT)," \
		"fwd_uplink_to_lan +$UDP_XDP_IN (echoes $UDP_RECV)"
	((UDP_SENT > 0 && UDP_XDP_OUT >= UDP_SENT && UDP_XDP_IN >= UDP_RECV))
}

t_forwarding() { # 0|1
	"${EDGE[@]}" sysctl -qw net.ipv4.ip_forward="$1" || return 1
	local v
	v=$("${EDGE[@]}" sysctl -n net.ipv4.ip_forward)
	echo "= edge net.ipv4.ip_forward = $v"
	[[ "$v" == "$1" ]]
}

t_isp_saw_fiber_only() {
	local f c s tx
	f=$(nft_count fiber edge_src) && c=$(nft_count cell edge_src) && s=$(nft_count sat edge_src) || return 1
	tx=$(sj 'u["fiber"]["tx_packets"]') || return 1
	echo "= forwarded by the ISPs from the edge: fiber $f, cell $c, sat $s (Bascule fiber tx_packets $tx)"
	((f >= 500 && c == 0 && s == 0 && f * 100 >= tx * 99))
}

t_new_flow_via_cell() {
	local f0 c0 f1 c1 o
	o=$("${B[@]}" uplink activate cell) || { echo "$o"; return 1; }
	echo "= $o"
	[[ "$(active_uplink)" == cell ]] || { echo "active uplink is $(active_uplink)"; return 1; }
	f0=$(nft_count fiber edge_src) && c0=$(nft_count cell edge_src) || return 1
	download || return 1
	dns_query || return 1
	f1=$(nft_count fiber edge_src) && c1=$(nft_count cell edge_src) || return 1
	echo "= new download + DNS query: cell forwarded +$((c1 - c0)), fiber +$((f1 - f0))"
	((c1 - c0 >= 10 && f1 == f0))
}

t_auto_back_to_fiber() {
	"${B[@]}" uplink auto >/dev/null || return 1
	local a
	a=$(active_uplink)
	echo "= active uplink: $a"
	[[ "$a" == fiber ]]
}

t_udp_flip() {
	local n0 sp js rb0 rb1 rc
	restore_uplinks || return 1
	rb0=$(reason flow_rebound) || return 1
	n0=$(wc -l <"$SVC/udpecho.seq")
	"${LAN[@]}" "$PY" "$TOOLS/udpstream.py" "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT" \
		--duration 4 --interval-ms 1 >"$WORK/flip.json" 2>&1 &
	sp=$!
	BG_PIDS+=("$sp")
	sleep 1.5
	"${B[@]}" uplink down fiber || { echo "uplink down fiber failed"; return 1; }
	wait "$sp"
	rc=$?
	js=$(cat "$WORK/flip.json")
	[[ $rc -eq 0 ]] || { echo "udpstream failed ($rc): $js"; return 1; }
	sleep 0.2 # the echo server's log is written after each echo
	tail -n +"$((n0 + 1))" "$SVC/udpecho.seq" >"$WORK/flip.seq"
	echo "= stream: $(jf "$js" '"sent %(sent)d, lost %(lost)d, longest gap %(longest_gap_ms)s ms" % j')"
	# Same source port, first from fibre's address, then from cell's, never back.
	"$PY" - "$WORK/flip.seq" <<-'EOF' || return 1
		import sys
		rows = []
		for line in open(sys.argv[1]):
		    seq, src = line.split()
		    if seq != "-":
		        rows.append((int(seq), src))
		groups = []
		for seq, src in rows:
		    if groups and groups[-1][0] == src:
		        groups[-1][1] += 1
		    else:
		        groups.append([src, 1])
		print("= echo server saw: " + " then ".join("%s x%d" % tuple(g) for g in groups))
		ports = {src.rsplit(":", 1)[1] for _, src in rows}
		ips = [g[0].rsplit(":", 1)[0] for g in groups]
		fib = [s for s, src in rows if src.startswith("192.0.2.2:")]
		cel = [s for s, src in rows if src.startswith("198.51.100.2:")]
		ok = (len(ports) == 1 and ips == ["192.0.2.2", "198.51.100.2"]
		      and max(fib) < min(cel))
		sys.exit(0 if ok else 1)
	EOF
	rb1=$(reason flow_rebound) || return 1
	echo "= flow_rebound +$((rb1 - rb0))"
	jf "$js" 'j["lost"] * 100 < j["sent"] * 2 and j["longest_gap_ms"] < 500' | grep -qx True ||
		{ echo "too much loss or too long a gap"; return 1; }
	((rb1 - rb0 >= 1))
}

t_tcp_reset() {
	local cp fl rr0 rr1 t0 js i res dt
	restore_uplinks || return 1
	rm -f "$WORK/tcphold.mark"
	"${LAN[@]}" "$PY" "$TOOLS/tcphold.py" client "$LAB_TCPHOLD_IP" "$LAB_TCPHOLD_PORT" \
		--timeout 10 --mark "$WORK/tcphold.mark" >"$WORK/tcphold.json" 2>&1 &
	cp=$!
	BG_PIDS+=("$cp")
	wait_file "$WORK/tcphold.mark" 50 || { echo "tcphold never got data: $(cat "$WORK/tcphold.json")"; return 1; }
	fl=$("${B[@]}" flows | grep " $LAB_TCPHOLD_IP:$LAB_TCPHOLD_PORT ")
	echo "= flow: $fl"
	grep -q "via uplink 0 " <<<"$fl" || { echo "the connection is not on fiber (uplink 0)"; return 1; }
	rr0=$(reason tx_rst_uplink_down) || return 1
	t0=$(date +%s.%N)
	"${B[@]}" uplink down fiber || { echo "uplink down fiber failed"; return 1; }
	for i in $(seq 30); do
		kill -0 "$cp" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$cp" 2>/dev/null; then
		echo "the client is still connected 3 s after 'uplink down fiber'"
		echo "tx_rst_uplink_down: $rr0 -> $(reason tx_rst_uplink_down)"
		# Tell a RST never sent from one that waits on the LAN host's veth.
		"${LAN[@]}" ping -n -c 1 -W 1 "${LAB_TARGETS[0]}" >/dev/null 2>&1
		sleep 0.3
		if ! kill -0 "$cp" 2>/dev/null; then
			echo "after one ping from the LAN host it reported: $(cat "$WORK/tcphold.json")"
			echo "(the RST was queued towards the LAN host and only delivered with later traffic)"
		fi
		kill "$cp" 2>/dev/null
		return 1
	fi
	wait "$cp"
	js=$(cat "$WORK/tcphold.json")
	res=$(jf "$js" 'j["result"]') || { echo "tcphold said: $js"; return 1; }
	dt=$(jf "$js" "round(j['t_end'] - $t0, 3)")
	rr1=$(reason tx_rst_uplink_down) || return 1
	echo "= client: $res ${dt} s after 'uplink down fiber'; tx_rst_uplink_down +$((rr1 - rr0))"
	[[ "$res" == reset ]] || return 1
	jf "$js" "j['t_end'] - $t0 < 1.0" | grep -qx True || return 1
	((rr1 - rr0 >= 1))
}

t_unsolicited() {
	local port sp d0 d1 js fwd
	restore_uplinks || return 1
	fwd=$("${EDGE[@]}" sysctl -n net.ipv4.ip_forward)
	ip -n "${PREFIX}fiber" route replace 10.77.0.0/24 via "${LAB_ISP_EDGE_IP[fiber]}" || return 1
	port=$((40000 + RANDOM % 20000))
	d0=$(reason drop_wan_unsolicited) || return 1
	rm -f "$WORK/sink.ready"
	"${LAN[@]}" "$PY" "$TOOLS/udpsink.py" listen "$port" --duration 2 \
		--ready "$WORK/sink.ready" >"$WORK/sink.json" 2>&1 &
	sp=$!
	BG_PIDS+=("$sp")
	wait_file "$WORK/sink.ready" 30 || { echo "the LAN listener did not start"; return 1; }
	if ! "${FIBER[@]}" "$PY" "$TOOLS/udpsink.py" send 10.77.0.10 "$port" \
		--count 20 --interval-ms 2 >/dev/null ||
		! "${FIBER[@]}" "$PY" "$TOOLS/udpsink.py" send "${LAB_ISP_EDGE_IP[fiber]}" "$port" \
			--count 20 --interval-ms 2 >/dev/null; then
		echo "sending from fiber failed"
		return 1
	fi
	wait "$sp"
	js=$(cat "$WORK/sink.json")
	d1=$(reason drop_wan_unsolicited) || return 1
	ip -n "${PREFIX}fiber" route del 10.77.0.0/24 2>/dev/null
	echo "= 20 to 10.77.0.10:$port + 20 to 192.0.2.2:$port from fiber (edge ip_forward=$fwd):" \
		"LAN listener got $(jf "$js" 'j["received"]'); drop_wan_unsolicited +$((d1 - d0))"
	[[ "$(jf "$js" 'j["received"]')" == 0 ]] || { echo "the LAN host received: $js"; return 1; }
	((d1 - d0 >= 20))
}

t_no_lan_source() {
	local isp n bad=0
	for isp in "${LAB_ISPS[@]}"; do
		n=$(nft_count "$isp" lan_src) || return 1
		echo "= $isp saw $n packet(s) from 10.77.0.0/24"
		((n == 0)) || bad=1
	done
	((bad == 0))
}

# A daemon killed outright leaves the data plane forwarding (pinned links and
# maps); the next one adopts it, bindings included: the stream's flow is
# created once (new_flows grows by exactly one) and never re-created.
t_kill_restart() {
	local js nf_before nf_after lost
	nf_before=$(sj 'sum(x["new_flows"] for x in d["uplinks"])') || return 1
	"${LAN[@]}" "$PY" "$TOOLS/udpstream.py" "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT" \
		--duration 3 --interval-ms 1 >"$WORK/kill.json" &
	local spid=$!
	sleep 0.7
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	sleep 0.5
	t_daemon_ready || { wait "$spid"; return 1; }
	wait "$spid" || { echo "udpstream failed"; return 1; }
	js=$(cat "$WORK/kill.json")
	lost=$(jf "$js" 'j["sent"] - j["received"]')
	nf_after=$(sj 'sum(x["new_flows"] for x in d["uplinks"])') || return 1
	echo "= stream across SIGKILL + restart: $(jf "$js" 'j["received"]') of $(jf "$js" 'j["sent"]') echoed, longest gap $(jf "$js" 'j["longest_gap_ms"]') ms; bindings created $nf_before -> $nf_after"
	grep -q "adopted running link" "$WORK/daemon.log" || { echo "the new daemon did not adopt the links"; return 1; }
	((lost == 0 && nf_after == nf_before + 1))
}

t_sigterm() {
	local i rc left dev x
	if [[ -z "$DAEMON_PID" ]] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		echo "the daemon is not running"
		return 1
	fi
	kill -TERM "$DAEMON_PID"
	for i in $(seq 100); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		echo "the daemon is still running 10 s after SIGTERM"
		return 1
	fi
	wait "$DAEMON_PID"
	rc=$?
	DAEMON_PID=
	echo "= daemon exited with status $rc within $((i * 100)) ms of SIGTERM"
	left=$(find "$PIN" -mindepth 1 2>/dev/null)
	[[ -z "$left" ]] || { echo "pins left behind:"; echo "$left"; return 1; }
	for dev in lan0 wan0 wan1 wan2; do
		x=$("${EDGE[@]}" ip -d link show "$dev" | grep -E 'prog/xdp|[[:space:]]xdp(generic|drv|offload)?[[:space:]]')
		[[ -z "$x" ]] || { echo "$dev still has XDP: $x"; return 1; }
	done
	((rc == 0)) || { echo "exit status $rc"; return 1; }
}

t_cleanup() {
	cleanup
	local n
	n=$(ip netns list | awk -v p="$PREFIX" 'index($1, p) == 1' | wc -l)
	echo "= namespaces left with prefix $PREFIX: $n"
	((n == 0)) || return 1
	! mountpoint -q "$BPFFS" 2>/dev/null || { echo "$BPFFS still mounted"; return 1; }
	[[ ! -e "$WORK" ]] || { echo "$WORK still exists"; return 1; }
}

# ------------------------------------------------------------- the run

echo "# Bascule integration test: site ${PREFIX}*, work dir $WORK"
check "prerequisites: root, $BASCULE, traffic tools" t_prereq || bail_out "prerequisites missing"
check "lab site ${PREFIX}* is up with its inet services" t_lab_up || bail_out "no lab site"
check "nftables counters installed in the ISP namespaces" t_isp_counters
check "daemon attaches and prints READY" t_daemon_ready || bail_out "no daemon"
check "status: 3 uplinks up, fiber active" t_status_initial

check "TCP: 8 MiB download from the LAN host, sha256 matches" t_tcp_download
check "XDP forwarded the download (fwd_uplink_to_lan > 5000)" t_xdp_download
check "UDP: dig @$LAB_DNS_IP bascule.test answers $LAB_HTTP_IP" dns_query
check "UDP: 1 s stream to $LAB_UDPECHO_IP:$LAB_UDPECHO_PORT, >= 99 % echoed" t_udp_stream
check "XDP forwarded every datagram and echo of the stream" t_xdp_udp
check "ICMP: ping -c 3 ${LAB_TARGETS[0]} gets 3 replies" t_ping

check "edge kernel forwarding turned off" t_forwarding 0
check "forwarding off: 8 MiB download, sha256 matches" t_tcp_download
check "forwarding off: XDP forwarded the download (> 5000)" t_xdp_download
check "forwarding off: dig answers $LAB_HTTP_IP" dns_query
check "forwarding off: ping gets 3 replies" t_ping
check "edge kernel forwarding turned back on" t_forwarding 1

check "ISPs: only fibre carried the traffic so far, from 192.0.2.2" t_isp_saw_fiber_only
check "uplink activate cell: a new flow leaves through cell, none through fibre" t_new_flow_via_cell
check "uplink auto: fiber active again" t_auto_back_to_fiber

check "UDP flow in progress moves fiber -> cell on 'uplink down fiber' (same port, < 2 % lost, gap < 500 ms, flow_rebound)" t_udp_flip
check "TCP on an uplink taken down is reset at once (< 1 s, tx_rst_uplink_down)" t_tcp_reset
check "WAN -> LAN unsolicited UDP never reaches the LAN (drop_wan_unsolicited)" t_unsolicited
check "ISPs never saw a 10.77.0.0/24 source address" t_no_lan_source
check "back to the known state: all up, fiber active" restore_uplinks

check "SIGKILL of the daemon during a 1 ms stream: 0 lost; a new daemon adopts the data plane and its flows" t_kill_restart
check "SIGTERM: daemon exits, pins removed, no XDP left on the edge" t_sigterm
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup

summary
((FAILED == 0))
