#!/bin/bash
# tests/drill.sh - `bascule drill` on a lab site of its own.
#
# Builds a site (scripts/lab.sh) with the prefix bsd-<pid>-, runs the
# controller on its edge with scripts/lab.conf (its [drill] section: DNS,
# HTTP, SIP and VPN-peer checks, RTO 1000 ms), and checks:
#
#  - a drill on a healthy site passes: exit 0, JSON with a measured cut-over
#    under the RTO, the synthetic flow answered through fiber then cell, the
#    four checks ok over cell, the failback to fiber; the data plane counted
#    drop_drill and the fiber is no longer played dead afterwards;
#  - it refuses (exit 3) when no backup is healthy, and touches nothing;
#  - it aborts (exit 4) and gives fiber back at once when the backup's
#    carrier is cut during the drill;
#  - it fails (exit 1) when a service check fails (the SIP responder in
#    inet stopped), and when the cut-over is over the RTO; a check whose
#    first datagram is lost passes on its next attempt;
#  - a second drill while one runs is refused, the first one goes on;
#  - Ctrl-C on the CLI aborts the drill and gives fiber back;
#  - a strict rp_filter: passes with manage_routes; with it off, `health`
#    names backups that nothing routes through, and on the operator's own
#    routes the drill refuses by naming the sysctl, and passes when loose;
#  - an operator's `uplink` action during a drill aborts it first (exit 4,
#    the action named), then is applied;
#  - the failback fails: the new flow after it dropped at fiber's ISP
#    (exit 1, on the verification), or fiber blackholed as it is given back
#    (exit 1, after failback_timeout_ms);
#  - the daemon killed during a drill: the deadline ends the outage by
#    itself, and the restarted daemon clears it.
#
# Run as root after `make`. Output is TAP-like; "drill: X passed, Y failed"
# at the end; everything it creates is removed on exit, failure or Ctrl-C.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsd-$$-
harness_init drill
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
ALL_UP='d["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'
DRILL_PID=
RAN=() # the results (exit codes) of the drills that ran, in order
stop_drill_cli() { stop_pid "$DRILL_PID"; DRILL_PID=; }
CLEANUP_HOOKS+=(stop_drill_cli)

# ------------------------------------------------------------- helpers

# drill NAME [ARGS]: run `bascule drill --json`, its JSON line in
# $WORK/NAME.json, progress in $WORK/NAME.out; sets DRILL_RC.
drill() {
	local name=$1
	shift
	timeout 120 "${B[@]}" drill --json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
	DRILL_RC=$?
	ran "$DRILL_RC" && LAST_DRILL=$name
	echo "= exit $DRILL_RC: $(jf "$(cat "$WORK/$name.json")" 'j["drill"] + ": " + j["reason"]' 2>/dev/null)"
}

# ran CODE: a drill ended with CODE; one that passed, failed or was
# aborted ran, and the history keeps it (a refused one changed nothing).
ran() { case $1 in 0 | 1 | 4) RAN+=("$1") ;; *) return 1 ;; esac; }
LAST_DRILL= # the JSON result (drill NAME) of the last drill that ran

# dj NAME EXPR: a Python expression on drill NAME's result (as j).
dj() { jf "$(cat "$WORK/$1.json")" "$2"; }

# The data plane's word on fiber: its drill deadline (0 = not played dead).
fiber_deadline() {
	bpftool -j map lookup pinned "$PIN/uplinks" key 0 0 0 0 |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["formatted"]["value"]["drill_until_ns"])'
}

drop_drill() { sj 'r.get("drop_drill", 0)'; }

known_state() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		lab_fault "$PREFIX" restore "$isp" || return 1
	done
	wait_until 300 hj "$ALL_UP" || { echo "not all up with fiber active: $(health_line)"; return 1; }
}

# Start the CLI's drill in the background, progress in $WORK/NAME.out;
# wait for a progress line matching PATTERN.  A background job of a script
# ignores SIGINT: the CLI gets it back, as in a terminal, for the Ctrl-C.
drill_bg() {
	local name=$1 pattern=$2
	ip netns exec "${PREFIX}edge" "$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
		"$BASCULE" -p "$PIN" -S "$CTL" drill >"$WORK/$name.out" 2>&1 &
	DRILL_PID=$!
	wait_for 100 grep -q "$pattern" "$WORK/$name.out" ||
		{ echo "no '$pattern' in 10 s:"; cat "$WORK/$name.out"; return 1; }
}

# drill_bg_end TENTHS WHY: wait (TENTHS x 0.1 s at most) for drill_bg's CLI
# to end, its exit status in DRILL_RC; if it does not, say WHY, stop it and
# fail.
drill_bg_end() {
	wait_gone "$DRILL_PID" "$1" || { echo "$2"; stop_drill_cli; return 1; }
	wait "$DRILL_PID"
	DRILL_RC=$?
	DRILL_PID=
}

# ------------------------------------------------------------- checks

t_lab_up() {
	site_up && lab_conf
}

# Settled, not only up: an uplink that came up less than failback_hold_ms
# (3 s) ago is not yet chosen over a steadier one, and a drill started then
# cut over to sat instead of cell (seen once on a loaded machine, where the
# metered cell, probed slowly on standby, came up 0.4 s before the drill).
t_daemon_ready() {
	start_daemon || return 1
	wait_until 300 hj "$ALL_UP and all(x['since_s'] >= 3.5 for x in d['uplinks'])" ||
		{ echo "not all up for 3.5 s: $(health_line)"; return 1; }
	echo "= all up for 3.5 s, ${WAITED} s after READY"
}

t_pass() {
	local before after
	before=$(drop_drill)
	# An independent witness: a LAN host's 1 ms UDP stream through the drill.
	stream_go drillstream 120 || return 1
	drill pass
	stream_flowing 500 # back through fiber
	stream_stop drillstream || return 1
	((DRILL_RC == 0)) || { cat "$WORK/pass.json"; return 1; }
	stream_agrees drillstream "$(dj pass 'j["cutover_ms"]')" || return 1
	echo "= cut-over $(dj pass 'j["cutover_ms"]') ms (fiber declared down after $(dj pass 'j["detection_ms"]') ms), failback $(dj pass 'j["failback"]["ms"]') ms, flow $(dj pass 'j["synthetic_flow"]')"
	[[ $(dj pass 'j["drill"] == "passed" and j["primary"] == "fiber" and j["backup"] == "cell" and j["exit_code"] == 0') == True ]] || return 1
	[[ $(dj pass '0 < j["cutover_ms"] <= j["rto_ms"] == 1000 and j["detection_ms"] > 0') == True ]] ||
		{ echo "cut-over not measured under the RTO"; return 1; }
	[[ $(dj pass 'j["synthetic_flow"]["answered_via_primary"] >= 5 and j["synthetic_flow"]["answered_via_backup"] >= 1 and j["synthetic_flow"]["send_errors"] == 0') == True ]] ||
		{ echo "the synthetic flow did not answer through fiber then cell"; return 1; }
	[[ $(dj pass '[c["name"] for c in j["checks"] if c["ok"] and c["ms"] is not None] == ["dns", "cloud-crm", "voip", "office-vpn"]') == True ]] ||
		{ echo "not every check ok"; dj pass 'j["checks"]'; return 1; }
	[[ $(dj pass 'j["failback"]["ok"] and j["failback"]["new_flow_via_primary"] and j["failback"]["ms"] >= j["failback"]["hold_ms"]') == True ]] ||
		{ echo "failback not checked"; return 1; }
	after=$(drop_drill)
	echo "= drop_drill $before -> $after"
	((after > before)) || { echo "the data plane dropped nothing for the drill"; return 1; }
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still has a drill deadline"; return 1; }
	[[ $(hj 'd["active"]') == fiber ]] || { echo "fiber not active after the drill"; return 1; }
	grep -q "OPTIONS ${LAB_ISP_EDGE_IP[cell]}:" "$SVC/sip.log" ||
		{ echo "the SIP server saw no OPTIONS from cell's address"; return 1; }
	bsc events | grep -q 'drill .*-> passed' || { echo "no drill event"; return 1; }
	drill_metrics_ok 1 1 "$(dj pass 'j["cutover_ms"]')"
}

# stream_agrees NAME CUTOVER_MS: the longest gap of the LAN stream NAME
# agrees with the drill's cut-over (the fault to the synthetic flow's first
# answer through the backup): within 100 ms, for the two flows' intervals
# (1 ms and 5 ms), the moment each is moved, and two processes scheduled
# on a loaded machine.
stream_agrees() {
	local gap
	gap=$(jf "$(cat "$WORK/$1.json")" 'j["longest_gap_ms"]') || return 1
	echo "= the LAN stream's longest gap ${gap} ms; the drill's cut-over $2 ms"
	"$PY" -c 'import sys; g, c = map(float, sys.argv[1:]); sys.exit(not (c - 100 <= g <= c + 100))' "$gap" "$2" ||
		{ echo "the LAN stream's gap does not agree with the drill's cut-over"; return 1; }
}

# drill_metrics_ok RUNS PASSED CUTOVER_MS (as the JSON rounds it, to 0.1 ms):
# the daemon's metrics (the default 127.0.0.1:9901, in the edge namespace)
# say so of the drills.
drill_metrics_ok() {
	local m
	m=$(nsx edge curl -s --max-time 5 http://127.0.0.1:9901/metrics) || { echo "no metrics"; return 1; }
	grep '^bascule_drill' <<<"$m" | sed 's/^/= /'
	grep -qx "bascule_drills_total $1" <<<"$m" &&
		grep -qx "bascule_drill_last_passed $2" <<<"$m" &&
		"$PY" -c 'import sys; v = float(sys.argv[1]); c = float(sys.argv[2]) / 1000; sys.exit(abs(v - c) > 1e-4)' \
			"$(awk '$1 == "bascule_drill_last_cutover_seconds" { print $2 }' <<<"$m")" "$3" ||
		{ echo "the drill metrics do not match"; return 1; }
}

# The text output an operator reads.
t_pass_text() {
	local out rc
	out=$(timeout 120 "${B[@]}" drill 2>&1)
	rc=$?
	ran $rc
	echo "$out" | sed 's/^/=   /'
	((rc == 0)) || return 1
	grep -q '^cut-over: the synthetic flow answers through cell .* ms after the fault' <<<"$out" &&
		grep -q '^check voip over cell: ok' <<<"$out" &&
		grep -q '^passed: cut-over' <<<"$out"
}

t_refuse_no_backup() {
	local before
	lab_fault "$PREFIX" carrier cell || return 1
	lab_fault "$PREFIX" carrier sat || return 1
	wait_until 50 hj 'u["cell"]["health"] == "down" and u["sat"]["health"] == "down"' ||
		{ echo "cell and sat not down: $(health_line)"; return 1; }
	before=$(drop_drill)
	drill refuse
	((DRILL_RC == 3)) || return 1
	[[ $(dj refuse 'j["drill"] == "refused" and "no healthy backup" in j["reason"]') == True ]] || return 1
	[[ $(drop_drill) == "$before" && $(fiber_deadline) == 0 ]] || { echo "a refused drill touched the data plane"; return 1; }
	[[ $(hj 'd["active"] == "fiber" and u["fiber"]["health"] == "up"') == True ]] || return 1
	known_state
}

t_abort_backup_cut() {
	local t0
	# a check that never answers keeps the drill on cell for 4 s
	lab_conf 's/^check_timeout_ms.*//' '/^check = office-vpn/a check = slow icmp 203.0.113.99\ncheck_timeout_ms = 4000' || return 1
	bsc reload | grep -q reloaded || return 1
	drill_bg abort 'check office-vpn over cell: ok' || return 1
	t0=$(now)
	lab_fault "$PREFIX" carrier cell || return 1
	drill_bg_end 50 "the drill did not end 5 s after the backup's cut" || return 1
	ran $DRILL_RC
	sed 's/^/=   /' "$WORK/abort.out"
	((DRILL_RC == 4)) || return 1
	grep -q '^aborted: the backup cell failed during the drill' "$WORK/abort.out" || return 1
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	# fiber answers again at once: up within its up_after rounds
	wait_until 50 hj 'u["fiber"]["health"] == "up"' || { echo "fiber not up again: $(health_line)"; return 1; }
	echo "= fiber up $(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.3f", a - b }') s after cell's cut"
	lab_conf || return 1
	bsc reload | grep -q reloaded || return 1
	known_state
}

# The backup silently dead (blackholed at its ISP, carrier up), a moment
# before the drill: the drill starts on a backup that still looks up, the
# synthetic flow never answers through it, its probes find it down, and the
# drill stops there: aborted (exit 4), fiber given back, no cut-over.
t_backup_silent() {
	lab_fault "$PREFIX" blackhole cell || return 1
	drill silent
	lab_fault "$PREFIX" restore cell || return 1
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	((DRILL_RC == 4)) || { cat "$WORK/silent.json"; return 1; }
	[[ $(dj silent 'j["drill"] == "aborted" and "the backup cell failed" in j["reason"] and j["cutover_ms"] is None') == True ]] ||
		{ echo "not aborted for the backup, or a cut-over measured"; return 1; }
	# the site is on fiber again (cell comes back by its own up_after and
	# damping, which the health suite covers)
	wait_until 50 hj 'd["active"] == "fiber" and u["fiber"]["health"] == "up"' ||
		{ echo "fiber not active again: $(health_line)"; return 1; }
}

# A cut-over that never comes: the drill's target (203.0.113.2, which cell
# does not probe) is dropped at cell's ISP, so cell stays up while the
# synthetic flow never answers through it; after cutover_timeout_ms (1.5 s)
# the drill fails (exit 1) and gives fiber back.
t_cutover_timeout() {
	lab_conf 's/^target = 203.0.113.1$/target = 203.0.113.2/' '/^\[drill\]/a cutover_timeout_ms = 1500' || return 1
	grep -q '^target = 203.0.113.2$' "$CONF" || { echo "the drill's target not rewritten"; return 1; }
	bsc reload | grep -q reloaded || return 1
	nsx cell nft -f - <<-EOF || return 1
		table ip bsc_drilltarget {
			chain forward_drop {
				type filter hook forward priority -10; policy accept;
				ip daddr 203.0.113.2 counter drop
			}
		}
	EOF
	drill notarget
	nsx cell nft delete table ip bsc_drilltarget
	lab_conf || return 1
	bsc reload | grep -q reloaded || return 1
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	((DRILL_RC == 1)) || { cat "$WORK/notarget.json"; return 1; }
	[[ $(dj notarget 'j["drill"] == "failed" and "no cut-over within 1500 ms" in j["reason"]') == True ]] ||
		{ echo "not failed on the cut-over timeout"; return 1; }
	known_state
}

t_fail_check() {
	sip_stop || return 1
	drill failcheck
	((DRILL_RC == 1)) || return 1
	[[ $(dj failcheck 'j["drill"] == "failed" and "1 of 4 service check(s) failed" in j["reason"]') == True ]] || return 1
	dj failcheck '[c for c in j["checks"] if c["name"] == "voip"][0]' | sed 's/^/= voip: /'
	[[ $(dj failcheck '[c["ok"] for c in j["checks"]] == [True, True, False, True] and j["failback"]["ok"]') == True ]] || return 1
	# the provider is back (lab_down stops it with the site)
	sip_start
}

# sip_start [ARGS]: the SIP responder in inet again, with ARGS.
sip_start() {
	ip netns exec "${PREFIX}inet" setsid "$PY" "$TOOLS/sipresponder.py" "$LAB_SIP_IP" "$LAB_SIP_PORT" \
		--log "$SVC/sip.log" "$@" </dev/null >"$SVC/sip2.log" 2>&1 &
	echo $! >"$SVC/sip.pid"
	wait_for 30 sip_listening
}

sip_stop() {
	local pid
	pid=$(cat "$SVC/sip.pid")
	kill "$pid" && wait_gone "$pid" 30
}

# The SIP server ignores the first OPTIONS, as a lost datagram on 5G would:
# the check's second attempt (a third of check_timeout_ms later) answers,
# and the drill passes.
t_check_retry() {
	local rc=0
	sip_stop || return 1
	sip_start --drop-first 1 || return 1
	drill retry
	((DRILL_RC == 0)) || { cat "$WORK/retry.json"; rc=1; }
	echo "= voip: $(dj retry '[c for c in j["checks"] if c["name"] == "voip"][0]')"
	# 2 attempts, or more when cell's own loss (about 0.5 % each way) takes
	# the second too: the responder dropped one, and answered one
	[[ $(dj retry '[c for c in j["checks"] if c["name"] == "voip"][0]["attempts"] >= 2 and all(c["ok"] for c in j["checks"])') == True ]] || rc=1
	[[ $(grep -c "^DROPPED ${LAB_ISP_EDGE_IP[cell]}:" "$SVC/sip.log") == 1 ]] ||
		{ echo "the responder did not drop exactly one OPTIONS from cell"; rc=1; }
	sip_stop && sip_start || rc=1
	return $rc
}

sip_listening() { ip netns exec "${PREFIX}inet" ss -lun | grep -q "$LAB_SIP_IP:$LAB_SIP_PORT"; }

t_fail_rto() {
	lab_conf 's/^rto_ms = .*/rto_ms = 20/' || return 1
	bsc reload | grep -q reloaded || return 1
	drill rto
	lab_conf && bsc reload >/dev/null
	((DRILL_RC == 1)) || return 1
	[[ $(dj rto 'j["drill"] == "failed" and "over the site'"'"'s RTO of 20 ms" in j["reason"] and j["cutover_ms"] > 20') == True ]]
}

t_second_refused() {
	drill_bg first 'played dead' || return 1
	drill second
	((DRILL_RC == 3)) || return 1
	[[ $(dj second '"already running" in j["reason"]') == True ]] || return 1
	drill_bg_end 300 "the first drill did not end in 30 s" || return 1
	ran $DRILL_RC
	grep -q '^passed' "$WORK/first.out" || { cat "$WORK/first.out"; return 1; }
}

t_ctrl_c() {
	local rc
	drill_bg ctrlc 'played dead' || return 1
	kill -INT "$DRILL_PID"
	ran 4 # it ran, however the CLI ends: the daemon aborts it when the client goes
	drill_bg_end 50 "the CLI still runs 5 s after SIGINT" || return 1
	rc=$DRILL_RC
	echo "= the CLI ended within ${WAITED_MS} ms of SIGINT, status $rc"
	((rc == 130)) || { echo "the CLI did not end by SIGINT (status $rc, not 128 + 2)"; return 1; }
	wait_for 20 grep -q 'drill.*aborted.*interrupted' "$DAEMON_LOG" ||
		{ echo "the daemon did not abort the drill"; return 1; }
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	known_state
}

# A reload or a SIGHUP while a drill runs is refused, by name: the drill
# measures the configuration it started with. It passes; afterwards the
# reload is taken.
t_reload_mid_drill() {
	local o rc
	drill_bg reloadmid 'played dead' || return 1
	o=$(bsc reload 2>&1)
	rc=$?
	echo "= bascule reload during the drill: exit $rc: $(head -n 2 <<<"$o" | tr '\n' ' ')"
	kill -HUP "$DAEMON_PID"
	drill_bg_end 300 "the drill did not end in 30 s" || return 1
	ran $DRILL_RC
	((rc == 1)) && grep -q "a drill is running" <<<"$o" ||
		{ echo "the reload was not refused for the drill"; return 1; }
	wait_for 20 grep -q "reload refused: a drill is running" "$DAEMON_LOG" ||
		{ echo "the SIGHUP's reload was not refused for the drill"; return 1; }
	[[ $(grep -c "reload refused: a drill is running" "$DAEMON_LOG") -ge 2 ]] ||
		{ echo "not both refusals (request, SIGHUP) in the log"; return 1; }
	((DRILL_RC == 0)) || { echo "the drill did not pass (exit $DRILL_RC)"; cat "$WORK/reloadmid.out"; return 1; }
	o=$(bsc reload 2>&1) || { echo "the reload after the drill failed: $o"; return 1; }
	echo "= after the drill: $o"
}

# SIGTERM while a drill runs: the daemon aborts it and gives fiber back
# before it exits 0; the CLI says so and exits 4. Started again, the daemon
# finds no drill deadline and settles as at the start.
t_sigterm_mid_drill() {
	drill_bg sigterm 'played dead' || return 1
	stop_daemon TERM || return 1
	ran 4
	drill_bg_end 50 "the CLI still runs 5 s after the daemon stopped" || return 1
	sed 's/^/=   /' "$WORK/sigterm.out" | tail -n 2
	((DAEMON_RC == 0)) || { echo "the daemon exited with $DAEMON_RC"; return 1; }
	((DRILL_RC == 4)) || { echo "the CLI exited with $DRILL_RC, not 4 (aborted)"; return 1; }
	grep -q '^aborted: the daemon is stopping; fiber given back' "$WORK/sigterm.out" ||
		{ echo "the CLI did not say the drill was aborted"; return 1; }
	start_daemon daemon-after-sigterm.log || return 1
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber has a drill deadline after the restart"; return 1; }
	wait_until 300 hj "$ALL_UP and all(x['since_s'] >= 3.5 for x in d['uplinks'])" ||
		{ echo "not all up for 3.5 s after the restart: $(health_line)"; return 1; }
}

# The operator's word comes first: `uplink down sat` while a drill runs
# aborts the drill (fiber given back at once, the CLI exits 4 and names the
# action), then is applied (sat down by the operator's word).
t_operator_mid_drill() {
	local o rc
	drill_bg opmid 'played dead' || return 1
	o=$(bsc uplink down sat 2>&1)
	rc=$?
	ran 4
	echo "= bascule uplink down sat during the drill: exit $rc: $o"
	drill_bg_end 50 "the CLI still runs 5 s after the operator's action" || return 1
	tail -n 1 "$WORK/opmid.out" | sed 's/^/= the drill: /'
	((rc == 0)) && grep -q "uplink sat: up -> down.*the drill that was running is aborted" <<<"$o" ||
		{ echo "the action was not applied, or did not say it aborted the drill"; return 1; }
	((DRILL_RC == 4)) || { echo "the CLI exited with $DRILL_RC, not 4 (aborted)"; return 1; }
	grep -q '^aborted: the operator.s `uplink down sat` came during the drill; fiber given back' "$WORK/opmid.out" ||
		{ echo "the drill's end does not name the operator's action"; return 1; }
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	[[ $(sj 'u["sat"]["state"]') == down ]] || { echo "sat is not down: $(health_line)"; return 1; }
	bsc uplink up sat >/dev/null || return 1
	known_state
}

# drill_fault_at NAME PATTERN CMD...: a drill in the background (drill_bg);
# when its progress says PATTERN, CMD runs (a fault); then the drill's end
# (30 s at most), its status in DRILL_RC.
drill_fault_at() {
	local name=$1 pattern=$2
	shift 2
	drill_bg "$name" "$pattern" || return 1
	"$@" || { echo "the fault could not be made: $*"; stop_drill_cli; return 1; }
	drill_bg_end 300 "the drill did not end in 30 s" || return 1
	ran $DRILL_RC
	tail -n 1 "$WORK/$name.out" | sed 's/^/= the drill: /'
}

# fiber_drops_target ADD|DELETE: fiber's ISP drops what is sent to the
# drill's target (203.0.113.1: one of fiber's four probe targets, so fiber
# stays up).
fiber_drops_target() {
	if [[ $1 == add ]]; then
		nsx fiber nft -f - <<-EOF
			table ip bsc_droptarget {
				chain forward_drop {
					type filter hook forward priority -10; policy accept;
					ip daddr 203.0.113.1 counter drop
				}
			}
		EOF
	else
		nsx fiber nft delete table ip bsc_droptarget
	fi
}

# A failure while verifying the failback: fiber comes back (three of its
# four probe targets answer), but the drill's new flow after the failback
# is dropped at fiber's ISP: failed (exit 1), by name, the failback itself
# measured; fiber not played dead.
t_verify_fails() {
	local rc=0
	drill_fault_at verifyfail 'given back; waiting for the failback' fiber_drops_target add || rc=1
	fiber_drops_target delete || rc=1
	((rc == 0)) || return 1
	((DRILL_RC == 1)) || { echo "the drill exited with $DRILL_RC, not 1"; return 1; }
	grep -q '^failback to fiber .* after it was given back' "$WORK/verifyfail.out" ||
		{ echo "no failback seen before the verification"; return 1; }
	grep -q '^failed: after the failback, a new flow does not come back through fiber' "$WORK/verifyfail.out" ||
		{ echo "not failed on the verification"; return 1; }
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	known_state
}

# No failback at all: fiber blackholed at its ISP as it is given back, so
# its probes never find it up; failback_timeout_ms (4 s) after the restore
# the drill fails (exit 1), naming fiber's state; restored, fiber is
# active again.
t_no_failback() {
	local rc=0
	lab_conf '/^\[drill\]/a failback_timeout_ms = 4000' || return 1
	grep -q '^failback_timeout_ms = 4000$' "$CONF" || { echo "failback_timeout_ms not added"; return 1; }
	bsc reload | grep -q reloaded || return 1
	drill_fault_at nofailback 'given back; waiting for the failback' lab_fault "$PREFIX" blackhole fiber || rc=1
	lab_fault "$PREFIX" restore fiber || rc=1
	lab_conf && bsc reload >/dev/null || rc=1
	((rc == 0)) || return 1
	((DRILL_RC == 1)) || { echo "the drill exited with $DRILL_RC, not 1"; return 1; }
	grep -q '^failed: no failback to fiber within 4000 ms: it is down' "$WORK/nofailback.out" ||
		{ echo "not failed on the failback timeout"; return 1; }
	[[ $(fiber_deadline) == 0 ]] || { echo "fiber still played dead"; return 1; }
	known_state
}

# A strict reverse-path filter (rp_filter = 1 on all): with manage_routes,
# the main default route follows the active uplink, so the drill's replies
# through cell are let in after the cut-over.
t_strict_rp_managed() {
	local rc=0
	nsx edge sysctl -qw net.ipv4.conf.all.rp_filter=1 || return 1
	drill strict
	((DRILL_RC == 0)) || { cat "$WORK/strict.json"; rc=1; }
	[[ $(hj 'not any("path_warning" in x for x in d["uplinks"])') == True ]] ||
		{ echo "a path warning with manage_routes: $(bsc health --json)"; rc=1; }
	nsx edge sysctl -qw net.ipv4.conf.all.rp_filter=0 || return 1
	return $rc
}

# manage_routes = no: without routes of the operator's own, cell and sat are
# named as unroutable in `bascule health` (not a bare timeout); with them
# (a table and a rule per uplink, as an operator would write), the warnings
# clear and both come up; then a strict rp_filter makes the drill refuse,
# naming the sysctl, and the loose one it advises lets it pass.
own_routes() {
	local op=$1
	nsx edge ip rule "$op" from "${LAB_ISP_EDGE_IP[cell]}" lookup 201 pref 900 &&
		nsx edge ip rule "$op" from "${LAB_ISP_EDGE_IP[sat]}" lookup 202 pref 901 || return 1
	[[ $op == del ]] && return 0
	nsx edge ip route replace default via "${LAB_ISP_GW_IP[cell]}" dev wan1 table 201 &&
		nsx edge ip route replace default via "${LAB_ISP_GW_IP[sat]}" dev wan2 table 202
}

own_routing_steps() {
	local before w
	lab_conf 's/^\[bascule\]/&\nmanage_routes = no/' || return 1
	start_daemon daemon-noroutes.log || return 1
	wait_until 100 hj '"manage_routes is off" in u["cell"].get("path_warning", "") and "manage_routes is off" in u["sat"].get("path_warning", "") and "path_warning" not in u["fiber"]' ||
		{ echo "no path warning for cell and sat: $(bsc health --json)"; return 1; }
	w=$(bsc health | grep '^warning: cell:')
	echo "= $w"
	grep -q "no route from ${LAB_ISP_EDGE_IP[cell]} to .* through wan1: the kernel takes .* for on-link" <<<"$w" || return 1
	grep -q "uplink cell: no route from" "$DAEMON_LOG" || { echo "not in the daemon's log"; return 1; }
	bsc status | grep -q "^ *warning: no route from ${LAB_ISP_EDGE_IP[cell]} to" || { echo "not in status"; return 1; }
	own_routes add || return 1
	wait_until 300 hj "$ALL_UP"' and not any("path_warning" in x for x in d["uplinks"])' ||
		{ echo "not all up without warnings on the operator's routes: $(health_line)"; return 1; }
	nsx edge sysctl -qw net.ipv4.conf.all.rp_filter=1 || return 1
	before=$(drop_drill)
	drill rpf
	((DRILL_RC == 3)) || return 1
	[[ $(dj rpf '"rp_filter" in j["reason"] and "wan1" in j["reason"] and "manage_routes is off" in j["reason"]') == True ]] || return 1
	[[ $(drop_drill) == "$before" ]] || { echo "a refused drill touched the data plane"; return 1; }
	nsx edge sysctl -qw net.ipv4.conf.all.rp_filter=2 || return 1
	drill loose
	((DRILL_RC == 0)) || { cat "$WORK/loose.json"; return 1; }
}

t_own_routing() {
	local rc=0
	stop_daemon TERM || return 1
	own_routing_steps || rc=1
	nsx edge sysctl -qw net.ipv4.conf.all.rp_filter=0
	stop_daemon TERM
	own_routes del >/dev/null 2>&1
	lab_conf && start_daemon daemon-routes-back.log && known_state || rc=1
	return $rc
}

t_daemon_killed() {
	local d0 d1 d2
	drill_bg killed 'played dead' || return 1
	stop_daemon KILL || return 1
	stop_drill_cli
	d0=$(fiber_deadline)
	echo "= deadline left by the dead daemon: $d0"
	[[ $d0 != 0 ]] || { echo "no deadline in force after the kill"; return 1; }
	# the deadline (at most 2 s ahead, on the data plane's monotonic clock)
	# passes: fiber's replies flow again, nothing more is dropped for the drill
	"$PY" - "$d0" <<-'EOF' || return 1
		import sys, time
		d0 = int(sys.argv[1]); now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
		print("= the deadline is %.2f s ahead" % ((d0 - now) / 1e9))
		if d0 - now > 2.1e9: sys.exit("more than the drill's 2 s ahead")
		time.sleep(max(0, d0 - now) / 1e9 + 0.05)
	EOF
	d1=$(drop_drill)
	nsx edge ping -c 3 -i 0.2 -W 1 -I "${LAB_ISP_EDGE_IP[fiber]}" "${LAB_TARGETS[0]}" >/dev/null ||
		{ echo "fiber still dead after the deadline the dead daemon left"; return 1; }
	d2=$(drop_drill)
	[[ $d1 == "$d2" ]] || { echo "drop_drill still counting after the deadline ($d1 -> $d2)"; return 1; }
	start_daemon daemon-restarted.log || return 1
	[[ $(fiber_deadline) == 0 ]] || return 1
	known_state || return 1
	# the killed drill never ended, so the last one in the history is the
	# loose-rp_filter drill, which passed: the new daemon exports it
	drill_metrics_ok 0 1 "$(dj loose 'j["cutover_ms"]')"
}

# The drills that ran are in the history, and the continuity plan lists
# the last ten newest first with their results, in the order they ran
# here; the last with its cut-over as its result gave it (or none), and
# summed up above the table.
t_report() {
	local md
	md=$WORK/report.md
	"${B[@]}" report -c "$CONF" --format md -o "$md" || return 1
	echo "= the drills run here, in order (exit codes): ${RAN[*]}"
	"$PY" - "$md" "$(dj "$LAST_DRILL" 'j["cutover_ms"]')" "${RAN[@]}" <<-'EOF'
		import re, sys
		md, last_cut, ran = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3:]
		want_cut = "no cut-over" if last_cut == "None" else "%.1f ms" % float(last_cut)
		rows = re.findall(r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| ([^|]*) \| ([^|]*) \| (passed|failed) \|$", md, re.M)
		for r in rows: print("=   | %s |" % " | ".join(r))
		got = [r[3] for r in reversed(rows)]
		want = ["passed" if c == "0" else "failed" for c in ran][-10:] # the report shows the last 10
		if got != want:
		    sys.exit("the report's drills, oldest first: %s; the suite ran: %s" % (got, want))
		if rows[0][1] != want_cut:
		    sys.exit("the last drill's cut-over: %r in the report, %r measured" % (rows[0][1], want_cut))
		last = "The last drill, on %s, **%s**" % (rows[0][0], rows[0][3])
		if last not in md:
		    sys.exit("no '%s' above the table" % last)
	EOF
}

t_exit_clean() {
	stop_daemon TERM || return 1
	((DAEMON_RC == 0))
}

# ------------------------------------------------------------- the run

echo "# Bascule drill test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, bpftool" t_prereq bpftool ip nft ping
setup "lab site ${PREFIX}* is up with its inet services (SIP at $LAB_SIP_IP)" t_lab_up
check "daemon READY; all three uplinks up, fiber active" t_daemon_ready || bail_out "no daemon"
check "drill on a healthy site: exit 0, cut-over measured under the RTO and agreeing with a LAN stream's longest gap, 4 checks ok over cell, failback to fiber, drop_drill counted" t_pass
check "drill, text output: cut-over line, each check, passed" t_pass_text
check "cell and sat cut: the drill refuses (exit 3, no healthy backup) and touches nothing" t_refuse_no_backup
check "backup's carrier cut during the drill: aborted (exit 4), fiber given back at once" t_abort_backup_cut
check "SIP responder stopped: the drill fails (exit 1), voip check failed, the others ok" t_fail_check
check "the SIP server ignores the first OPTIONS: the check's second attempt answers, the drill passes" t_check_retry
check "RTO 20 ms: the drill fails (exit 1) on the cut-over" t_fail_rto
check "a second drill while one runs is refused (exit 3); the first passes" t_second_refused
check "Ctrl-C on the CLI: it ends by SIGINT within 5 s, the daemon aborts the drill and gives fiber back" t_ctrl_c
check "a reload and a SIGHUP during a drill are refused by name; the drill passes; the reload is taken after it" t_reload_mid_drill
check "SIGTERM during a drill: aborted and fiber given back, the CLI says so (exit 4), the daemon exits 0; started again, no deadline left" t_sigterm_mid_drill
check "the operator's uplink down during a drill: the drill aborted first (exit 4, the action named, fiber given back), then the action applied" t_operator_mid_drill
check "the new flow after the failback dropped at fiber's ISP: failed (exit 1) on the verification, after the failback was seen" t_verify_fails
check "fiber blackholed as it is given back: failed (exit 1) after failback_timeout_ms, naming fiber down; fiber active once restored" t_no_failback
check "strict rp_filter with manage_routes: the drill passes, no path warning" t_strict_rp_managed
check "manage_routes off: unroutable backups named in health; on the operator's own routes, strict rp_filter refuses the drill by name, loose passes" t_own_routing
check "daemon SIGKILLed during a drill: the deadline ends the outage by itself; the restarted daemon clears it" t_daemon_killed
check "no cut-over (the drill's target dropped at cell's ISP, cell up): failed after cutover_timeout_ms (exit 1), fiber given back" t_cutover_timeout
check "backup silently dead (blackholed) as the drill starts: aborted (exit 4) when its probes find it down, no cut-over, fiber given back" t_backup_silent
check "bascule report: the last ten drills that ran, newest first, with their results in the order they ran; the last with its cut-over (none: it never cut over)" t_report
check "SIGTERM: exit 0" t_exit_clean
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup

summary
((FAILED == 0))
