#!/bin/bash
# tests/soak.sh - the daemon under a long run of what a real site does to
# it, cycle after cycle, and what it leaves behind: nothing.  Through the
# whole run, on the emulated links: a 1 ms UDP stream from the LAN host,
# and TCP downloads of 8 MiB at 1 MiB/s one after another (each spans
# cut-overs: reset when its uplink dies, the next one starts).  Each cycle:
# the fibre goes silent (blackhole) and traffic moves to the 5G; the LAN
# host pings, fetches a page and resolves a name over it; the operator
# reloads (a probe added or taken away), five control clients connect and
# hang up, the metrics are scraped; the fibre comes back and traffic moves
# back.  Every flip runs the hook.
#
# Sampled after each cycle: the daemon's resident memory, its open
# descriptors and threads, the flows, the hooks and the history's writer.
# It passes when every cycle failed over and back within FLIP_MAX_MS, only
# the fibre ever went down (no false failover: the history's transitions),
# the stream's longest gap stayed under FLIP_MAX_MS, no download hung (each
# ended, done or reset, before its 60 s limit), descriptors and threads
# did not grow, memory grew less than RSS_MAX_GROWTH_KB after the first
# two cycles (the warm-up: arenas, caches), every hook ended, and every
# history record was written.  RESULT lines at the end give the figures.
#
# SOAK_CYCLES cycles (10 in `make test`, 100 with `make soak`).  The fibre
# is not damped here (damp_suppress = 0 on it, failback_hold_ms = 500):
# damping is failover.sh's; this is about what a hundred flips leave.
#
# Run as root after `make`; TAP-like output, "soak: X passed, Y failed";
# everything it creates is removed on exit, on failure and on Ctrl-C.
set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsc-$$-
harness_init soak

LAN=(ip netns exec "${PREFIX}lan")
EDGE=(ip netns exec "${PREFIX}edge")
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")

CYCLES=${SOAK_CYCLES:-10}
FLIP_MAX_MS=1000 # failover.sh's bound; the failover benchmark measures ~300 ms
WARMUP=2
# 100 cycles grew it 744 kB after the warm-up, 96 kB of it over the last 50
# (the events ring filling, heap arenas of the metrics and history threads);
# LeakSanitizer finds nothing leaked (SOAK_ASAN=1)
RSS_MAX_GROWTH_KB=${SOAK_RSS_MAX_GROWTH_KB:-2048}
HOOK_LOG=

declare -a RSS FDS THR FLOWS FO_MS FB_MS
CYCLES_OK=0

t_lab_up() {
	[[ "$CYCLES" =~ ^[0-9]+$ ]] && ((CYCLES >= WARMUP + 6)) ||
		{ echo "SOAK_CYCLES must be a number, at least $((WARMUP + 6)), not '$CYCLES'"; return 1; }
	site_up || return 1
	HOOK_LOG=$WORK/hook.log
	cat >"$WORK/hook.sh" <<-EOF
		#!/bin/sh
		echo "\$BASCULE_EVENT \$BASCULE_UPLINK" >>"$HOOK_LOG"
	EOF
	chmod +x "$WORK/hook.sh" || return 1
	lab_conf "s#^\[bascule\]#&\nhook = $WORK/hook.sh#" \
		"s/^failback_hold_ms = .*/failback_hold_ms = 500/" \
		'/^\[uplink fiber\]/a damp_suppress = 0' || return 1
	grep -q '^damp_suppress = 0$' "$CONF" && grep -q '^failback_hold_ms = 500$' "$CONF" ||
		{ echo "the soak's settings are not in $CONF"; return 1; }
	"$BASCULE" check-config "$CONF"
}

t_all_up() {
	wait_until 150 hj 'd["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])' ||
		{ echo "not all up with fiber active: $(health_line)"; return 1; }
	echo "= $(health_line) after ${WAITED} s"
}

fd_kinds() {
	local f
	for f in "/proc/$DAEMON_PID/fd/"*; do
		readlink "$f"
	done | sed -E 's/^(socket|pipe):\[[0-9]+\]$/\1/' | sort | uniq -c
}

proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

sample() {
	local i=$1
	RSS[i]=$(proc_field "$DAEMON_PID" VmRSS)
	THR[i]=$(proc_field "$DAEMON_PID" Threads)
	FDS[i]=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
	# what they are, for the first cycle and the last (anon_inode:[...],
	# socket:[inode] -> socket, a file's path)
	((i == 1 || i == CYCLES)) && fd_kinds >"$WORK/fds.$i"
	FLOWS[i]=$(sj 'd["flows"]')
}

# The operator's and the monitoring's share of a cycle: a reload that adds
# (odd cycles) or takes away (even) a DNS probe of sat, five control
# clients that connect and hang up, a scrape.
operator() {
	local i=$1 o n
	if ((i % 2)); then
		sed -i '/^\[uplink sat\]/,$ { /^probe = tcp 203.0.113.10:80$/a probe = dns 203.0.113.53 bascule.test
		}' "$CONF"
	else
		sed -i '/^\[uplink sat\]/,$ { /^probe = dns 203.0.113.53 bascule.test$/d }' "$CONF"
	fi
	o=$(bsc reload 2>&1)
	[[ "$o" == reloaded* ]] || { echo "cycle $i: reload: $o"; return 1; }
	n=$(hj 'len(u["sat"]["targets"])')
	((n == (i % 2 ? 4 : 3))) || { echo "cycle $i: sat has $n probe(s) after the reload"; return 1; }
	"${EDGE[@]}" "$PY" - "$CTL" <<-'EOF' || { echo "cycle $i: control clients"; return 1; }
		import socket, sys
		for _ in range(5):
		    c = socket.socket(socket.AF_UNIX)
		    c.connect(sys.argv[1])
		    c.close()
	EOF
	"${EDGE[@]}" curl -s --max-time 5 -o /dev/null "http://127.0.0.1:9901/metrics" ||
		{ echo "cycle $i: no metrics"; return 1; }
}

# The LAN host's traffic over whichever uplink is active.
lan_traffic() {
	local i=$1
	"${LAN[@]}" ping -q -c 2 -i 0.2 -W 1 "${LAB_TARGETS[0]}" >/dev/null ||
		{ echo "cycle $i: no ping"; return 1; }
	"${LAN[@]}" curl -s --max-time 5 -o /dev/null "http://$LAB_HTTP_IP/" ||
		{ echo "cycle $i: no page"; return 1; }
	"${LAN[@]}" dig +time=1 +tries=2 +short @"$LAB_DNS_IP" bascule.test >/dev/null ||
		{ echo "cycle $i: no DNS answer"; return 1; }
}

# ms between T and the first flip of the active uplink to NAME after T.
flip_ms() {
	ev "$1" 'next(("%.0f" % ((x["time"] - t0) * 1000) for x in act if x["new"] == sys.argv[4]), "")' "$2"
}

cycle() {
	local i=$1 tf tr
	tf=$(now)
	lab_fault "$PREFIX" blackhole fiber >/dev/null || { echo "cycle $i: no fault"; return 1; }
	wait_until 50 hj 'd["active"] == "cell"' ||
		{ echo "cycle $i: cell not active 5 s after the fibre went silent: $(health_line)"; return 1; }
	lan_traffic "$i" || return 1
	operator "$i" || return 1
	tr=$(now)
	lab_fault "$PREFIX" restore fiber >/dev/null || { echo "cycle $i: no restore"; return 1; }
	wait_until 100 hj 'd["active"] == "fiber"' ||
		{ echo "cycle $i: fiber not back 10 s after the restore: $(health_line)"; return 1; }
	lan_traffic "$i" || return 1
	FO_MS[i]=$(flip_ms "$tf" cell)
	FB_MS[i]=$(flip_ms "$tr" fiber)
	[[ -n "${FO_MS[i]}" && -n "${FB_MS[i]}" ]] || { echo "cycle $i: a flip is missing from the events"; return 1; }
	((FO_MS[i] < FLIP_MAX_MS)) || { echo "cycle $i: failover took ${FO_MS[i]} ms"; return 1; }
}

# The traffic of the whole run: the stream, and downloads one after
# another (curl's exit status and time, one line each).
DL_LOG='' DL_PID='' GAP=-1 LOST=-1
t_traffic_start() {
	DL_LOG=$WORK/downloads.log
	stream_start soak $((CYCLES * 10 + 120))
	"${LAN[@]}" bash -c 'while [ ! -e "$1" ]; do
		curl -s --max-time 60 --limit-rate 1M -o /dev/null -w "%{exitcode} %{time_total} %{size_download}\n" \
			"http://$2/big.bin"; done >>"$3" 2>/dev/null' - "$WORK/dl.stop" "$LAB_HTTP_IP" "$DL_LOG" &
	DL_PID=$!
	BG_PIDS+=("$DL_PID")
	sleep 1
	[[ -s "$WORK/soak.json" ]] && { echo "the stream ended at once: $(cat "$WORK/soak.json")"; return 1; }
	kill -0 "$DL_PID" || { echo "the download loop is not running"; return 1; }
}

t_traffic_end() {
	local gap done hung reset
	touch "$WORK/dl.stop"
	wait "$DL_PID"
	stream_stop soak || return 1
	gap=$(jf "$(cat "$WORK/soak.json")" 'j["longest_gap_ms"]')
	GAP=$gap
	LOST=$(jf "$(cat "$WORK/soak.json")" 'j["lost"]')
	done=$(awk '$1 == 0 && $3 == 8388608' "$DL_LOG" | wc -l)
	hung=$(awk '$1 == 28' "$DL_LOG" | wc -l)
	reset=$(awk '$1 != 0 && $1 != 28' "$DL_LOG" | wc -l)
	echo "= downloads: $done complete, $reset cut by a failover (reset), $hung hung to the 60 s limit"
	awk -v g="$gap" -v m="$FLIP_MAX_MS" 'BEGIN { exit !(g < m) }' || { echo "the stream's longest gap is $gap ms"; return 1; }
	((hung == 0)) || { echo "a download hung"; return 1; }
	((done >= 1)) || { echo "no download completed"; return 1; }
}

# Only the fibre went down, once a cycle: the history has every transition.
t_no_false_failover() {
	local rows
	rows=$(sqlite3 "$WORK/history.db" "SELECT uplink || '=' || COUNT(*) FROM transitions WHERE to_state = 'down' GROUP BY uplink ORDER BY uplink" | tr '\n' ' ')
	echo "= transitions to down in the history: ${rows:-none}"
	[[ "$rows" == "fiber=$CYCLES " ]]
}

t_cycles() {
	local i
	for i in $(seq "$CYCLES"); do
		cycle "$i" || { ev_lines "$(now)"; return 1; }
		sample "$i"
		CYCLES_OK=$i
		echo "= cycle $i: failover ${FO_MS[i]} ms, failback ${FB_MS[i]} ms; rss ${RSS[i]} kB, fds ${FDS[i]}, threads ${THR[i]}, flows ${FLOWS[i]}"
	done
}

# min over cycles A..B of array NAME
range_min() {
	local -n a=$1
	local i m=
	for ((i = $2; i <= $3; i++)); do
		[[ -z "$m" || ${a[i]} -lt $m ]] && m=${a[i]}
	done
	echo "$m"
}

t_no_growth() {
	((CYCLES_OK == CYCLES)) || { echo "only $CYCLES_OK of $CYCLES cycles ran"; return 1; }
	local f0 f1 t0 t1 r0 r1
	# the fewest over three cycles in the middle of the run and over the
	# last three: a probe's socket open at the instant of a sample is not
	# a leak, nor what is opened once in the first cycles (seen: one more
	# descriptor by cycle 4 under AddressSanitizer, then no more in 100);
	# one leaked every cycle or two shows
	f0=$(range_min FDS $((CYCLES / 2 - 1)) $((CYCLES / 2 + 1)))
	f1=$(range_min FDS $((CYCLES - 2)) "$CYCLES")
	t0=$(range_min THR $((CYCLES / 2 - 1)) $((CYCLES / 2 + 1)))
	t1=$(range_min THR $((CYCLES - 2)) "$CYCLES")
	echo "= descriptors by kind, cycle 1 -> cycle $CYCLES:"
	diff <(cat "$WORK/fds.1") <(cat "$WORK/fds.$CYCLES") | sed -n 's/^\([<>]\)/=   \1/p'
	echo "=   (no other difference)"
	r0=${RSS[WARMUP]}
	r1=${RSS[CYCLES]}
	echo "= descriptors $f0 -> $f1, threads $t0 -> $t1, rss ${RSS[1]} kB (cycle 1), $r0 kB (cycle $WARMUP) -> $r1 kB (cycle $CYCLES); limit +$RSS_MAX_GROWTH_KB kB"
	((f1 <= f0)) || { echo "descriptors grew"; return 1; }
	((t1 <= t0)) || { echo "threads grew"; return 1; }
	[[ "$ASAN" == 1 ]] && { echo "= (an AddressSanitizer build: its quarantine holds freed memory, the bound is not checked)"; return 0; }
	((r1 - r0 <= RSS_MAX_GROWTH_KB)) || { echo "memory grew by $((r1 - r0)) kB"; return 1; }
}

t_hooks_history() {
	local hs hist runs
	wait_until 100 hj 'd["hooks"]["running"] == 0 and d["history"]["waiting"] == 0' ||
		{ echo "hooks still running or history records waiting"; return 1; }
	hs=$(hj '"%d started, %d ok, %d failed, %d killed, %d skipped" % tuple(d["hooks"][k] for k in ("started", "ok", "failed", "killed", "skipped"))')
	hist=$(hj '"%d queued, %d written, %d failed, %d dropped" % tuple(d["history"][k] for k in ("queued", "written", "failed", "dropped"))')
	runs=$(wc -l <"$HOOK_LOG")
	echo "= hooks: $hs; the hook log has $runs lines; history: $hist"
	[[ "$(hj 'd["hooks"]["started"] == d["hooks"]["ok"] and d["hooks"]["started"] >= 4 * '"$CYCLES")" == True ]] ||
		{ echo "not every hook ran and ended well (4 flips a cycle at least)"; return 1; }
	((runs == $(hj 'd["hooks"]["ok"]'))) || { echo "the hook log does not have a line per run"; return 1; }
	[[ "$(hj 'd["history"]["queued"] == d["history"]["written"] and d["history"]["dropped"] == 0')" == True ]] ||
		{ echo "history records lost"; return 1; }
}

stats() { # NAME...: "median max" of the values
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%s %s", v[int((NR + 1) / 2)], v[NR] }'
}

results() {
	((CYCLES_OK == CYCLES)) || return 0
	local fo fb
	read -r -a fo <<<"$(stats "${FO_MS[@]}")"
	read -r -a fb <<<"$(stats "${FB_MS[@]}")"
	printf 'RESULT soak_cycles=%d failover_ms_median=%s failover_ms_max=%s failback_ms_median=%s failback_ms_max=%s stream_longest_gap_ms=%s stream_lost=%s\n' \
		"$CYCLES" "${fo[0]}" "${fo[1]}" "${fb[0]}" "${fb[1]}" \
		"$GAP" "$LOST"
	printf 'RESULT soak_rss_kb_cycle1=%s soak_rss_kb_warm=%s soak_rss_kb_end=%s soak_rss_growth_kb=%d soak_fds_mid=%s soak_fds_end=%s soak_threads_mid=%s soak_threads_end=%s\n' \
		"${RSS[1]}" "${RSS[WARMUP]}" "${RSS[CYCLES]}" $((RSS[CYCLES] - RSS[WARMUP])) \
		"$(range_min FDS $((CYCLES / 2 - 1)) $((CYCLES / 2 + 1)))" "$(range_min FDS $((CYCLES - 2)) "$CYCLES")" \
		"$(range_min THR $((CYCLES / 2 - 1)) $((CYCLES / 2 + 1)))" "$(range_min THR $((CYCLES - 2)) "$CYCLES")"
}

setup "prerequisites: root, $BASCULE, traffic tools" t_prereq ip nft curl dig ping sqlite3
setup "lab site ${PREFIX}* is up with its inet services; the soak's settings" t_lab_up
# SOAK_ASAN=1: $BASCULE is an AddressSanitizer build (`make soak` makes
# one in build/asan): every access checked as it runs, and at the daemon's
# exit LeakSanitizer reports what was never freed.  Its heap keeps freed
# blocks in quarantine, so the memory bound is not checked then.
# (valgrind is no use here: it does not model the bpf() batch commands nor
# pidfd_open.)
ASAN=${SOAK_ASAN:-0}
t_start() {
	if [[ "$ASAN" == 1 ]]; then
		(($(nm -D "$BASCULE" 2>/dev/null | grep -c __asan_init) > 0)) ||
			{ echo "SOAK_ASAN=1 but $BASCULE is not an AddressSanitizer build"; return 1; }
		# halt_on_error: the first bad access ends the daemon, and the cycles fail
		start_daemon daemon.log env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 || return 1
	else
		start_daemon
	fi
}
t_sanitizer() {
	stop_daemon TERM || return 1
	grep -E "ERROR: (Address|Leak)Sanitizer|LeakSanitizer has encountered|SUMMARY: " -A25 "$DAEMON_LOG" | head -80
	((DAEMON_RC == 0)) || { echo "the daemon exited with $DAEMON_RC"; return 1; }
	! grep -qE "ERROR: (Address|Leak)Sanitizer|LeakSanitizer has encountered" "$DAEMON_LOG"
}

check "daemon attaches and prints READY" t_start || bail_out "no daemon"
check "all three uplinks up, fiber active" t_all_up || bail_out "not all up"
check "traffic for the whole run: a 1 ms UDP stream, 8 MiB downloads one after another" t_traffic_start
check "$CYCLES cycles: fibre silent -> cell, LAN traffic, a reload, control clients, a scrape, fibre back -> fiber" t_cycles
check "the stream's longest gap under $FLIP_MAX_MS ms; no download hung, at least one complete" t_traffic_end
check "no false failover: in the history, only the fibre went down, $CYCLES times" t_no_false_failover
check "after $CYCLES cycles: no descriptor or thread more, memory within +$RSS_MAX_GROWTH_KB kB of cycle $WARMUP" t_no_growth
check "every hook ran and ended (4 a cycle), every history record written" t_hooks_history
[[ "$ASAN" == 1 ]] && check "AddressSanitizer: no bad access during the cycles, LeakSanitizer: nothing leaked at the daemon's exit" t_sanitizer
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup
results

summary
((FAILED == 0))
