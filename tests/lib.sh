# shellcheck shell=bash
# tests/lib.sh - the harness shared by Bascule's lab scripts. Sourced, not
# run: by tests/integration.sh, failover.sh, ops.sh and probe_lab.sh (all of
# it), and by scripts/demo.sh and bench-failover.sh (the site plumbing).
#
#  - setup: ROOT, scripts/lab.sh (lab_*, nsx, LAB_*), BASCULE, PY, TOOLS;
#  - a lab site of the script's own: site_init NAME (work dir and its
#    paths), site_up, lab_conf (scripts/lab.conf with this run's pin root and
#    control socket), start_daemon / stop_daemon / stop_pid, and cleanup,
#    which removes all of it and may be called more than once;
#  - helpers: bsc, sj, hj, ev, ev_lines, jf, health_line, wait_until,
#    wait_file, wait_gone, wait_active, stream_start / stream_stop /
#    flow_path (a 1 ms UDP stream), tcphold_start (a long TCP connection),
#    isp_counters / isp_count;
#  - the TAP harness of a test suite: harness_init NAME, check, bail_out,
#    summary ("NAME: X passed, Y failed"), a "not ok" line, cleanup and the
#    summary on Ctrl-C or SIGTERM; and the checks every suite ends with,
#    t_prereq, edge_clean, t_cleanup.
#
# The script sets PREFIX (its namespaces, "${PREFIX}edge" ...) before it
# calls site_init or harness_init, and B (the CLI on its edge: ip netns exec
# ... bascule -p PIN [-S CTL]) after. Extra things to stop on cleanup go in
# CLEANUP_HOOKS (function names, run before the daemon is stopped), or in
# LATE_CLEANUP_HOOKS (run after it, before the work dir is removed: a file
# system the daemon writes to).

# Set here, used by the scripts that source this:
# shellcheck disable=SC2034

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lab.sh
source "$ROOT/scripts/lab.sh"

# $BUILD as make and tests/run.sh use it: relative to the tree, or absolute.
BUILD=${BUILD:-build}
BUILD_DIR=$BUILD
[[ "$BUILD" == /* ]] || BUILD_DIR=$ROOT/$BUILD
BASCULE=${BASCULE:-$BUILD_DIR/bascule}
PY=$LAB_PY
TOOLS=$LAB_TOOLS
T_START=$SECONDS

PREFIX=
WORK='' SVC='' BPFFS='' PIN='' CTL='' CONF=''
DAEMON_PID='' DAEMON_LOG='' DAEMON_RC=''
BG_PIDS=()
CLEANUP_HOOKS=()
LATE_CLEANUP_HOOKS=()
CLEANED=

# ------------------------------------------------------------- the site

# site_init NAME: the work dir /tmp/bsc-NAME.XXXXXX and the paths in it.
site_init() {
	WORK=$(mktemp -d "/tmp/bsc-$1.XXXXXX")
	SVC=$WORK/svc
	BPFFS=$WORK/bpf
	PIN=$BPFFS/bascule
	CTL=$WORK/control.sock
	CONF=$WORK/lab.conf
	DAEMON_LOG=$WORK/daemon.log
}

# site_up: the lab site ${PREFIX}* with its inet services (logs in $SVC),
# and a bpffs on $BPFFS.
site_up() {
	mkdir -p "$SVC" "$BPFFS" || return 1
	lab_up "$PREFIX" || { echo "lab_up $PREFIX failed"; return 1; }
	lab_services "$PREFIX" "$SVC" || { echo "lab_services failed"; return 1; }
	# bpffs in the root mount namespace: every `ip netns exec` sees it.
	mount -t bpf bpf "$BPFFS" || { echo "cannot mount bpffs on $BPFFS"; return 1; }
}

# lab_conf [SED-EXPRESSION...]: $CONF from scripts/lab.conf, pinning under
# $PIN, listening on $CTL, keeping its history in $WORK/history.db, edited
# further by the expressions.
# shellcheck disable=SC2120 # the arguments are optional
lab_conf() {
	local args=(-e "s#/sys/fs/bpf/bascule#$PIN#" -e "s#/run/bascule/control.sock#$CTL#"
		-e "s#^history = /var/lib/bascule/history.db#history = $WORK/history.db#") x
	for x in "$@"; do
		args+=(-e "$x")
	done
	sed "${args[@]}" "$ROOT/scripts/lab.conf" >"$CONF" || return 1
	grep -q "^pin_root = $PIN\$" "$CONF" || { echo "pin_root not rewritten"; return 1; }
	grep -q "^control_socket = $CTL\$" "$CONF" || { echo "control_socket not rewritten"; return 1; }
	grep -q "^history = $WORK/history.db\$" "$CONF" || { echo "history not rewritten"; return 1; }
}

# tell_echo_up PORT: a `udpecho.py --tell` on the lab's echo address in
# inet (it tells each flow the address and port it saw: the NAT's), stopped
# with the other background processes; true once it listens.
tell_echo_up() {
	ip netns exec "${PREFIX}inet" setsid "$PY" "$TOOLS/udpecho.py" "$LAB_UDPECHO_IP" "$1" --tell \
		</dev/null >"$SVC/tell.log" 2>&1 &
	BG_PIDS+=($!)
	wait_for 30 tell_echo_listening "$1"
}
tell_echo_listening() { nsx inet ss -lun | grep -q "$LAB_UDPECHO_IP:$1 "; }

daemon_alive() {
	[[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null
}

RUN_ARGS=() # more arguments of `bascule run` for start_daemon (--keep)

# start_daemon [LOG [WRAPPER...]]: run the controller on the edge with
# $CONF, its output in $WORK/LOG (daemon.log), under WRAPPER (a command that
# ends by running its arguments); wait up to 10 s for READY on its stdout.
# shellcheck disable=SC2120 # the arguments are optional
start_daemon() {
	local i name=${1:-}
	(($#)) && shift
	DAEMON_LOG=$WORK/${name:-daemon.log}
	# (not nsx: $! must be the daemon itself)
	ip netns exec "${PREFIX}edge" "$@" "$BASCULE" run -c "$CONF" "${RUN_ARGS[@]}" >"$DAEMON_LOG" 2>&1 </dev/null &
	DAEMON_PID=$!
	for i in $(seq 100); do
		grep -qx READY "$DAEMON_LOG" && break
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "the daemon exited before READY:"
			tail -n 15 "$DAEMON_LOG"
			DAEMON_PID=
			return 1
		fi
		sleep 0.1
	done
	grep -qx READY "$DAEMON_LOG" || { echo "no READY within 10 s"; return 1; }
	echo "= READY within $((i * 100)) ms${name:+ ($name)}"
}

# stop_daemon SIGNAL: send it to the daemon, wait up to 10 s for its exit.
# Sets DAEMON_RC.
stop_daemon() {
	daemon_alive || { echo "the daemon is not running"; return 1; }
	kill -"$1" "$DAEMON_PID"
	wait_gone "$DAEMON_PID" 100 || { echo "the daemon is still running 10 s after SIG$1"; return 1; }
	wait "$DAEMON_PID"
	DAEMON_RC=$?
	DAEMON_PID=
	echo "= daemon exited with status $DAEMON_RC within $WAITED_MS ms of SIG$1"
}

# wait_gone PID TENTHS: until PID has exited, TENTHS x 0.1 s at most; false
# if it still runs. Sets WAITED_MS.
WAITED_MS=
wait_gone() {
	local i
	for i in $(seq "$2"); do
		kill -0 "$1" 2>/dev/null || { WAITED_MS=$((i * 100)); return 0; }
		sleep 0.1
	done
	WAITED_MS=$(($2 * 100))
	! kill -0 "$1" 2>/dev/null
}

# stop_pid PID [TENTHS]: SIGTERM, wait (5 s), then SIGKILL.
stop_pid() {
	[[ -n "$1" ]] || return 0
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null
		wait_gone "$1" "${2:-50}" || kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

# Remove everything this run created: background tools, CLEANUP_HOOKS, the
# daemon, the site and all that still runs in it, the bpffs, the work dir.
# Idempotent: a suite runs it once itself (so that its last check can verify
# it) and again from the EXIT trap. SIGINT and SIGTERM are ignored meanwhile,
# and their traps are as they were afterwards (so still ignored when it was
# called from a signal's handler).
cleanup() {
	[[ -n "$CLEANED" ]] && return 0
	local traps p h
	traps=$(trap -p INT TERM)
	# Not to be cut short: children inherit the ignored signals too.
	trap '' INT TERM
	for p in "${BG_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for h in "${CLEANUP_HOOKS[@]}"; do
		"$h"
	done
	stop_pid "$DAEMON_PID"
	for h in "${LATE_CLEANUP_HOOKS[@]}"; do
		"$h"
	done
	# Also kills whatever still runs in the site's namespaces (services).
	[[ -n "$PREFIX" ]] && lab_down "$PREFIX" >/dev/null 2>&1
	if [[ -n "$WORK" ]]; then
		if mountpoint -q "$BPFFS" 2>/dev/null; then
			umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null
		fi
		rm -rf "$WORK"
	fi
	CLEANED=1
	trap - INT TERM
	eval "$traps"
}

# ------------------------------------------------------------- helpers

now() { date +%s.%N; }

# bsc ARGS...: the CLI on the edge ($B), 5 s at most.
bsc() { timeout 5 "${B[@]}" "$@"; }

# jf JSON EXPR: a Python expression over one JSON document j.
jf() {
	"$PY" -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# sj EXPR: a Python expression over `bascule status --json`, with d = the
# document, u = uplinks by name, r = the reason counters. hj EXPR: the same
# over `bascule health --json` (d, u).
sj() { _cli_json status "$1"; }
hj() { _cli_json health "$1"; }
_cli_json() {
	local js
	js=$(bsc "$1" --json) || return 1
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
u = {x["name"]: x for x in d["uplinks"]}
r = d.get("reasons", {})
print(eval(sys.argv[2]))' "$js" "$2"
}

# One line per uplink, "fiber:up* cell:up sat:up" (* = active).
health_line() {
	hj '" ".join("%s:%s%s" % (x["name"], x["health"], "*" if x["name"] == d["active"] else "") for x in d["uplinks"])'
}

# ev T0 EXPR [ARG...]: a Python expression over the events at or after T0
# (unix seconds), e = that list (oldest first), each {time, kind, uplink,
# old, new, reason}; up = the uplink transitions, act = the flips of the
# active uplink, cfg = the configuration events. The ARGs are sys.argv[4:].
ev() {
	local js
	js=$(bsc events --json) || return 1
	"$PY" -c '
import json, sys
t0 = float(sys.argv[2])
e = [x for x in json.loads(sys.argv[1]) if x["time"] >= t0]
up = [x for x in e if x["kind"] == "uplink"]
act = [x for x in e if x["kind"] == "active"]
cfg = [x for x in e if x["kind"] == "config"]
print(eval(sys.argv[3]))' "$js" "$@"
}

# Events since T0, one "= event ..." line each, for a check's output.
ev_lines() {
	ev "$1" '"\n".join("= event +%.3f s: %s %s %s -> %s (%s)" % (x["time"] - t0, x["kind"], x["uplink"], x["old"], x["new"], x["reason"]) for x in e) or "= no event"'
}

# wait_for TENTHS CMD...: until CMD succeeds, TENTHS x 0.1 s at most.
wait_for() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# wait_until TENTHS FUNC EXPR: poll `FUNC EXPR` (sj, hj) until it prints
# True, TENTHS x 0.1 s at most. Sets WAITED (seconds, one decimal).
WAITED=
wait_until() {
	local t0 end
	t0=$(date +%s%N)
	end=$((t0 + $1 * 100000000))
	while :; do
		if [[ "$("$2" "$3" 2>/dev/null)" == True ]]; then
			WAITED=$(awk -v d="$(($(date +%s%N) - t0))" 'BEGIN { printf "%.1f", d / 1e9 }')
			return 0
		fi
		(($(date +%s%N) < end)) || break
		sleep 0.1
	done
	WAITED=
	return 1
}

# wait_file FILE TENTHS: until FILE exists, TENTHS x 0.1 s at most.
wait_file() {
	local i
	for i in $(seq "$2"); do
		[[ -e "$1" ]] && return 0
		sleep 0.1
	done
	[[ -e "$1" ]]
}

# wait_active NAME TENTHS: until NAME is the active uplink; 50 ms polls.
wait_active() {
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		bsc health --json 2>/dev/null | grep -q "\"active\":\"$1\"" && return 0
		sleep 0.05
	done
	return 1
}

# stream_start NAME [SECONDS]: a 1 ms UDP stream from the LAN host to the
# echo server until $WORK/NAME.stop exists, SECONDS (60) at most; its
# report goes to $WORK/NAME.json. Sets SP (its pid) and N0 (the echo
# server's log length before it).
SP='' N0=''
stream_start() {
	rm -f "$WORK/$1.stop"
	N0=$(wc -l <"$SVC/udpecho.seq")
	ip netns exec "${PREFIX}lan" "$PY" "$TOOLS/udpstream.py" "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT" \
		--interval-ms 1 --duration "${2:-60}" --until-file "$WORK/$1.stop" >"$WORK/$1.json" 2>&1 &
	SP=$!
	BG_PIDS+=("$SP")
}

# stream_flowing [N]: wait (10 s at most) until the echo server has logged
# N (200) more datagrams than when called: the stream is going, and through
# whatever path it has now. Not a timer: on a loaded machine it waits longer.
# shellcheck disable=SC2120 # the suites pass N
stream_flowing() {
	local n=${1:-200} n0 i
	n0=$(wc -l <"$SVC/udpecho.seq")
	for ((i = 0; i < 100; i++)); do
		(($(wc -l <"$SVC/udpecho.seq") - n0 >= n)) && return 0
		sleep 0.1
	done
	echo "the stream is not flowing: $(($(wc -l <"$SVC/udpecho.seq") - n0)) echoes in 10 s, not $n"
	return 1
}

# stream_go NAME [SECONDS]: stream_start, and wait until it flows; if it
# does not, it is stopped.
stream_go() {
	stream_start "$@"
	stream_flowing || { stream_stop "$1"; return 1; }
}

# stream_stop NAME: stop it, wait for its report, keep what the echo server
# saw of it in $WORK/NAME.seq. Prints the report's summary.
stream_stop() {
	local rc got i
	touch "$WORK/$1.stop"
	wait "$SP"
	rc=$?
	[[ $rc -eq 0 ]] || { echo "udpstream failed ($rc): $(cat "$WORK/$1.json")"; return 1; }
	# The echo server logs each datagram after echoing it: wait (3 s at
	# most) until it has logged at least the echoes the stream received.
	got=$(jf "$(cat "$WORK/$1.json")" 'j["received"]') || return 1
	for ((i = 0; i < 30; i++)); do
		(($(wc -l <"$SVC/udpecho.seq") - N0 >= got)) && break
		sleep 0.1
	done
	tail -n +"$((N0 + 1))" "$SVC/udpecho.seq" >"$WORK/$1.seq"
	echo "= stream: $(jf "$(cat "$WORK/$1.json")" '"sent %(sent)d, echoed %(received)d, lost %(lost)d, longest gap %(longest_gap_ms).1f ms" % j')"
}

# flow_path NAME IP...: the echo server ($WORK/NAME.seq) saw the stream as
# one flow (one source port) coming from these addresses in this order,
# never back.  The order is the stream's (its sequence numbers), not the
# arrivals': after a move to a faster path, the datagrams sent on it first
# overtake the last ones on the slower path.
flow_path() {
	local name=$1
	shift
	"$PY" - "$WORK/$name.seq" "$@" <<-'EOF'
		import sys
		rows = []
		for line in open(sys.argv[1]):
		    seq, src = line.split()
		    if seq != "-":
		        rows.append((int(seq), src))
		rows.sort()
		groups = []
		for seq, src in rows:
		    if groups and groups[-1][0] == src:
		        groups[-1][1] += 1
		    else:
		        groups.append([src, 1])
		print("= echo server saw: " + (" then ".join("%s x%d" % tuple(g) for g in groups) or "nothing"))
		ports = {src.rsplit(":", 1)[1] for _, src in rows}
		ips = [g[0].rsplit(":", 1)[0] for g in groups]
		want = sys.argv[2:]
		if len(ports) != 1:
		    print("not one flow: source ports %s" % sorted(ports))
		    sys.exit(1)
		if ips != want:
		    print("expected the flow to come from %s, in that order" % " then ".join(want))
		    sys.exit(1)
		# in order of sequence numbers too: nothing went back to the old path
		for a, b in zip(want, want[1:]):
		    sa = [s for s, src in rows if src.startswith(a + ":")]
		    sb = [s for s, src in rows if src.startswith(b + ":")]
		    if max(sa) >= min(sb):
		        print("datagrams from %s after the move to %s" % (a, b))
		        sys.exit(1)
	EOF
}

# gap_under NAME MS: the stream's longest gap is under MS.
gap_under() {
	[[ "$(jf "$(cat "$WORK/$1.json")" "j['longest_gap_ms'] < $2")" == True ]] ||
		{ echo "longest gap $(jf "$(cat "$WORK/$1.json")" 'j["longest_gap_ms"]') ms, not under $2 ms"; return 1; }
}

# tcphold_start TIMEOUT: a long TCP connection from the LAN host to the
# tcphold server, receiving data, TIMEOUT seconds at most; its report goes to
# $WORK/tcphold.json. Sets CP (its pid); false if no data came within 5 s.
CP=
tcphold_start() {
	rm -f "$WORK/tcphold.mark"
	ip netns exec "${PREFIX}lan" "$PY" "$TOOLS/tcphold.py" client "$LAB_TCPHOLD_IP" "$LAB_TCPHOLD_PORT" \
		--timeout "$1" --mark "$WORK/tcphold.mark" >"$WORK/tcphold.json" 2>&1 &
	CP=$!
	BG_PIDS+=("$CP")
	wait_file "$WORK/tcphold.mark" 50
}

# isp_counters: in each ISP, nftables counters (table inet bsccount) of what
# it forwards from the edge's address on it (edge_src), and of anything that
# arrives with a LAN source address (lan_src), which NAT must never let out.
isp_counters() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		nsx "$isp" nft -f - <<-EOF || { echo "nft in $isp failed"; return 1; }
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
	done
}

# isp_count ISP COUNTER: its packets so far.
isp_count() {
	nsx "$1" nft -j list counter inet bsccount "$2" | "$PY" -c '
import json, sys
print([o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o][0])'
}

# ------------------------------------------------------------- TAP harness

SUITE=
CHECK_OUT=
N=0
PLAN=0
PASSED=0
FAILED=0
IN_CHECK=
# What a failed check shows: the last CHECK_TAIL lines of its output, the
# last DIAG_LOG_LINES of the daemon's log, with DIAG_HEALTH=1 the daemon's
# health and last events (when $B reaches its control socket), its status.
CHECK_TAIL=30
DIAG_LOG_LINES=8
DIAG_HEALTH=1

# harness_init NAME: site_init NAME, and the traps: cleanup on exit; on
# Ctrl-C or SIGTERM a "not ok" line, cleanup, the summary, exit 130 / 143.
#
# The plan: every check of a suite is one top-level `check "..."` line of
# its script, so their count is printed first as the TAP plan ("1..N"); a
# suite that bails out, or dies, shows the checks it did not run (and
# tests/run.sh counts them as failures).
harness_init() {
	SUITE=$1
	PLAN=$(grep -c '^check ' "$(readlink -f "$0")")
	echo "1..$PLAN"
	site_init "$1"
	CHECK_OUT=$(mktemp "/tmp/bsc-$1-out.XXXXXX")
	exec 3>&1 4>&2
	trap on_exit EXIT
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
}

summary() {
	echo "# took $((SECONDS - T_START)) s"
	if ((N < PLAN)); then
		echo "$SUITE: $PASSED passed, $FAILED failed, $((PLAN - N)) not run"
	else
		echo "$SUITE: $PASSED passed, $FAILED failed"
	fi
}

on_exit() {
	cleanup
	rm -f "$CHECK_OUT"
}

on_signal() {
	trap '' INT TERM
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

# On a failure: the daemon's last words, its view of the uplinks and the
# recent events, the data plane's state.
diagnostics() {
	if [[ -s "$DAEMON_LOG" ]]; then
		echo "# daemon log $(basename "$DAEMON_LOG") (tail):"
		tail -n "$DIAG_LOG_LINES" "$DAEMON_LOG" | sed 's/^/#   /'
	fi
	if ((DIAG_HEALTH)) && daemon_alive; then
		echo "# health:"
		bsc health 2>&1 | sed 's/^/#   /'
		echo "# events (last 8):"
		bsc events 2>&1 | tail -n 8 | sed 's/^/#   /'
	fi
	if [[ -e "$PIN/config" ]]; then
		echo "# status:"
		bsc status 2>&1 | sed 's/^/#   /'
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
		sed 's/^= //; s/^/#   /' "$CHECK_OUT" | tail -n "$CHECK_TAIL"
		diagnostics
		return 1
	fi
}

# setup DESC CMD...: a step the checks stand on (the prerequisites, the lab,
# a sysctl), not a check of Bascule: not counted, not in the plan. If it
# fails, its output is shown and the suite bails out; the checks it leaves
# unrun count as failures (run.sh holds each suite to its plan).
setup() {
	local desc=$1
	shift
	if "$@" >"$CHECK_OUT" 2>&1; then
		echo "# setup: $desc"
		sed -n 's/^= /#   /p' "$CHECK_OUT"
	else
		echo "# setup failed: $desc"
		sed 's/^= //; s/^/#   /' "$CHECK_OUT" | tail -n "$CHECK_TAIL"
		bail_out "setup failed: $desc"
	fi
}

# A check that cannot go on without its predecessor: stop here.
bail_out() {
	echo "# Bail out! $*"
	cleanup
	summary
	exit 1
}

# ------------------------------------------------------------- shared checks

# t_prereq TOOL...: root, the binary, the tools (and Python).
t_prereq() {
	[[ $EUID -eq 0 ]] || { echo "must run as root"; return 1; }
	[[ -x "$BASCULE" ]] || { echo "$BASCULE is missing: run make first"; return 1; }
	local t
	for t in "$@" "$PY"; do
		command -v "$t" >/dev/null || { echo "$t is missing (make deps)"; return 1; }
	done
}

# edge_clean: the daemon left nothing on the edge: no pin, no XDP, no policy
# rule of its own (priorities 1000-1002, lookups in tables 100-107), its
# tables 100-102 empty.
edge_clean() {
	local left dev x t
	left=$(find "$PIN" -mindepth 1 2>/dev/null)
	[[ -z "$left" ]] || { echo "pins left behind:"; echo "$left"; return 1; }
	for dev in lan0 wan0 wan1 wan2; do
		x=$(nsx edge ip -d link show "$dev" | grep -E 'prog/xdp|[[:space:]]xdp(generic|drv|offload)?[[:space:]]')
		[[ -z "$x" ]] || { echo "$dev still has XDP: $x"; return 1; }
	done
	x=$(nsx edge ip rule show | grep -E '^100[0-2]:|lookup 10[0-7]\b')
	[[ -z "$x" ]] || { echo "rules left in the edge:"; echo "$x"; return 1; }
	for t in 100 101 102; do
		x=$(nsx edge ip route show table "$t" 2>&1)
		[[ -z "$x" ]] || { echo "table $t is not empty:"; echo "$x"; return 1; }
	done
}

# t_cleanup: cleanup, then nothing of this run is left: no namespace, no
# bpffs, no work dir, no process.
t_cleanup() {
	local n p procs
	cleanup
	n=$(ip netns list | awk -v p="$PREFIX" 'index($1, p) == 1' | wc -l)
	echo "= namespaces left with prefix $PREFIX: $n"
	((n == 0)) || return 1
	! mountpoint -q "$BPFFS" 2>/dev/null || { echo "$BPFFS still mounted"; return 1; }
	[[ ! -e "$WORK" ]] || { echo "$WORK still exists"; return 1; }
	for p in "${BG_PIDS[@]}" $DAEMON_PID; do
		kill -0 "$p" 2>/dev/null && { echo "process $p still runs"; return 1; }
	done
	# Nothing of ours anywhere: its command line would name the work dir.
	procs=$(pgrep -af -- "$WORK")
	[[ -z "$procs" ]] || { echo "processes left:"; echo "$procs"; return 1; }
	return 0
}
