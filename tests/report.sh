#!/bin/bash
# tests/report.sh - the history and `bascule report` on a lab site of its own.
#
# Builds a site (scripts/lab.sh) with the prefix bsc-<pid>-, runs the
# controller on its edge with scripts/lab.conf (its history in the work
# dir), and checks:
#
#  - a real outage: the fibre's carrier cut for about 3 s; the daemon's own
#    events give its length, to the millisecond;
#  - the history survives a restart of the daemon (SIGTERM, then SIGKILL:
#    the database stays intact and keeps the outage);
#  - `bascule report` (read-only, while the daemon runs) shows that outage
#    with that length, which uplink carried the traffic, and the site's
#    figures; HTML and Markdown;
#  - the page is valid HTML (tidy, and a strict parse: every element closed,
#    nothing unescaped, no external resource, each SVG well-formed XML);
#  - headless Chromium renders it: a screenshot that is not blank, and a DOM
#    with the timeline's SVG.
#
# Run as root from anywhere, after `make`. TAP-like output, then
# "report: X passed, Y failed". With REPORT_KEEP=DIR, the report (HTML,
# Markdown) and the screenshot are copied there before the work dir goes.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsc-$$-
harness_init report
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
DB=$WORK/history.db
CHROMIUM=${CHROMIUM:-chromium}
ALL_UP='d["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])'
CUT_MS='' OUT_DOWN_MS='' OUT_UP_MS='' OUT_MS=''

keep() {
	[[ -n "${REPORT_KEEP:-}" ]] || return 0
	mkdir -p "$REPORT_KEEP" && cp "$@" "$REPORT_KEEP"/ 2>/dev/null
	return 0
}

ms_now() { date +%s%3N; }

# ------------------------------------------------------------- checks

t_lab_up() {
	site_up || return 1
	lab_conf || return 1
	"$BASCULE" check-config "$CONF" || return 1
	start_daemon daemon.log || return 1
	wait_until 300 hj "$ALL_UP" || { echo "not all up with fiber active: $(health_line)"; return 1; }
	echo "= $(health_line); history $DB"
	[[ -s "$DB" ]] || { echo "no history file $DB"; return 1; }
}

# Cut the fibre's carrier for 3 s; the outage lasts from the daemon seeing
# it (at once: netlink) until the fibre is up again (up_after good rounds).
t_outage() {
	local t0 restore
	t0=$(now)
	CUT_MS=$(ms_now)
	lab_fault "$PREFIX" carrier fiber || return 1
	wait_active cell 30 || { echo "cell did not become active: $(health_line)"; return 1; }
	sleep 3
	restore=$(ms_now)
	lab_fault "$PREFIX" restore fiber || return 1
	wait_until 200 hj "$ALL_UP" || { echo "fiber not back and active: $(health_line)"; return 1; }
	ev_lines "$t0"
	# the daemon's own instants of fiber up -> down and down -> up
	read -r OUT_DOWN_MS OUT_UP_MS < <(ev "$t0" '" ".join(str(int(round(x["time"] * 1000))) for x in up if x["uplink"] == "fiber" and "down" in (x["old"], x["new"]))')
	[[ -n "$OUT_DOWN_MS" && -n "$OUT_UP_MS" ]] || { echo "no fiber down/up pair in the events"; return 1; }
	OUT_MS=$((OUT_UP_MS - OUT_DOWN_MS))
	echo "= carrier cut at +0 ms, restored at +$((restore - CUT_MS)) ms; fiber down at +$((OUT_DOWN_MS - CUT_MS)) ms, up at +$((OUT_UP_MS - CUT_MS)) ms: an outage of $OUT_MS ms"
	# carrier loss is seen at once, and the fibre cannot be back before
	# its carrier
	((OUT_DOWN_MS - CUT_MS < 500)) || { echo "down seen $((OUT_DOWN_MS - CUT_MS)) ms after the cut"; return 1; }
	((OUT_UP_MS > restore)) || { echo "up before the carrier came back"; return 1; }
	((OUT_MS > 2900 && OUT_MS < 15000)) || { echo "outage of $OUT_MS ms, expected 3 s and a little more"; return 1; }
}

# sqlite3 on the file while the daemon writes (WAL): read-only.
q() { sqlite3 -readonly "$DB" "$1"; }

# The fiber outage as the history has it: the events' instants (the history
# keeps milliseconds, the events nanoseconds: 1 ms apart at most).
fiber_outage_ok() {
	[[ "$(q "SELECT ABS(start_ms - $OUT_DOWN_MS) <= 1 AND ABS(end_ms - $OUT_UP_MS) <= 1
		AND ABS(duration_ms - $OUT_MS) <= 2 AND carried_by = 'cell' AND NOT ended_by_restart
		FROM outages WHERE uplink = 'fiber'")" == 1 ]]
}

t_history_rows() {
	echo "= outages row: $(q "SELECT start_ms, end_ms, duration_ms, carried_by, reason FROM outages WHERE uplink = 'fiber'")"
	fiber_outage_ok || { echo "expected $OUT_DOWN_MS|$OUT_UP_MS|$OUT_MS|cell"; return 1; }
	[[ "$(q "SELECT COUNT(*) FROM transitions WHERE uplink = 'fiber' AND to_state = 'down'")" == 1 ]] ||
		{ echo "not one fiber down transition"; return 1; }
	[[ "$(q "SELECT COUNT(*) FROM active WHERE uplink = 'cell'")" -ge 1 ]] ||
		{ echo "cell never recorded active"; return 1; }
}

t_restart() {
	local runs
	stop_daemon TERM || return 1
	((DAEMON_RC == 0)) || { echo "exit status $DAEMON_RC"; return 1; }
	[[ "$(q "SELECT COUNT(*) FROM runs WHERE stop_ms IS NOT NULL")" == 1 ]] || { echo "no clean stop recorded"; return 1; }
	start_daemon daemon-2.log || return 1
	wait_until 300 hj "$ALL_UP" || { echo "not all up after the restart: $(health_line)"; return 1; }
	runs=$(q "SELECT COUNT(*) FROM runs")
	echo "= runs: $runs"
	((runs == 2)) || return 1
	fiber_outage_ok || { echo "the fiber outage is not there as it was"; return 1; }
}

# SIGKILL in the middle of it all: the file is intact, nothing lost.
t_kill() {
	stop_daemon KILL || return 1
	[[ "$(q 'PRAGMA integrity_check')" == ok ]] || { echo "integrity_check failed"; return 1; }
	start_daemon daemon-3.log || return 1
	wait_until 300 hj "$ALL_UP" || { echo "not all up after SIGKILL and restart: $(health_line)"; return 1; }
	[[ "$(q "SELECT COUNT(*) FROM runs")" == 3 ]] || { echo "expected 3 runs"; return 1; }
	[[ "$(q "SELECT COUNT(*) FROM runs WHERE stop_ms IS NULL")" == 2 ]] ||
		{ echo "expected the killed run and the running one without a stop"; return 1; }
	fiber_outage_ok || { echo "the fiber outage is not there as it was"; return 1; }
	echo "= integrity_check ok; 3 runs, the fiber outage kept"
}

# The page holds phone numbers and e-mail addresses: it is 0640 under a
# umask of 022, and a symlink planted at the old fixed name of the file
# aside (OUTPUT.tmp) is not followed.
t_report() {
	local mode
	echo untouched >"$WORK/victim"
	ln -s "$WORK/victim" "$WORK/report.html.tmp"
	(umask 022 && "${B[@]}" report -c "$CONF" --days 1 -o "$WORK/report.html") 2>"$WORK/report.err" ||
		{ cat "$WORK/report.err"; return 1; }
	"${B[@]}" report -c "$CONF" --days 1 --format md -o "$WORK/report.md" || return 1
	[[ ! -s "$WORK/report.err" ]] || { echo "stderr:"; cat "$WORK/report.err"; return 1; }
	echo "= report.html $(stat -c %s "$WORK/report.html") bytes, report.md $(stat -c %s "$WORK/report.md") bytes"
	mode=$(stat -c %a "$WORK/report.html")
	echo "= report.html mode $mode (umask 022); the planted report.html.tmp -> victim: victim says '$(cat "$WORK/victim")'"
	[[ "$mode" == 640 && "$(cat "$WORK/victim")" == untouched ]] || return 1
	rm -f "$WORK/report.html.tmp" "$WORK/victim"
	[[ -z "$(find "$WORK" -maxdepth 1 -name 'report.*.??????')" ]] || { echo "a file aside was left"; return 1; }
	keep "$WORK/report.html" "$WORK/report.md"
}

# The outage row of the HTML: its data-ms is the daemon's outage, to the
# millisecond; the text says the same; cell carried the traffic.
t_report_outage() {
	"$PY" - "$WORK/report.html" "$OUT_MS" "$TOOLS" <<-'EOF'
		import sys
		sys.path.insert(0, sys.argv[3])
		from reporttable import rows
		table = rows(sys.argv[1], "outages")
		want = int(sys.argv[2])
		fiber = [r for r in table if len(r) >= 6 and r[3][1] == "fiber down"]
		if len(fiber) != 1:
		    sys.exit("expected one 'fiber down' row, found %d" % len(fiber))
		r = fiber[0]
		ms = int(r[2][0])
		print("= report row: %s" % " | ".join(c[1] for c in r))
		if abs(ms - want) > 2:
		    sys.exit("report says %d ms, the daemon's events %d ms" % (ms, want))
		if r[2][1] != "%.3f s" % (ms / 1000):
		    sys.exit("duration text %r for %d ms" % (r[2][1], want))
		if r[5][1] != "cell":
		    sys.exit("carried by %r, expected cell" % r[5][1])
	EOF
}

# The figures the report computes, recomputed here: availability from its
# own table's milliseconds (up or degraded over the time known), fiber down
# as long as the daemon's events said and once, the backups never down, the
# site never offline; the backups' yearly cost and the hours that pay for
# them from the configuration's prices, in the HTML and the Markdown.
t_report_figures() {
	"$PY" - "$WORK/report.html" "$WORK/report.md" "$OUT_MS" "$CONF" "$TOOLS" <<-'EOF'
		import configparser, math, sys
		sys.path.insert(0, sys.argv[5])
		from reporttable import rows as table_rows
		page = open(sys.argv[1]).read()
		md = open(sys.argv[2]).read()
		out_ms = int(sys.argv[3])
		table = table_rows(sys.argv[1], "availability")
		rows = {r[0][1]: r for r in table if len(r) == 7}
		bad = []
		def pct(up_ms, known_ms):
		    if known_ms <= 0: return "not known"
		    v = 100.0 * up_ms / known_ms
		    return "100 %" if v >= 100 else "%.3f %%" % (math.floor(v * 1000) / 1000)
		for name in ("fiber", "cell", "sat"):
		    if name not in rows:
		        sys.exit("no availability row for %s: %s" % (name, sorted(rows)))
		    r = rows[name]
		    down, deg, unk, obs = (int(r[i][0]) for i in (2, 3, 4, 6))
		    n = int(r[5][1])
		    want = pct(obs - unk - down, obs - unk)
		    print("= %s: %s available, down %d ms in %d outage(s), unknown %d ms, observed %d ms" % (
		        name, r[1][1], down, n, unk, obs))
		    if r[1][1] != want: bad.append("%s: %s available, its own figures give %s" % (name, r[1][1], want))
		    if name == "fiber":
		        if abs(down - out_ms) > 2 or n != 1:
		            bad.append("fiber down %d ms in %d outage(s); the events: %d ms, once" % (down, n, out_ms))
		    elif down or n:
		        bad.append("%s down %d ms in %d outage(s)" % (name, down, n))
		s = rows.get("whole site")
		if not s or s[1][1] != "100 %" or int(s[2][0]) != 0 or s[5][1] != "0":
		    bad.append("the site was never offline: %s" % [c[1] for c in s or []])
		c = configparser.ConfigParser(strict=False, inline_comment_prefixes=(";", "#"), interpolation=None)
		c.read_string("".join(l for l in open(sys.argv[4]) if not l.lstrip().startswith("probe")))
		ups = [x for x in c.sections() if x.startswith("uplink ")]
		primary = min(ups, key=lambda x: int(c[x]["priority"]))
		yearly = 12 * sum(float(c[x].get("monthly_cost", "0")) for x in ups if x != primary)
		cur, per_hour = c["site"]["currency"], float(c["site"]["downtime_cost_per_hour"])
		money = ("%.0f %s" if yearly >= 1000 else "%.2f %s") % (yearly, cur)
		for text, kind in ((page, "HTML"), (md, "Markdown")):
		    for want in ("cost %s a year" % money, "%.1f hours a year" % (yearly / per_hour)):
		        if want not in text.replace("<strong>", "").replace("</strong>", "").replace("**", ""):
		            bad.append("no '%s' in the %s" % (want, kind))
		print("= backups (not %s): %s a year, paid for by %.1f hours offline avoided" % (primary[7:], money, yearly / per_hour))
		if bad: sys.exit("\n".join(bad))
	EOF
}

t_report_content() {
	local f=$WORK/report.html m=$WORK/report.md x
	for x in "Boulangerie Martin" "Julien Moreau" "Take a card payment" "Orange Pro" \
		'<svg xmlns="http://www.w3.org/2000/svg" class="timeline"' "carrying traffic" \
		"The backup links cost" "of the time Bascule watched"; do
		grep -qF "$x" "$f" || { echo "no '$x' in the HTML"; return 1; }
	done
	# contacts in escalation order
	(($(grep -bo 'Julien Moreau' "$f" | head -1 | cut -d: -f1) < $(grep -bo 'Claire Martin' "$f" | head -1 | cut -d: -f1))) ||
		{ echo "contacts not in escalation order"; return 1; }
	grep -q "| fiber down |" "$m" || { echo "no fiber outage row in the Markdown"; return 1; }
	grep -q "^| From | fiber | cell | sat | carrying traffic |" "$m" || { echo "no text timeline in the Markdown"; return 1; }
	grep -q "| down | up | up | cell |" "$m" || { echo "the text timeline does not show cell carrying while fiber is down"; return 1; }
	echo "= site, contacts in order, checks, providers, timeline, costs; Markdown with the same outage and a text timeline"
}

t_html_valid() {
	local out
	out=$(tidy -q -e "$WORK/report.html" 2>&1)
	[[ -z "$out" ]] || { echo "tidy:"; echo "$out"; return 1; }
	"$PY" "$ROOT/tests/tools/htmlcheck.py" "$WORK/report.html" || return 1
	echo "= tidy: no warning; strict parse: ok"
}

# Headless Chromium renders the page: a screenshot with something on it and
# a DOM that holds the timeline.
# Three starts with fibre, 5G and satellite up: no uplink is usable for the
# few milliseconds until the first probes answer, which is not a site outage.
t_no_start_outage() {
	local n
	n=$(q "SELECT COUNT(*) FROM outages WHERE kind = 'site'")
	echo "= site outages after 3 starts: $n; first active rows: $(q "SELECT uplink || ' (' || reason || ')' FROM active ORDER BY t_ms LIMIT 3" | tr '\n' ' ')"
	[[ $n == 0 ]]
}

# A start with every uplink's carrier cut: after the grace (10 s) with no
# uplink usable, the history has the site offline since the daemon started,
# and closes it when the fibre is back.
t_offline_start() {
	local isp run i n
	stop_daemon TERM || return 1
	for isp in "${LAB_ISPS[@]}"; do
		lab_fault "$PREFIX" carrier "$isp" || return 1
	done
	start_daemon daemon-offline.log || return 1
	run=$(q "SELECT MAX(start_ms) FROM runs")
	for ((i = 0; i < 150; i++)); do
		n=$(q "SELECT COUNT(*) FROM outages WHERE kind = 'site' AND end_ms IS NULL")
		[[ $n == 1 ]] && break
		sleep 0.1
	done
	echo "= site outage: $(q "SELECT start_ms - $run, reason FROM outages WHERE kind = 'site'") (start relative to the run's), after $((i / 10)) s"
	[[ $n == 1 ]] || { echo "no open site outage 15 s after an offline start"; return 1; }
	((i >= 80)) || { echo "written before the grace"; return 1; }
	[[ $(q "SELECT ABS(start_ms - $run) <= 100 AND reason = 'daemon started, no uplink usable' FROM outages WHERE kind = 'site'") == 1 ]] ||
		{ echo "the site outage does not start with the run"; return 1; }
	for isp in "${LAB_ISPS[@]}"; do
		lab_fault "$PREFIX" restore "$isp" || return 1
	done
	wait_until 300 hj "$ALL_UP" || { echo "not all up: $(health_line)"; return 1; }
	[[ $(q "SELECT end_ms IS NOT NULL AND duration_ms = end_ms - start_ms AND duration_ms >= 8000 FROM outages WHERE kind = 'site'") == 1 ]] ||
		{ echo "the site outage is not closed: $(q "SELECT * FROM outages WHERE kind = 'site'")"; return 1; }
}

t_chromium() {
	local png=$WORK/report.png dom=$WORK/report.dom
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--hide-scrollbars --screenshot="$png" --window-size=1200,3000 \
		"file://$WORK/report.html" >"$WORK/chromium.log" 2>&1
	[[ -s "$png" ]] || { echo "no screenshot"; tail -5 "$WORK/chromium.log"; return 1; }
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--dump-dom "file://$WORK/report.html" >"$dom" 2>>"$WORK/chromium.log"
	grep -q '<svg' "$dom" || { echo "no <svg> in the DOM"; return 1; }
	grep -q 'Boulangerie Martin' "$dom" || { echo "no site name in the DOM"; return 1; }
	"$PY" "$ROOT/tests/tools/pngcheck.py" "$png" || return 1
	keep "$png"
}

# ------------------------------------------------------------- the run

echo "# Bascule history and report test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, sqlite3, tidy, chromium" t_prereq sqlite3 tidy "$CHROMIUM" ip nft timeout
setup "lab site up, daemon READY with its history in the work dir, all up, fiber active" t_lab_up
check "fiber carrier cut for 3 s: cell takes over, fiber back; the daemon's events give the outage" t_outage || bail_out "no outage"
check "history: one fiber outage with the events' start, end and length, carried by cell" t_history_rows
check "restart (SIGTERM, start): a clean stop recorded, 2 runs, the outage kept" t_restart
check "SIGKILL and start: the database intact, 3 runs, the outage kept" t_kill
check "three starts with every uplink up: no site outage in the history" t_no_start_outage
check "bascule report (HTML and Markdown) from the live database, 0640, no planted symlink followed" t_report || bail_out "no report"
check "report: the fiber outage with its length to the ms, carried by cell" t_report_outage
check "report: site, contacts, checks, providers, timeline, costs; Markdown the same" t_report_content
check "report's figures recomputed: availability from its own milliseconds, fiber's outage as the events say, backups' yearly cost from the prices (HTML and Markdown)" t_report_figures
check "report: valid HTML (tidy, strict parse, self-contained, SVG well-formed)" t_html_valid
check "headless Chromium: a screenshot that is not blank, a DOM with the SVG" t_chromium
check "a start with every carrier cut: the site offline from the start, written after the 10 s grace, closed when fiber is back" t_offline_start
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone" t_cleanup

summary
((FAILED == 0))
