#!/bin/bash
# scripts/bench-failover.sh - how long the users' traffic stops when the
# primary uplink dies, measured in the lab (`make bench-failover`), on
# emulated links (tests/linkemu/linkemu.c, wired by scripts/lab.sh).
#
# On a lab site of its own (prefix bsc-bench-<pid>-, removed on exit, also
# on failure or Ctrl-C), with the daemon on scripts/lab.conf (probes as they
# are; only the pin root and the control socket are moved), for each link
# profile P of BENCH_PROFILES (default "fiber cell sat"):
#
#  0. the primary uplink (fiber ISP, wan0) is given profile P (its emulator
#     restarted with it; cell and sat keep their own), and the health
#     settings scripts/lab.conf gives an uplink of that kind: the keys of its
#     [uplink P] section that judge a link (timeout_ms, down_after, ...;
#     none for fiber and cell, the satellite's for sat) are copied into
#     [uplink fiber]. BENCH_HEALTH=defaults keeps the primary on the
#     built-in defaults instead (RESULT lines then end with health=defaults);
#     BENCH_PRIMARY_ARGS="--burst-every 2" passes more flags to the
#     primary's emulator (RESULT lines end with primary_args=--burst-every_2:
#     e.g. bursts every 2 s instead of 15, to count rare false failovers
#     sooner);
#  1. cuts the primary BENCH_CUTS times (default 8) by carrier loss, then as
#     many times silently (`linkemu_outage`: the link stays up, everything is
#     dropped, queued frames too), each during its own 1 ms UDP stream from
#     the LAN host to the echo server: the cut-over is the stream's longest
#     gap without an echo (udpstream.py), i.e. the outage a user sees;
#  2. after each cut restores the primary and waits for the failback (up
#     after probing, then failback_hold_ms), with a fresh stream running
#     across it: existing flows stay on 5G when new flows go back, so this
#     gap says whether the failback disturbs the traffic in flight;
#  3. watches the primary, with no fault but its profile's own loss, jitter
#     and bursts, for BENCH_WATCH_S seconds (default 60; BENCH_WATCH_SAT_S,
#     default 180, on sat) under a 1 ms stream, and counts the flips of the
#     active uplink: false failovers;
#  4. on fiber only: 10 % random loss each way on top for BENCH_LOSS_S
#     seconds (default 60), and its false failovers.
#
# Flap damping (user/health/health.c: +1000 per fall, halved every 60 s, held down
# above 2500) would hold the primary down from the third cut on, since cuts
# come every few seconds here. The bench restarts the daemon (SIGTERM, then
# run again) whenever the penalty would reach that on the next cut, and says
# so; every cut thus meets an undamped uplink.
#
# Progress goes to stdout; at the end, every RESULT line again, per profile:
#   RESULT cutover_carrier_ms median=<x> p95=<x> max=<x> n=<n> profile=<P>
#   RESULT cutover_silent_ms median=<x> p95=<x> max=<x> n=<n> profile=<P>
#   RESULT failback_gap_ms median=<x> max=<x> n=<n> profile=<P>
#   RESULT false_failovers=<count> over_s=<seconds> profile=<P>
#   RESULT false_failovers_at_10pct_loss=<count> over_s=<seconds> profile=fiber
# Exit status 0 when every measurement was made, 1 otherwise. The default
# run (3 profiles, 8 + 8 cuts each, 60 + 60 + 180 s watched, 60 s of loss)
# takes about 15 minutes; a cut and its failback take about 10 s.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../tests/lib.sh"

# the emulator's helpers: linkemu_insert, linkemu_outage (in a block, as
# that file ends with a top-level return when sourced)
if [[ -r "$ROOT/tests/linkemu_test.sh" ]]; then
	# shellcheck source=tests/linkemu_test.sh
	source "$ROOT/tests/linkemu_test.sh"
fi

CUTS=${BENCH_CUTS:-8}
LOSS_S=${BENCH_LOSS_S:-60}
WATCH_S=${BENCH_WATCH_S:-60}
WATCH_SAT_S=${BENCH_WATCH_SAT_S:-180}
PROFILES=${BENCH_PROFILES:-fiber cell sat}
HEALTH=${BENCH_HEALTH:-profile}
read -r -a PRIMARY_ARGS <<<"${BENCH_PRIMARY_ARGS:-}"
# The keys of an [uplink] section that say how a link is probed and judged.
HEALTH_KEYS='interval_active_ms|interval_standby_ms|burst_interval_ms|timeout_ms|quorum|down_after|up_after|window|loss_pct|rtt_ms|jitter_ms'
PREFIX=bsc-bench-$$-
RESTARTS=0
ERRORS=0
OUTAGE= # the primary's emulator is in outage (a silent cut)
DROPPED=0 # cuts that found the primary already failed over

EDGE=(ip netns exec "${PREFIX}edge")

die() {
	echo "bench-failover: $*" >&2
	exit 1
}

[[ "$CUTS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CUTS must be a positive number, not '$CUTS'"
for v in LOSS_S WATCH_S WATCH_SAT_S; do
	[[ "${!v}" =~ ^[0-9]+$ ]] || die "BENCH_$v must be a number of seconds (0: skip), not '${!v}'"
done
for p in $PROFILES; do
	[[ "$p" =~ ^(perfect|fiber|cell|sat)$ ]] || die "BENCH_PROFILES: '$p' is not perfect, fiber, cell or sat"
done
[[ -n "${PROFILES// /}" ]] || die "BENCH_PROFILES is empty"
[[ "$HEALTH" =~ ^(profile|defaults)$ ]] || die "BENCH_HEALTH must be profile or defaults, not '$HEALTH'"
[[ "${LAB_LINKEMU:-1}" != 0 ]] || die "the failover bench runs on emulated links (BENCH_PROFILES=perfect for links without delay)"
[[ -x "$LINKEMU" ]] || die "$LINKEMU is missing: run make first"
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
	local i pen limit=1200
	[[ "${1:-}" == nocut ]] && limit=2500
	# (only the primary is ever faulted here)
	lab_fault "$PREFIX" restore fiber >/dev/null 2>&1
	if [[ -n "$OUTAGE" ]]; then
		linkemu_outage "$PREFIX" fiber off >/dev/null 2>&1
		OUTAGE=
	fi
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
# gap to $WORK/cutover_KIND and the failback gap to $WORK/failback. Times
# on its progress line count from the cut: the instant the emulator logged
# for a silent cut, just before `ip link set down` for a carrier cut.
cut() {
	local kind=$1 n=$2 t0 js gap moved fb fbjs fbgap tup line tc=$SECONDS ts tfb
	known_state
	ts=$SECONDS
	stream_start cut 120
	sleep 0.5
	if [[ "$kind" == silent ]]; then
		OUTAGE=1
		linkemu_outage "$PREFIX" fiber on >/dev/null || die "linkemu_outage fiber on failed"
		# the instant the emulator switched, from its log
		t0=$(sed -n 's/^outage on .*real=\([0-9.]*\).*/\1/p' "$(linkemu_dir "$PREFIX" fiber)/log" | tail -n 1)
	else
		# lab_fault's carrier cut, without the tenth of a second it takes
		# to start a shell: t0 is then within a millisecond of the cut.
		t0=$(now)
		ip -n "${PREFIX}fiber" link set down0 down || die "carrier cut of fiber failed"
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
	# A primary that had already failed over just before the cut (a false
	# failover on a flaky profile) measures nothing: the sample is dropped.
	if [[ "$(ev "$t0" 'any(x["old"] == "fiber" for x in act)')" != True ]]; then
		echo "  ! $kind $n: the primary was not the active uplink at the cut (it had failed over before): sample dropped"
		DROPPED=$((DROPPED + 1))
	else
		echo "$gap" >>"$WORK/cutover_$kind"
	fi
	# where the gap lay, from the cut
	gap=$(jf "$js" '"%.1f ms (+%.0f..+%.0f)" % (j["longest_gap_ms"], (j["start_unix"] + j["longest_gap_start_ms"] / 1000 - '"$t0"') * 1000, (j["start_unix"] + (j["longest_gap_start_ms"] + j["longest_gap_ms"]) / 1000 - '"$t0"') * 1000)')
	line=$(ev "$t0" '" ".join("%s %s->%s +%.0f ms" % (x["uplink"] if x["kind"] == "uplink" else "active", x["old"], x["new"], (x["time"] - t0) * 1000) for x in e)')

	# Failback, with a stream (on 5G) across it.
	tfb=$(now)
	stream_start fb 120
	sleep 0.3
	t0=$(now)
	if [[ "$kind" == silent ]]; then
		linkemu_outage "$PREFIX" fiber off >/dev/null || die "linkemu_outage fiber off failed"
		OUTAGE=
	else
		lab_fault "$PREFIX" restore fiber >/dev/null || die "lab_fault restore fiber failed"
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
	printf '  %-9s %2d/%d: cut-over gap %s (%s; %s) | fibre up %s s after the restore, active again at %s s; failback gap %s ms (%s) [%d+%d s]\n' \
		"$kind" "$n" "$CUTS" "$gap" "$moved" "$line" "$tup" "$fb" "$fbgap" \
		"$(jf "$fbjs" '"%d lost, at %+.1f s of the restore; sender paused %.0f ms at most" % (j["lost"], '"$tfb"' + j["longest_gap_start_ms"] / 1000 - '"$t0"', j["max_send_gap_ms"])' 2>/dev/null)" \
		$((ts - tc)) $((SECONDS - ts))
}

# primary_health PROFILE: the lines of scripts/lab.conf's [uplink PROFILE]
# that judge a link (HEALTH_KEYS), for the primary; none with
# BENCH_HEALTH=defaults.
primary_health() {
	[[ "$HEALTH" == defaults ]] && return 0
	awk -v sec="[uplink $1]" -v keys="^($HEALTH_KEYS) *=" '
		/^\[/ { in_sec = ($0 == sec); next }
		in_sec && $0 ~ keys { sub(/ *;.*/, ""); print }' "$ROOT/scripts/lab.conf"
}

# watch SECONDS NAME: a 1 ms stream on the primary for SECONDS, the site as
# it is (the caller gets it to the known state and sets a fault, if any);
# prints progress and sets W_FLIPS, W_DOWN, W_DEG, W_GAP.
W_FLIPS='' W_DOWN='' W_DEG='' W_GAP=''
watch() {
	local secs=$1 name=$2 t0 s step=30 js
	stream_start "$name" $((secs + 30))
	t0=$(now)
	for ((s = step; s <= secs; s += step)); do
		sleep "$step"
		echo "  +${s} s: $(ev "$t0" '"%d flip(s), primary %s" % (len(act), " ".join("%s->%s" % (x["old"], x["new"]) for x in up if x["uplink"] == "fiber") or "no transition")')"
	done
	((secs % step)) && sleep $((secs % step))
	W_FLIPS=$(ev "$t0" 'len(act)') || { W_FLIPS='?'; ERRORS=$((ERRORS + 1)); }
	W_DEG=$(ev "$t0" 'len([x for x in up if x["uplink"] == "fiber" and x["new"] == "degraded"])')
	W_DOWN=$(ev "$t0" 'len([x for x in up if x["uplink"] == "fiber" and x["new"] == "down"])')
	stream_end "$name"
	js=$(cat "$WORK/$name.json")
	W_GAP=$(jf "$js" '"%(lost)d of %(sent)d datagrams lost, longest gap %(longest_gap_ms).0f ms, median RTT %(rtt_ms_median).1f ms" % j' 2>/dev/null) ||
		W_GAP="stream failed: $js"
	ev_lines "$t0" | head -n 8 | sed 's/^= /  /'
	echo "  primary degraded $W_DEG time(s), down $W_DOWN time(s); the active uplink flipped $W_FLIPS time(s); stream: $W_GAP"
}

# ----------------------------------------------------------------- setup

site_init bench
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
echo "bench-failover: site ${PREFIX}*, profiles of the primary: $PROFILES; $CUTS cuts of each kind per profile"
site_up || die "could not build the lab site"
: >"$WORK/results"
SFX_HEALTH=
[[ "$HEALTH" == defaults ]] && SFX_HEALTH=" health=defaults"
# (spaces would split the key=value fields of the RESULT lines)
((${#PRIMARY_ARGS[@]})) && SFX_HEALTH+=" primary_args=$(IFS=_; echo "${PRIMARY_ARGS[*]}")"

for profile in $PROFILES; do
	T_PROFILE=$SECONDS
	echo
	echo "=== profile $profile on the primary (fiber ISP, wan0); cell and sat keep their own"
	if [[ -n "$DAEMON_PID" ]]; then
		stop_pid "$DAEMON_PID"
		DAEMON_PID=
	fi
	linkemu_insert "$PREFIX" fiber "$profile" "${PRIMARY_ARGS[@]}" >/dev/null ||
		die "linkemu_insert fiber $profile ${PRIMARY_ARGS[*]} failed"
	echo "primary's emulator: $(sed -n 's/^start pid=[0-9]* //p' "$(linkemu_dir "$PREFIX" fiber)/log")"
	mapfile -t HL < <(primary_health "$profile")
	conf_args=()
	for l in "${HL[@]}"; do
		conf_args+=("/^\[uplink fiber\]/a $l")
	done
	lab_conf "${conf_args[@]}" || die "could not write $CONF"
	grep -q '^probe' "$CONF" || die "no probes in scripts/lab.conf"
	"$BASCULE" check-config "$CONF" >/dev/null || die "$CONF: $("$BASCULE" check-config "$CONF" 2>&1)"
	HOLD_MS=$(sed -n 's/^failback_hold_ms *= *\([0-9]*\).*/\1/p' "$CONF")
	echo "primary's health settings: ${HL[*]:-the defaults}"
	daemon_up
	echo "daemon up: $(health_line); failback_hold_ms = ${HOLD_MS:-default}"
	: >"$WORK/cutover_carrier"
	: >"$WORK/cutover_silent"
	: >"$WORK/failback"

	for kind in carrier silent; do
		echo "$kind cuts of the primary:"
		for ((n = 1; n <= CUTS; n++)); do
			cut "$kind" "$n"
		done
	done

	w=$WATCH_S
	[[ "$profile" == sat ]] && w=$WATCH_SAT_S
	FALSE='-' FALSE_LOSS='-'
	if ((w > 0)); then
		echo "no fault for $w s, a 1 ms stream on the primary (profile $profile as it is):"
		known_state nocut
		watch "$w" calm
		FALSE=$W_FLIPS
	fi
	if [[ "$profile" == fiber ]] && ((LOSS_S > 0)); then
		echo "10 % random loss on the primary for $LOSS_S s (each way, so ~19 % of probes lost), a 1 ms stream:"
		known_state nocut
		lab_fault "$PREFIX" loss fiber 10 >/dev/null || die "lab_fault loss fiber 10 failed"
		watch "$LOSS_S" loss
		lab_fault "$PREFIX" restore fiber >/dev/null
		FALSE_LOSS=$W_FLIPS
	fi
	echo "profile $profile done in $((SECONDS - T_PROFILE)) s"
	"$PY" - "$WORK" " profile=$profile$SFX_HEALTH" "$FALSE" "$w" "$FALSE_LOSS" "$LOSS_S" <<-'EOF' | tee -a "$WORK/results"
		import math, sys
		work, sfx, false, watch_s, false_loss, loss_s = sys.argv[1:7]

		def load(name):
		    with open("%s/%s" % (work, name)) as f:
		        return sorted(float(l) for l in f if l.strip())

		def median(v):
		    n = len(v)
		    return (v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2) if n else float("nan")

		def p95(v):
		    return v[max(0, math.ceil(0.95 * len(v)) - 1)] if v else float("nan")

		c, s, f = load("cutover_carrier"), load("cutover_silent"), load("failback")
		mx = lambda v: max(v) if v else float("nan")
		print("RESULT cutover_carrier_ms median=%.1f p95=%.1f max=%.1f n=%d%s" % (median(c), p95(c), mx(c), len(c), sfx))
		print("RESULT cutover_silent_ms median=%.1f p95=%.1f max=%.1f n=%d%s" % (median(s), p95(s), mx(s), len(s), sfx))
		print("RESULT failback_gap_ms median=%.1f max=%.1f n=%d%s" % (median(f), mx(f), len(f), sfx))
		if false != "-":
		    print("RESULT false_failovers=%s over_s=%s%s" % (false, watch_s, sfx))
		if false_loss != "-":
		    print("RESULT false_failovers_at_10pct_loss=%s over_s=%s%s" % (false_loss, loss_s, sfx))
	EOF
done

echo
echo "done in $((SECONDS - T_START)) s ($RESTARTS daemon restart(s) against flap damping, $DROPPED cut(s) dropped, $ERRORS error(s))"
cat "$WORK/results"
((ERRORS == 0))
