#!/bin/bash
# scripts/bench-failover.sh - how long the users' traffic stops when the
# fibre dies, measured in the lab (`make bench-failover`).
#
# On a lab site of its own (prefix bsc-bench-<pid>-, removed on exit, also
# on failure or Ctrl-C), with the daemon on scripts/lab.conf (probes as they
# are; only the pin root and the control socket are moved), it:
#
#  1. cuts the fibre BENCH_CUTS times (default 10) by carrier loss, then as
#     many times by a silent blackhole (the link stays up, the ISP drops
#     everything), each during its own 1 ms UDP stream from the LAN host to
#     the echo server: the cut-over is the stream's longest gap without an
#     echo (udpstream.py), i.e. the outage a user sees;
#  2. after each cut restores the fibre and waits for the failback (fibre
#     up after probing, then failback_hold_ms), with a fresh stream running
#     across it: existing flows stay on 5G when new flows go back to fibre,
#     so this gap says whether the failback disturbs the traffic in flight;
#  3. puts 10 % random loss on the fibre for BENCH_LOSS_S seconds (default
#     60) and counts the flips of the active uplink (false failovers).
#
# Flap damping (user/health.c: +1000 per fall, halved every 60 s, held down
# above 2500, not configurable) would hold the fibre down from the third cut
# on, since cuts come every few seconds here. The bench restarts the daemon
# (SIGTERM, then run again) whenever the fibre's penalty would reach that on
# the next cut, and says so; every cut thus meets an undamped fibre.
#
# Progress goes to stdout; the last four lines are:
#   RESULT cutover_carrier_ms median=<x> p95=<x> max=<x> n=<n>
#   RESULT cutover_silent_ms median=<x> p95=<x> max=<x> n=<n>
#   RESULT failback_gap_ms median=<x> max=<x> n=<n>
#   RESULT false_failovers_at_10pct_loss=<count> over_s=<seconds>
# Exit status 0 when every measurement was made, 1 otherwise.
#
# Opt-in: LAB_LINKEMU=1 builds the site with each ISP behind the link
# emulator (scripts/lab.sh: fiber, cell and sat profiles), makes the silent
# cuts with `linkemu_outage PREFIX fiber on|off` (tests/linkemu_test.sh)
# instead of the nftables blackhole, and ends every RESULT line with
# " profile=fiber" (the primary's profile). Without it nothing differs.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../tests/lib.sh"

LINKEMU_ON=
if [[ "${LAB_LINKEMU:-}" == 1 ]]; then
	LINKEMU_ON=1
	# lab_up (a child bash) must see it too.
	export LAB_LINKEMU
	# shellcheck source=tests/linkemu_test.sh
	source "$ROOT/tests/linkemu_test.sh"
fi

CUTS=${BENCH_CUTS:-10}
LOSS_S=${BENCH_LOSS_S:-60}
PREFIX=bsc-bench-$$-
RESTARTS=0
ERRORS=0

EDGE=(ip netns exec "${PREFIX}edge")

die() {
	echo "bench-failover: $*" >&2
	exit 1
}

[[ "$CUTS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CUTS must be a positive number, not '$CUTS'"
[[ "$LOSS_S" =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOSS_S must be a positive number of seconds, not '$LOSS_S'"
[[ $EUID -eq 0 ]] || die "run me as root (network namespaces, BPF)"
[[ -x "$BASCULE" ]] || die "$BASCULE is missing: run make first"

# cleanup (tests/lib.sh): the daemon, the streams, the site, the work dir.
trap cleanup EXIT
trap 'echo; echo "bench-failover: interrupted" >&2; exit 130' INT
trap 'echo "bench-failover: terminated" >&2; exit 143' TERM

# Seconds since T, with 3 decimals.
since() { "$PY" -c 'import sys, time; print("%.3f" % (time.time() - float(sys.argv[1])))' "$1"; }

health() { bsc health --json 2>/dev/null; }

all_up() {
	[[ "$(hj 'd["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])' 2>/dev/null)" == True ]]
}

# daemon_up: start the daemon (its log appended to $WORK/daemon.log), wait
# for all uplinks up with fibre active, or die.
daemon_up() {
	local i
	"${EDGE[@]}" "$BASCULE" run -c "$CONF" >>"$WORK/daemon.log" 2>&1 </dev/null &
	DAEMON_PID=$!
	for i in $(seq 100); do
		[[ -S "$CTL" ]] && health | grep -q '"active"' && break
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	for i in $(seq 100); do
		all_up && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 15 "$WORK/daemon.log" >&2
	die "the daemon did not start, or not all uplinks came up with fibre active"
}

# Back to all faults lifted, all up, fibre active; a fresh daemon when the
# fibre's damping penalty would hold it down after one more cut (unless
# called with "nocut": then only when it is not back to that state).
known_state() {
	local isp i pen limit=1200
	[[ "${1:-}" == nocut ]] && limit=2500
	for isp in "${LAB_ISPS[@]}"; do
		lab_fault "$PREFIX" restore "$isp" >/dev/null 2>&1
	done
	[[ -n "$LINKEMU_ON" ]] && linkemu_outage "$PREFIX" fiber off >/dev/null 2>&1
	for i in $(seq 300); do
		all_up && break
		sleep 0.1
	done
	pen=$(hj 'int(u["fiber"]["penalty"])' 2>/dev/null)
	if ! all_up || ((${pen:-0} > limit)); then
		if all_up; then
			echo "  (restarting the daemon: the fibre's damping penalty is $pen, one more cut would reach 2500)"
		else
			echo "  (restarting the daemon: not back to all up with fibre active: $(hj 'd' 2>/dev/null))"
		fi
		stop_pid "$DAEMON_PID"
		DAEMON_PID=
		daemon_up
		RESTARTS=$((RESTARTS + 1))
	fi
}

# stream_end NAME: stop a stream_start NAME 120 and wait for its report,
# $WORK/NAME.json (emptied if it failed). Not in a $(...): the stream is our
# child.
stream_end() {
	touch "$WORK/$1.stop"
	wait "$SP" || : >"$WORK/$1.json"
}

# cut KIND I: one cut of the fibre and its failback. Appends the cut-over
# gap to $WORK/cutover_KIND and the failback gap to $WORK/failback.
cut() {
	local kind=$1 n=$2 t0 js gap moved fb fbjs fbgap tup line
	known_state
	stream_start cut 120
	sleep 0.5
	t0=$(now)
	if [[ -n "$LINKEMU_ON" && "$kind" == blackhole ]]; then
		linkemu_outage "$PREFIX" fiber on >/dev/null || die "linkemu_outage fiber on failed"
	else
		lab_fault "$PREFIX" "$kind" fiber >/dev/null || die "lab_fault $kind fiber failed"
	fi
	if ! wait_active cell 50; then
		echo "  ! $kind $n: cell not active 5 s after the cut"
		ERRORS=$((ERRORS + 1))
	fi
	sleep 0.5
	stream_end cut
	js=$(cat "$WORK/cut.json")
	if ! gap=$(jf "$js" '"%.1f" % j["longest_gap_ms"]' 2>/dev/null); then
		echo "  ! $kind $n: the stream failed: $js"
		ERRORS=$((ERRORS + 1))
		return
	fi
	echo "$gap" >>"$WORK/cutover_$kind"
	line=$(ev "$t0" '" ".join("%s %s->%s +%.0f ms" % (x["uplink"] if x["kind"] == "uplink" else "active", x["old"], x["new"], (x["time"] - t0) * 1000) for x in e)')

	# Failback, with a stream (on 5G) across it.
	stream_start fb 120
	sleep 0.3
	t0=$(now)
	if [[ -n "$LINKEMU_ON" && "$kind" == blackhole ]]; then
		linkemu_outage "$PREFIX" fiber off >/dev/null || die "linkemu_outage fiber off failed"
	fi
	lab_fault "$PREFIX" restore fiber >/dev/null || die "lab_fault restore fiber failed"
	# linkemu's sends towards the edge stall for good once they failed with
	# ENETDOWN (frames pending at the carrier cut): restart it, same
	# profile, now that the carrier is back (tens of ms, inside this window).
	if [[ -n "$LINKEMU_ON" && "$kind" == carrier ]]; then
		linkemu_insert "$PREFIX" fiber fiber >/dev/null || die "linkemu restart in fiber failed"
	fi
	if wait_active fiber 200; then
		fb=$(since "$t0")
	else
		fb=never
		echo "  ! $kind $n: fibre not active again 20 s after the restore"
		ERRORS=$((ERRORS + 1))
	fi
	sleep 0.5
	stream_end fb
	fbjs=$(cat "$WORK/fb.json")
	tup=$(ev "$t0" '"%.1f" % next((x["time"] - t0 for x in up if x["uplink"] == "fiber" and x["old"] == "down"), -1)')
	if fbgap=$(jf "$fbjs" '"%.1f" % j["longest_gap_ms"]' 2>/dev/null); then
		echo "$fbgap" >>"$WORK/failback"
	else
		fbgap="? (stream failed: $fbjs)"
		ERRORS=$((ERRORS + 1))
	fi
	moved=$(jf "$js" '"%(sent)d sent, %(lost)d lost" % j')
	printf '  %-9s %2d/%d: cut-over gap %7s ms (%s; %s) | fibre up %s s after the restore, active again at %s s; failback gap %s ms (%s)\n' \
		"$kind" "$n" "$CUTS" "$gap" "$moved" "$line" "$tup" "$fb" "$fbgap" \
		"$(jf "$fbjs" '"%(lost)d lost" % j' 2>/dev/null)"
}

# ----------------------------------------------------------------- setup

site_init bench
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
echo "bench-failover: site ${PREFIX}*, $CUTS cuts of each kind, ${LOSS_S} s of 10 % loss"
[[ -n "$LINKEMU_ON" ]] && echo "link emulator: fiber, cell, sat profiles; silent cuts by linkemu_outage"
site_up || die "could not build the lab site"
lab_conf || die "could not write $CONF"
grep -q '^probe' "$CONF" || die "no probes in scripts/lab.conf"
HOLD_MS=$(sed -n 's/^failback_hold_ms *= *\([0-9]*\).*/\1/p' "$CONF")
daemon_up
echo "daemon up: $(health_line); failback_hold_ms = ${HOLD_MS:-default}"
: >"$WORK/cutover_carrier"
: >"$WORK/cutover_blackhole"
: >"$WORK/failback"

# ----------------------------------------------------------------- cuts

for kind in carrier blackhole; do
	echo "$kind cuts of the fibre:"
	for ((n = 1; n <= CUTS; n++)); do
		cut "$kind" "$n"
	done
done

# ----------------------------------------------------------------- loss

# The daemon as the cuts left it (a real box has failed over before): no
# restart, no cut is coming.
known_state nocut
echo "10 % random loss on the fibre for $LOSS_S s (each way, so ~19 % of probes lost):"
lab_fault "$PREFIX" loss fiber 10 >/dev/null || die "lab_fault loss fiber 10 failed"
t0=$(now)
for ((s = 10; s <= LOSS_S; s += 10)); do
	sleep 10
	echo "  +${s} s: $(ev "$t0" '"%d flip(s), fibre %s" % (len(act), " ".join("%s->%s" % (x["old"], x["new"]) for x in up if x["uplink"] == "fiber") or "no transition")')"
done
((LOSS_S % 10)) && sleep $((LOSS_S % 10))
FALSE=$(ev "$t0" 'len(act)') || { FALSE='?'; ERRORS=$((ERRORS + 1)); }
DEG=$(ev "$t0" 'len([x for x in up if x["uplink"] == "fiber" and x["new"] == "degraded"])')
DOWN=$(ev "$t0" 'len([x for x in up if x["uplink"] == "fiber" and x["new"] == "down"])')
lab_fault "$PREFIX" restore fiber >/dev/null
echo "  fibre degraded $DEG time(s), down $DOWN time(s); the active uplink flipped $FALSE time(s)"

echo "done in $((SECONDS - T_START)) s ($RESTARTS daemon restart(s) against flap damping, $ERRORS error(s))"
"$PY" - "$WORK" "$FALSE" "$LOSS_S" ${LINKEMU_ON:+" profile=fiber"} <<'EOF'
import math, sys
work, false, loss_s = sys.argv[1:4]
sfx = sys.argv[4] if len(sys.argv) > 4 else ""

def load(name):
    with open("%s/%s" % (work, name)) as f:
        return sorted(float(l) for l in f if l.strip())

def median(v):
    n = len(v)
    return (v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2) if n else float("nan")

def p95(v):
    return v[max(0, math.ceil(0.95 * len(v)) - 1)] if v else float("nan")

c, s, f = load("cutover_carrier"), load("cutover_blackhole"), load("failback")
mx = lambda v: max(v) if v else float("nan")
print("RESULT cutover_carrier_ms median=%.1f p95=%.1f max=%.1f n=%d%s" % (median(c), p95(c), mx(c), len(c), sfx))
print("RESULT cutover_silent_ms median=%.1f p95=%.1f max=%.1f n=%d%s" % (median(s), p95(s), mx(s), len(s), sfx))
print("RESULT failback_gap_ms median=%.1f max=%.1f n=%d%s" % (median(f), mx(f), len(f), sfx))
print("RESULT false_failovers_at_10pct_loss=%s over_s=%s%s" % (false, loss_s, sfx))
EOF
((ERRORS == 0))
