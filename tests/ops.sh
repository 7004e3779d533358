#!/bin/bash
# tests/ops.sh - Bascule as an operator runs it, on a lab site of its own.
#
# Builds a site (scripts/lab.sh) with the prefix bsc-<pid>-, runs the
# controller on its edge with scripts/lab.conf (probes kept; the pin root and
# the control socket are rewritten and metrics_listen is set), and checks
# what an operator relies on:
#
#  - check-config accepts the shipped files and names file:line of errors;
#  - status / health / events, as text and as JSON;
#  - the control socket refuses users outside root and control_group;
#  - the Prometheus endpoint is valid (promtool) and a real Prometheus,
#    started in the edge namespace, scrapes it;
#  - drain / undrain of an uplink under traffic;
#  - reload (control socket and SIGHUP) under a 1 ms stream, and refused
#    reloads (a bad file, a restart-only change) that leave it running;
#  - SIGKILL under a 1 ms stream, `status` while the daemon is dead, the
#    restart adopting the data plane, failover afterwards;
#  - readiness and the watchdog through $NOTIFY_SOCKET without systemd;
#  - SIGTERM leaves nothing: pins, rules, XDP, the socket.
#
# Run as root from anywhere, after `make` (it uses build/bascule, or
# $BASCULE). Output is TAP-like, "ok N - ..." / "not ok N - ...", then
# "ops: X passed, Y failed"; the exit code is 1 when anything failed.
# Everything it creates (namespaces, daemon, Prometheus, tools, bpffs, the
# work dir) is removed on exit, on failure and on Ctrl-C.

set -uo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsc-$$-
harness_init ops
CTL_DIR=$WORK/ctl
CTL=$CTL_DIR/control.sock
METRICS=127.0.0.1:9901
PROM=127.0.0.1:9090
NOTIFY=$WORK/notify.sock
NOBODY=65534

LAN=(ip netns exec "${PREFIX}lan")
EDGE=(ip netns exec "${PREFIX}edge")
B=(ip netns exec "${PREFIX}edge" "$BASCULE" -p "$PIN" -S "$CTL")
AS_NOBODY=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups)

# Besides the daemon, cleanup stops Prometheus and the notify listener.
PROM_PID=
LISTEN_PID=
stop_tools() {
	stop_pid "$PROM_PID"
	stop_pid "$LISTEN_PID" 10
	PROM_PID='' LISTEN_PID=''
}
CLEANUP_HOOKS+=(stop_tools)

# ------------------------------------------------------------- helpers

ALL_UP='d["active"] == "fiber" and len(d["uplinks"]) == 3 and all(x["health"] == "up" for x in d["uplinks"])'

# Every fault restored, the three uplinks in service and up, fibre active.
known_state() {
	local isp
	for isp in "${LAB_ISPS[@]}"; do
		lab_fault "$PREFIX" restore "$isp" || return 1
		"${B[@]}" uplink up "$isp" >/dev/null || return 1
	done
	"${B[@]}" uplink auto >/dev/null || return 1
	wait_until 300 hj "$ALL_UP" ||
		{ echo "not all up with fiber active within 30 s: $(health_line)"; return 1; }
}

stream_lost() { jf "$(cat "$WORK/$1.json")" 'j["lost"]'; }

# new_flow_uplink PORT: a DNS query from the LAN host bound to source port
# PORT (a flow nobody made before); prints the uplink index `bascule flows`
# shows it on.
new_flow_uplink() {
	local port=$1 ans fl
	ans=$("${LAN[@]}" dig +short +time=2 +tries=1 -b "10.77.0.10#$port" @"$LAB_DNS_IP" bascule.test 2>&1)
	[[ "$ans" == "$LAB_HTTP_IP" ]] || { echo "dig from port $port answered: ${ans:-<nothing>}" >&2; return 1; }
	fl=$("${B[@]}" flows 1000 | grep -E "^udp +10\.77\.0\.10:$port +-> +$LAB_DNS_IP:53 ")
	[[ -n "$fl" ]] || { echo "no flow from 10.77.0.10:$port in \`bascule flows\`" >&2; return 1; }
	echo "$fl" >&2
	sed -n 's/.* via uplink \([0-9]*\) .*/\1/p' <<<"$fl"
}

# Rewrite a key of the [bascule] section or of one uplink section of $CONF.
# conf_set SECTION KEY VALUE, SECTION "bascule" or "uplink NAME".
conf_set() {
	"$PY" - "$CONF" "$1" "$2" "$3" <<-'EOF'
		import re, sys
		path, section, key, value = sys.argv[1:]
		out, cur, done = [], None, False
		for line in open(path):
		    m = re.match(r"\s*\[(.*)\]", line)
		    if m:
		        cur = m.group(1).strip()
		    elif cur == section and re.match(r"\s*%s\s*=" % re.escape(key), line):
		        line = "%s = %s\n" % (key, value)
		        done = True
		    out.append(line)
		if not done:
		    sys.exit("no %s in [%s] of %s" % (key, section, path))
		open(path, "w").writelines(out)
	EOF
}

# line_of KEY VALUE: the line number of "KEY = VALUE" in $CONF.
line_of() { grep -n "^$1 *= *$2\$" "$CONF" | cut -d: -f1 | head -n 1; }

metrics_get() { # FILE: fetch /metrics into FILE, print the HTTP status
	"${EDGE[@]}" curl -s --max-time 5 -o "$1" -w '%{http_code}' "http://$METRICS/metrics"
}

# ------------------------------------------------------------- checks

t_check_config() {
	local f o rc bad=$WORK/broken.conf gl kl
	for f in "$ROOT/scripts/lab.conf" "$ROOT/scripts/bascule.conf.example"; do
		o=$("$BASCULE" check-config "$f" 2>&1)
		rc=$?
		echo "= check-config $(basename "$f"): exit $rc: $o"
		((rc == 0)) || return 1
	done
	# Two mistakes at once: a gateway that is no address, a misspelt key.
	cp "$ROOT/scripts/lab.conf" "$bad" || return 1
	sed -i -e '0,/^gateway = 192.0.2.1$/s//gateway = 192.0.2.300/' \
		-e '0,/^priority = 20$/s//prio = 20/' "$bad"
	gl=$(grep -n '^gateway = 192.0.2.300$' "$bad" | cut -d: -f1)
	kl=$(grep -n '^prio = 20$' "$bad" | cut -d: -f1)
	[[ -n "$gl" && -n "$kl" ]] || { echo "could not break the copy"; return 1; }
	"$BASCULE" check-config "$bad" >"$WORK/cc.out" 2>"$WORK/cc.err"
	rc=$?
	echo "= broken copy: exit $rc; stderr:"
	sed 's/^/=   /' "$WORK/cc.err"
	((rc == 2)) || { echo "exit $rc, expected 2"; return 1; }
	grep -q "^$bad:$gl: .*gateway.*192\.0\.2\.300" "$WORK/cc.err" ||
		{ echo "no '$bad:$gl: ... gateway' error on stderr"; return 1; }
	grep -q "^$bad:$kl: .*unknown key 'prio'" "$WORK/cc.err" ||
		{ echo "no '$bad:$kl: unknown key' error on stderr"; return 1; }
	[[ ! -s "$WORK/cc.out" ]] || { echo "stdout not empty: $(cat "$WORK/cc.out")"; return 1; }
}

t_lab_up() {
	site_up || return 1
	# scripts/lab.conf with its probes; only where it pins, its control
	# socket (in a directory the daemon creates), and metrics on the edge's
	# own loopback.
	lab_conf "s#^\[bascule\]#&\nmetrics_listen = $METRICS#" || return 1
	grep -q "^metrics_listen = $METRICS\$" "$CONF" || { echo "metrics_listen not added"; return 1; }
	[[ "$(grep -c '^probe *=' "$CONF")" -ge 3 ]] || { echo "no probes in $CONF"; return 1; }
	[[ "$(sed -n 's/^failback_hold_ms *= *//p' "$CONF")" == 3000 ]] ||
		{ echo "expected failback_hold_ms = 3000 in scripts/lab.conf"; return 1; }
	"$BASCULE" check-config "$CONF" || return 1
	# Other users may pass through the work dir (for the socket checks);
	# the control directory in it is the daemon's to protect.
	chmod 0711 "$WORK"
}

t_daemon_ready() {
	start_daemon daemon.log || return 1
	wait_until 30 hj "$ALL_UP" || { echo "not all up with fiber active 3 s after READY: $(health_line)"; return 1; }
	echo "= $(health_line) ${WAITED} s after READY"
}

t_status_text() {
	local o hdr row
	o=$("${B[@]}" status) || { echo "status failed: $o"; return 1; }
	echo "$o" | sed 's/^/=   /'
	grep -q '^daemon: running' <<<"$o" || { echo "status does not say the daemon is running"; return 1; }
	hdr=$(grep '^UPLINK ' <<<"$o")
	[[ "$hdr" =~ [[:space:]]STATE[[:space:]] && "$hdr" =~ [[:space:]]HEALTH[[:space:]] && "$hdr" =~ [[:space:]]ACTIVE[[:space:]] ]] ||
		{ echo "no STATE / HEALTH / ACTIVE columns: $hdr"; return 1; }
	for row in "fiber wan0 up up" "cell wan1 up up" "sat wan2 up up"; do
		awk -v want="$row" '$1 " " $2 " " $3 " " $4 == want { f = 1 } END { exit !f }' <<<"$o" ||
			{ echo "no row '$row ...'"; return 1; }
	done
	# ACTIVE is the sixth column, "*" on fiber only.
	awk '$1 == "fiber" && $6 == "*" { f = 1 } END { exit !f }' <<<"$o" || { echo "fiber not marked *"; return 1; }
	[[ $(grep -Ec '^(cell|sat) .* \* ' <<<"$o") == 0 ]] || { echo "another uplink is marked *"; return 1; }
}

t_status_json() {
	local js
	js=$("${B[@]}" status --json) || return 1
	"$PY" - "$js" <<-'EOF'
		import json, sys
		d = json.loads(sys.argv[1])
		assert d["daemon_running"] is True, "daemon_running is %r" % d["daemon_running"]
		u = {x["name"]: x for x in d["uplinks"]}
		assert sorted(u) == ["cell", "fiber", "sat"], "uplinks %s" % sorted(u)
		for n, x in u.items():
		    for k in ("name", "state", "active", "flows", "nat_port_use_ratio", "health"):
		        assert k in x, "uplink %s has no %s" % (n, k)
		    assert x["state"] == "up", "%s state %s" % (n, x["state"])
		    assert isinstance(x["flows"], int) and isinstance(x["nat_port_use_ratio"], (int, float))
		    h = x["health"]
		    assert isinstance(h, dict), "%s health is not an object" % n
		    assert h["health"] == "up", "%s health %s" % (n, h["health"])
		    assert isinstance(h["rtt_ms"], (int, float)) and not isinstance(h["rtt_ms"], bool), \
		        "%s rtt_ms %r" % (n, h["rtt_ms"])
		assert [n for n, x in u.items() if x["active"]] == ["fiber"], "active: %s" % [n for n, x in u.items() if x["active"]]
		print("= status --json: " + ", ".join("%s %s%s health %s rtt %.2f ms" % (n, x["state"], "*" if x["active"] else "", x["health"]["health"], x["health"]["rtt_ms"]) for n, x in u.items()))
	EOF
}

t_health_events_json() {
	local h e et
	h=$("${B[@]}" health --json) || return 1
	e=$("${B[@]}" events --json) || return 1
	et=$("${B[@]}" events) || return 1
	"$PY" - "$h" "$e" <<-'EOF' || return 1
		import json, sys
		h = json.loads(sys.argv[1])
		e = json.loads(sys.argv[2])
		assert h["active"] == "fiber", "active %s" % h["active"]
		assert [x["name"] for x in h["uplinks"]] == ["fiber", "cell", "sat"]
		for x in h["uplinks"]:
		    for k in ("health", "since_s", "reason", "rtt_ms", "jitter_ms", "loss_pct", "probes", "held", "carrier"):
		        assert k in x, "health of %s has no %s" % (x["name"], k)
		    assert x["health"] == "up" and x["carrier"] is True and x["held"] is False, x
		assert isinstance(e, list) and e, "events: %r" % e
		for x in e:
		    assert set(x) >= {"time", "kind", "uplink", "old", "new", "reason"}, x
		    assert isinstance(x["time"], float), x
		up = [x for x in e if x["kind"] == "uplink" and x["uplink"] == "fiber" and x["old"] == "unknown" and x["new"] == "up"]
		act = [x for x in e if x["kind"] == "active" and x["new"] == "fiber"]
		assert up, "no fiber unknown -> up event"
		assert act, "no active -> fiber event"
		print("= health --json: %d uplinks; events --json: %d events, fiber unknown -> up (%s)" % (len(h["uplinks"]), len(e), up[0]["reason"]))
	EOF
	echo "$et" | sed 's/^/=   /'
	grep -qE '^TIME +KIND +UPLINK +FROM +TO +REASON' <<<"$et" || { echo "no header in \`events\`"; return 1; }
	grep -qE ' uplink +fiber +unknown +-> +up ' <<<"$et" || { echo "no 'fiber unknown -> up' line in \`events\`"; return 1; }
}

t_socket_modes() {
	local s d
	s=$(stat -c '%A %U %G' "$CTL") || return 1
	d=$(stat -c '%a %U %G' "$CTL_DIR") || return 1
	echo "= $CTL: $s; $CTL_DIR: $d"
	[[ -S "$CTL" && "$s" == "srw-rw---- root root" ]] || { echo "socket is '$s', expected srw-rw---- root root"; return 1; }
	[[ "$d" == "750 root root" ]] || { echo "directory is '$d', expected 750 root root"; return 1; }
}

# A user outside root and control_group gets EACCES, and for no other reason:
# it can run the binary and reach the work dir; only the control directory
# (0750) and the socket (0660) keep it out. Both are tested: the socket's own
# mode with the directory opened up for a moment.
t_socket_access() {
	local o rc
	o=$("${EDGE[@]}" "${AS_NOBODY[@]}" "$BASCULE" --help 2>&1) ||
		{ echo "uid $NOBODY cannot run $BASCULE: $o"; return 1; }
	"${EDGE[@]}" "${AS_NOBODY[@]}" stat "$WORK" >/dev/null || { echo "uid $NOBODY cannot reach $WORK"; return 1; }
	o=$("${EDGE[@]}" "${AS_NOBODY[@]}" "$BASCULE" -S "$CTL" events 2>&1)
	rc=$?
	echo "= uid $NOBODY, no groups: exit $rc: $o"
	if ((rc == 0)) || ! grep -q "Permission denied" <<<"$o"; then
		echo "expected a failure with 'Permission denied'"
		return 1
	fi

	chmod 0755 "$CTL_DIR" || return 1
	o=$("${EDGE[@]}" "${AS_NOBODY[@]}" "$BASCULE" -S "$CTL" events 2>&1)
	rc=$?
	chmod 0750 "$CTL_DIR" || return 1
	echo "= same with $CTL_DIR opened to 0755 (the socket's own 0660 alone): exit $rc: $o"
	if ((rc == 0)) || ! grep -q "Permission denied" <<<"$o"; then
		echo "the socket file itself let uid $NOBODY in"
		return 1
	fi

	# The socket's group (root, as control_group is unset) is let in.
	o=$("${EDGE[@]}" setpriv --reuid="$NOBODY" --regid="$NOBODY" --groups=0 "$BASCULE" -S "$CTL" events --json 2>&1)
	rc=$?
	echo "= uid $NOBODY with supplementary group 0 (the socket's group): exit $rc"
	if ((rc != 0)) || [[ "$(jf "$o" 'len(j) > 0')" != True ]]; then
		echo "a member of the socket's group was refused: $o"
		return 1
	fi

	o=$("${B[@]}" events --json 2>&1) || { echo "root was refused: $o"; return 1; }
	echo "= root: exit 0, $(jf "$o" 'len(j)') events"
}

t_metrics_endpoint() {
	local code f=$WORK/metrics.txt o
	code=$(metrics_get "$f")
	echo "= GET http://$METRICS/metrics in the edge namespace: HTTP $code, $(wc -l <"$f") lines"
	[[ "$code" == 200 ]] || return 1
	o=$(promtool check metrics <"$f" 2>&1) || { echo "promtool check metrics rejects it:"; echo "$o"; return 1; }
	echo "= promtool check metrics: ok${o:+ ($o)}"
	grep -qx 'bascule_uplink_up{uplink="fiber"} 1' "$f" || { echo "no 'bascule_uplink_up{uplink=\"fiber\"} 1':"; grep bascule_uplink_up "$f"; return 1; }
	grep -qx 'bascule_uplink_active{uplink="fiber"} 1' "$f" || { echo "no 'bascule_uplink_active{uplink=\"fiber\"} 1':"; grep bascule_uplink_active "$f"; return 1; }
	grep -qx 'bascule_uplink_active{uplink="cell"} 0' "$f" || { echo "cell not 'bascule_uplink_active 0'"; return 1; }
}

# Idle clients cannot hold the metrics endpoint: at most 4 connections from
# one address, each closed after 2 s without a request; a scrape works once
# they are gone. And the control socket: an unknown request comes back
# escaped in valid JSON, whatever it holds.
t_idle_clients() {
	local o code f=$WORK/metrics-after.txt
	o=$("${EDGE[@]}" "$PY" - "${METRICS%:*}" "${METRICS##*:}" "$CTL" <<-'EOF'
		import json, socket, sys, time
		host, port, ctl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		idle = [socket.create_connection((host, port)) for _ in range(8)]
		t0 = time.monotonic()
		closed = []
		for s in idle:
		    s.settimeout(6)
		    try:
		        closed.append(s.recv(1) == b"")
		    except (ConnectionResetError, socket.timeout):
		        closed.append(isinstance(sys.exc_info()[1], ConnectionResetError))
		    s.close()
		took = time.monotonic() - t0
		c = socket.socket(socket.AF_UNIX)
		c.connect(ctl)
		c.sendall(b'he said "hi"\\ \t\n')
		reply = b""
		while True:
		    b = c.recv(4096)
		    if not b:
		        break
		    reply += b
		err = json.loads(reply)["error"]
		print("= 8 idle connections to the metrics: %d closed by the server within %.1f s" % (sum(closed), took))
		print("= unknown request answered with valid JSON: %s" % err)
		sys.exit(0 if all(closed) and took < 5 and 'he said "hi"\\' in err else 1)
	EOF
	) || { echo "$o"; return 1; }
	echo "$o"
	code=$(metrics_get "$f")
	echo "= then a scrape: HTTP $code"
	[[ "$code" == 200 ]]
}

t_prometheus() {
	local i q code
	mkdir -p "$WORK/tsdb" || return 1
	cat >"$WORK/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  evaluation_interval: 1s
		scrape_configs:
		  - job_name: bascule
		    static_configs:
		      - targets: ['$METRICS']
	EOF
	promtool check config "$WORK/prometheus.yml" >/dev/null || { echo "promtool rejects our prometheus.yml"; return 1; }
	"${EDGE[@]}" /usr/bin/prometheus --config.file="$WORK/prometheus.yml" \
		--storage.tsdb.path="$WORK/tsdb" --web.listen-address="$PROM" \
		>"$WORK/prometheus.log" 2>&1 </dev/null &
	PROM_PID=$!
	for i in $(seq 200); do
		kill -0 "$PROM_PID" 2>/dev/null || { echo "prometheus exited:"; tail -n 10 "$WORK/prometheus.log"; PROM_PID=; return 1; }
		q=$("${EDGE[@]}" curl -s --max-time 2 "http://$PROM/api/v1/query?query=bascule_uplink_up" 2>/dev/null)
		if [[ -n "$q" ]] && [[ "$(jf "$q" '(lambda r: len(j["data"]["result"]) == 3 and sorted(r) == ["cell", "fiber", "sat"] and r["fiber"] == "1")({x["metric"].get("uplink"): x["value"][1] for x in j["data"]["result"] if x["metric"].get("job") == "bascule"})' 2>/dev/null)" == True ]]; then
			break
		fi
		q=
		sleep 0.1
	done
	[[ -n "$q" ]] || { echo "no 3 series of bascule_uplink_up with fiber = 1 in Prometheus within 20 s; last answer:"; "${EDGE[@]}" curl -s "http://$PROM/api/v1/query?query=bascule_uplink_up"; echo; tail -n 5 "$WORK/prometheus.log"; return 1; }
	echo "= Prometheus scraped it $((i / 10)).$((i % 10)) s after start: $(jf "$q" '", ".join("%s=%s" % (x["metric"]["uplink"], x["value"][1]) for x in j["data"]["result"])')"
	code=$("${EDGE[@]}" curl -s --max-time 2 "http://$PROM/api/v1/query?query=up%7Bjob%3D%22bascule%22%7D")
	echo "= up{job=\"bascule\"}: $(jf "$code" 'j["data"]["result"][0]["value"][1]')"
}

# Drain: no new flows on fiber, the ones there stay. Undrain (= `uplink up`):
# fiber takes new flows again. Draining is an operator's word, not a health
# fact: fiber stays "up" in health all along, its healthy_since does not
# move, so no failback hold applies on undrain: the daemon, which gets the
# operator's word over its socket and owns the decision, re-selects fiber at
# once.
t_drain() {
	local o up st pf pc
	known_state || return 1
	stream_go drain || return 1
	o=$("${B[@]}" uplink drain fiber) || { echo "uplink drain fiber failed: $o"; return 1; }
	echo "= uplink drain fiber: $o"
	grep -q "operator: uplink drain fiber" "$DAEMON_LOG" ||
		{ echo "the daemon did not get the operator's word (no 'operator: uplink drain fiber' in its log)"; return 1; }
	wait_until 50 sj 'u["fiber"]["state"] == "drained" and u["cell"]["active"]' ||
		{ echo "fiber not drained with cell active 5 s after the drain"; return 1; }
	pc=$((20000 + RANDOM % 10000))
	up=$(new_flow_uplink "$pc") || return 1
	echo "= a new DNS flow (port $pc) during the drain went via uplink $up"
	st=$(sj '"%s %s %s" % (u["fiber"]["state"], u["fiber"]["health"]["health"], ",".join(x["name"] for x in d["uplinks"] if x["active"]))') || return 1
	echo "= status --json: fiber state, fiber health, active = $st"
	stream_flowing 500 # still through fiber
	stream_stop drain || return 1
	flow_path drain "${LAB_ISP_EDGE_IP[fiber]}" || return 1
	[[ "$up" == 1 ]] || { echo "the new flow went via uplink $up, not 1 (cell)"; return 1; }
	[[ "$st" == "drained up cell" ]] || { echo "expected 'drained up cell'"; return 1; }
	jf "$(cat "$WORK/drain.json")" 'j["lost"] * 100 <= j["sent"]' | grep -qx True || { echo "the stream lost more than 1 %"; return 1; }

	o=$("${B[@]}" uplink undrain fiber) || { echo "uplink undrain fiber failed: $o"; return 1; }
	echo "= uplink undrain fiber: $o"
	[[ "$o" == *"active uplink: fiber"* ]] || { echo "fiber not active again at once"; return 1; }
	pf=$((30000 + RANDOM % 10000))
	up=$(new_flow_uplink "$pf") || return 1
	echo "= a new DNS flow (port $pf) right after the undrain went via uplink $up"
	[[ "$up" == 0 ]] || { echo "expected uplink 0 (fiber)"; return 1; }
	# ... and the daemon keeps it so (it does not go back to cell).
	sleep 1.5
	st=$(sj '"%s %s" % (u["fiber"]["state"], ",".join(x["name"] for x in d["uplinks"] if x["active"]))') || return 1
	echo "= 1.5 s later: fiber state, active = $st"
	[[ "$st" == "up fiber" ]]
}

# A reload under a 1 ms stream: "reloaded", nothing lost, a config event.
# An observable change: cell and sat swap priorities and sat gets a fourth
# probe. The reload must apply both (the maps' priorities, the new probe
# sent and answered through sat) under a stream that loses nothing; then the
# file before it is reloaded, and the priorities are back.
NEW_PROBE="dns 203.0.113.53 bascule.test"
prio_is() { sj "(u['cell']['priority'], u['sat']['priority']) == ($1, $2)"; }
t_reload_ok() {
	local t0 o rc
	known_state || return 1
	cp "$CONF" "$WORK/before-reload.conf" || return 1
	conf_set bascule failback_hold_ms 2500 || return 1
	conf_set "uplink sat" timeout_ms 450 || return 1
	conf_set "uplink cell" priority 30 || return 1
	conf_set "uplink sat" priority 20 || return 1
	sed -i "/^\[uplink sat\]/a probe = $NEW_PROBE" "$CONF" || return 1
	"$BASCULE" check-config "$CONF" >/dev/null || return 1
	[[ "$(prio_is 20 30)" == True ]] || { echo "cell and sat do not start at 20 and 30"; return 1; }
	[[ "$(hj 'len(u["sat"]["targets"])')" == 3 ]] || { echo "sat does not start with 3 probes"; return 1; }
	stream_go reload || return 1
	t0=$(now)
	o=$("${B[@]}" reload 2>&1)
	rc=$?
	echo "= bascule reload: exit $rc: $o"
	stream_flowing 500 # after the reload
	stream_stop reload || return 1
	if ((rc != 0)) || [[ "$o" != reloaded* ]]; then
		echo "expected 'reloaded ...' and exit 0"
		return 1
	fi
	[[ "$(stream_lost reload)" == 0 ]] || { echo "the stream lost datagrams across the reload"; return 1; }
	ev_lines "$t0"
	[[ "$(ev "$t0" 'len(cfg) == 1 and cfg[0]["new"] == "reloaded"')" == True ]] || { echo "no config reload event"; return 1; }
	flow_path reload "${LAB_ISP_EDGE_IP[fiber]}" || return 1
	echo "= after the reload: priorities cell, sat = $(sj '(u["cell"]["priority"], u["sat"]["priority"])')"
	[[ "$(prio_is 30 20)" == True ]] || { echo "the reload did not swap cell's and sat's priorities in the maps"; return 1; }
	wait_until 50 hj "any(t['probe'] == '$NEW_PROBE' and t['answering'] for t in u['sat']['targets'])" ||
		{ echo "sat's new probe '$NEW_PROBE' is not answered 5 s after the reload: $(hj 'u["sat"]["targets"]')"; return 1; }
	echo "= sat's new probe answered ${WAITED} s after the reload ($(hj 'len(u["sat"]["targets"])') probes)"
	cp "$WORK/before-reload.conf" "$CONF" || return 1
	o=$("${B[@]}" reload 2>&1) || { echo "reload of the file before failed: $o"; return 1; }
	[[ "$(prio_is 20 30)" == True ]] || { echo "reloading the file before did not give cell and sat back 20 and 30"; return 1; }
	[[ "$(hj 'len(u["sat"]["targets"])')" == 3 ]] || { echo "sat still has its fourth probe"; return 1; }
}

# refused_reload WHAT: $CONF is broken; the reload must be refused (exit
# non-zero, "refused" and MATCH in its answer), the daemon left running and
# forwarding with no config event. Then $CONF is restored from $CONF.good.
refused_reload() {
	local match=$1 t0 o rc p
	t0=$(now)
	o=$("${B[@]}" reload 2>&1)
	rc=$?
	cp "$CONF.good" "$CONF"
	echo "= bascule reload: exit $rc:"
	sed 's/^/=   /' <<<"$o"
	((rc != 0)) || { echo "exit 0 for a refused reload"; return 1; }
	grep -q "refused" <<<"$o" || { echo "no 'refused' in the answer"; return 1; }
	grep -qE -- "$match" <<<"$o" || { echo "the answer does not match: $match"; return 1; }
	daemon_alive || { echo "the daemon died"; return 1; }
	p=$("${LAN[@]}" ping -n -c 3 -i 0.2 -W 2 "${LAB_TARGETS[0]}" 2>&1)
	echo "= ping from lan: $(grep 'packets transmitted' <<<"$p")"
	grep -q '3 packets transmitted, 3 received' <<<"$p" || return 1
	[[ "$(ev "$t0" 'len(cfg)')" == 0 ]] || { echo "config events after a refused reload:"; ev_lines "$t0"; return 1; }
	[[ "$(hj "$ALL_UP")" == True ]] || { echo "not all up with fiber active: $(health_line)"; return 1; }
}

t_reload_bad_file() {
	local l
	cp "$CONF" "$CONF.good" || return 1
	conf_set "uplink fiber" gateway 300.1.1.1 || return 1
	l=$(line_of gateway 300.1.1.1)
	refused_reload "^$CONF:$l: .*gateway.*300\.1\.1\.1"
}

t_reload_restart_only() {
	cp "$CONF" "$CONF.good" || return 1
	conf_set "uplink sat" interface wan9 || return 1
	"$BASCULE" check-config "$CONF" >/dev/null || { echo "the changed file should be valid in itself"; return 1; }
	refused_reload "needs a restart"
}

# The history file, the metrics address and the control socket's group are
# taken once, at start: a reload that changes them is refused by name, not
# silently half-applied.
t_reload_history_metrics() {
	cp "$CONF" "$CONF.good" || return 1
	conf_set bascule history "$WORK/other-history.db" || return 1
	refused_reload "history changed: that needs a restart" || return 1
	conf_set bascule metrics_listen 127.0.0.1:9 || return 1
	refused_reload "metrics_listen changed: that needs a restart" || return 1
	# the socket's group is given when it is made: a new one is refused,
	# not taken silently while the old group keeps its access
	sed -i 's/^\[bascule\]/&\ncontrol_group = root/' "$CONF" || return 1
	refused_reload "control_group changed: that needs a restart" || return 1
	[[ ! -e "$WORK/other-history.db" ]] || { echo "the refused reload created the new history file"; return 1; }
}

# SIGHUP reloads: cell's priority 20 -> 25 reaches the maps, then back.
t_sighup() {
	local t0 p
	for p in 25 20; do
		conf_set "uplink cell" priority "$p" || return 1
		t0=$(now)
		kill -HUP "$DAEMON_PID" || return 1
		wait_until 50 sj "u['cell']['priority'] == $p" ||
			{ echo "cell's priority is not $p 5 s after SIGHUP: $(sj 'u["cell"]["priority"]')"; return 1; }
		echo "= SIGHUP: cell's priority $p after ${WAITED} s"
		ev_lines "$t0"
		daemon_alive || { echo "the daemon died on SIGHUP"; return 1; }
		[[ "$(ev "$t0" 'len(cfg) == 1 and cfg[0]["new"] == "reloaded"')" == True ]] ||
			{ echo "no config reload event after SIGHUP"; return 1; }
	done
	grep -q "config -: - -> reloaded" "$DAEMON_LOG" || { echo "no reload in the daemon's log"; return 1; }
}

# scraped_prio FILE P: one of the last 3 scrapes in FILE saw cell's priority P.
scraped_prio() { tail -n 3 "$1" | grep -q "\"prio\": \[\"$2\"\]}\$"; }

# Scrapes while the configuration is reloaded under them: three scrapers
# in the edge namespace (the endpoint takes 4 connections per address)
# fetch /metrics back to back while cell's priority is reloaded 20 <-> 25
# twenty times. Every scrape is answered 200 with the three uplinks' series
# and one cell priority, 20 or 25 (the metrics thread reads a snapshot
# taken under a lock, never the configuration being replaced); every reload
# is taken and seen by a scrape within 5 s.
t_scrapes_during_reloads() {
	local i p o rc=0 f=$WORK/scrapes.jsonl stop=$WORK/scrapes.stop pid
	rm -f "$f" "$stop"
	"${EDGE[@]}" "$PY" - "http://$METRICS/metrics" "$stop" "$f" 3 <<-'EOF' &
		import json, os, re, sys, threading, urllib.request
		url, stop, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
		lock, f = threading.Lock(), open(out, "a", buffering=1)
		def scrape(k):
		    while not os.path.exists(stop):
		        try:
		            with urllib.request.urlopen(url, timeout=5) as r:
		                code, body = r.status, r.read().decode()
		        except Exception as e:
		            code, body = repr(e), ""
		        row = {"k": k, "code": code,
		               "up": sorted(re.findall(r'^bascule_uplink_up\{uplink="(\w+)"\} [01]$', body, re.M)),
		               "prio": re.findall(r'^bascule_uplink_priority\{uplink="cell"\} (\d+)$', body, re.M)}
		        with lock:
		            f.write(json.dumps(row) + "\n")
		ts = [threading.Thread(target=scrape, args=(k,)) for k in range(n)]
		for t in ts: t.start()
		for t in ts: t.join()
	EOF
	pid=$!
	for i in $(seq 1 20); do
		p=$((i % 2 ? 25 : 20))
		conf_set "uplink cell" priority "$p" || { rc=1; break; }
		o=$(bsc reload 2>&1) && grep -q "^reloaded" <<<"$o" || { echo "reload $i: $o"; rc=1; break; }
		wait_for 50 scraped_prio "$f" "$p" ||
			{ echo "reload $i (cell priority $p) not seen by a scrape within 5 s"; rc=1; break; }
	done
	touch "$stop"
	wait_gone "$pid" 100 || { echo "the scrapers did not stop"; stop_pid "$pid"; rc=1; }
	conf_set "uplink cell" priority 20 && bsc reload >/dev/null || rc=1
	((rc == 0)) || return 1
	"$PY" - "$f" <<-'EOF' || return 1
		import json, sys
		rows = [json.loads(l) for l in open(sys.argv[1])]
		bad = [r for r in rows if r["code"] != 200 or r["up"] != ["cell", "fiber", "sat"] or r["prio"] not in (["20"], ["25"])]
		per = [sum(r["k"] == k for r in rows) for k in range(3)]
		seen = sorted({r["prio"][0] for r in rows if r["prio"]})
		print("= %d scrapes (%s per scraper) during 20 reloads; cell's priority seen: %s; %d bad" % (len(rows), "/".join(map(str, per)), " ".join(seen), len(bad)))
		for r in bad[:5]: print("=   bad:", r)
		sys.exit(bool(bad) or min(per) < 20 or seen != ["20", "25"])
	EOF
	daemon_alive || { echo "the daemon died"; return 1; }
}

# SIGKILL under a 1 ms stream: the data plane goes on alone; `status` says
# the daemon is not running and still shows the maps; a restart adopts it.
t_kill() {
	local o js nd sd ud
	known_state || return 1
	stream_go kill || return 1
	stop_daemon KILL || return 1
	o=$("${B[@]}" status 2>&1) || { echo "status failed with the daemon dead: $o"; return 1; }
	echo "$o" | sed 's/^/=   /'
	js=$("${B[@]}" status --json) || return 1
	# no daemon: the CLI applies the operator's word to the pinned maps
	# itself, and says so
	nd=$("${B[@]}" uplink drain sat 2>&1) || { echo "uplink drain sat with no daemon failed: $nd"; return 1; }
	echo "= uplink drain sat, no daemon: $nd"
	sd=$(sj 'u["sat"]["state"]') || return 1
	start_daemon daemon-restarted.log || return 1
	stream_flowing 500 # with the daemon back
	ud=$("${B[@]}" uplink up sat 2>&1) || { echo "uplink up sat failed: $ud"; return 1; }
	echo "= uplink up sat, daemon back: $ud"
	stream_stop kill || return 1
	[[ "$nd" == *"no daemon at"*"applied to the pinned maps"* && "$sd" == drained ]] ||
		{ echo "with no daemon, 'uplink drain sat' did not drain sat in the maps (state $sd)"; return 1; }
	[[ "$ud" != *"no daemon"* ]] && grep -q "operator: uplink up sat" "$DAEMON_LOG" ||
		{ echo "with the daemon back, 'uplink up sat' did not go to it"; return 1; }
	grep -q '^daemon: NOT running' <<<"$o" || { echo "status did not say the daemon is NOT running"; return 1; }
	awk '$1 == "fiber" && $3 == "up" && $6 == "*" { f = 1 } END { exit !f }' <<<"$o" ||
		{ echo "status does not show fiber up and active from the maps"; return 1; }
	[[ "$(jf "$js" 'j["daemon_running"] is False and len(j["uplinks"]) == 3 and j["flows"] >= 1 and all("health" not in x for x in j["uplinks"])')" == True ]] ||
		{ echo "status --json while dead: $js"; return 1; }
	[[ "$(stream_lost kill)" == 0 ]] || { echo "the stream lost datagrams across SIGKILL and restart"; return 1; }
	flow_path kill "${LAB_ISP_EDGE_IP[fiber]}"
}

t_adopted() {
	local fl code
	grep "adopted running link" "$DAEMON_LOG" | sed 's/^/=   /'
	[[ $(grep -c "adopted running link" "$DAEMON_LOG") == 4 ]] || { echo "not 4 links adopted (lan0 wan0 wan1 wan2)"; return 1; }
	fl=$("${B[@]}" flows 1000 | grep -E " -> +$LAB_UDPECHO_IP:$LAB_UDPECHO_PORT ")
	echo "$fl" | sed 's/^/= flow: /'
	[[ -n "$fl" ]] || { echo "the stream's flow is not in \`bascule flows\`"; return 1; }
	[[ "$(sj 'd["daemon_running"] and d["flows"] >= 1 and u["fiber"]["flows"] >= 1')" == True ]] ||
		{ echo "status --json does not show the flows"; return 1; }
	code=$(metrics_get "$WORK/metrics2.txt")
	echo "= metrics after the restart: HTTP $code"
	[[ "$code" == 200 ]] || { echo "the restarted daemon does not serve metrics:"; grep -i metrics "$DAEMON_LOG"; return 1; }
}

# Through the adopted maps: the restarted daemon must move traffic, not only
# its state flags. A stream running before the fault goes fiber -> cell as one
# flow, and a new flow during the fault is bound to cell.
t_failover_after_restart() {
	local t0 up pc
	known_state || return 1
	stream_go restartfo || return 1
	t0=$(now)
	lab_fault "$PREFIX" blackhole fiber || return 1
	if ! wait_until 50 hj 'd["active"] == "cell" and u["fiber"]["health"] == "down"'; then
		echo "cell not active 5 s after blackholing fiber: $(health_line)"
		stream_stop restartfo
		lab_fault "$PREFIX" restore fiber
		return 1
	fi
	echo "= fiber blackholed: $(health_line) after ${WAITED} s"
	stream_flowing 500 # through cell
	pc=$((40000 + RANDOM % 10000))
	up=$(new_flow_uplink "$pc")
	echo "= a new DNS flow (port $pc) during the fault went via uplink ${up:-none}"
	stream_stop restartfo || { lab_fault "$PREFIX" restore fiber; return 1; }
	ev_lines "$t0"
	known_state || return 1
	echo "= restored: $(health_line)"
	[[ "$up" == 1 ]] || { echo "the new flow is not on uplink 1 (cell)"; return 1; }
	flow_path restartfo "${LAB_ISP_EDGE_IP[fiber]}" "${LAB_ISP_EDGE_IP[cell]}"
}

# The documented upgrade (docs/operations.md, "Upgrade without cutting the
# site off"): a daemon run with --keep stops and leaves the data plane
# pinned and forwarding; the next one adopts the same links and swaps its
# freshly loaded programs into them (bpf_link_update: atomic). A 1 ms
# stream across the stop, the time with no daemon and the start loses
# nothing; the links keep their ids, the programs in them are new. (The
# same binary stands in for the new version: its programs are loaded anew
# all the same.) The plain daemon is back at the end.
link_progs() {
	local ifc
	for ifc in lan0 wan0 wan1 wan2; do
		bpftool -j link show pinned "$PIN/link_$ifc" |
			"$PY" -c 'import json, sys; l = json.load(sys.stdin); print("%s:%d:%d" % (sys.argv[1], l["id"], l["prog_id"]))' "$ifc" ||
			return 1
	done
}
t_upgrade() {
	local before after links
	known_state || return 1
	stop_daemon TERM || return 1 # the plain one detaches: no stream yet
	RUN_ARGS=(--keep)
	start_daemon daemon-keep.log || { RUN_ARGS=(); return 1; }
	wait_until 300 hj "$ALL_UP" || { RUN_ARGS=(); echo "not all up: $(health_line)"; return 1; }
	before=$(link_progs | tr "\n" " ") && [[ -n "$before" ]] || { RUN_ARGS=(); return 1; }
	stream_go upgrade || { RUN_ARGS=(); return 1; }
	stop_daemon TERM || { RUN_ARGS=(); stream_stop upgrade; return 1; }
	links=("$PIN"/link_*)
	echo "= --keep daemon: exit $DAEMON_RC; pinned: ${#links[@]} link(s)"
	stream_flowing 300 || { RUN_ARGS=(); stream_stop upgrade; return 1; } # no daemon
	start_daemon daemon-upgraded.log || { RUN_ARGS=(); stream_stop upgrade; return 1; }
	RUN_ARGS=()
	stream_flowing 300
	stream_stop upgrade || return 1
	after=$(link_progs | tr "\n" " ") && [[ -n "$after" ]] || return 1
	echo "= links (interface:link id:program id) before: $before"
	echo "= after: $after"
	((DAEMON_RC == 0)) || { echo "the --keep daemon exited with $DAEMON_RC"; return 1; }
	[[ "$(stream_lost upgrade)" == 0 ]] || { echo "the stream lost datagrams across the upgrade"; return 1; }
	[[ $(grep -c "adopted running link" "$DAEMON_LOG") == 4 ]] || { echo "the new daemon did not adopt the 4 links"; return 1; }
	"$PY" - "$before" "$after" <<-'EOF' || return 1
		import sys
		b, a = ([x.split(":") for x in s.split()] for s in sys.argv[1:])
		if len(b) != 4 or len(a) != 4:
		    sys.exit("not the 4 pinned links each time")
		if [x[:2] for x in b] != [x[:2] for x in a]:
		    sys.exit("the links changed: not adopted")
		if any(x[2] == y[2] for x, y in zip(b, a)):
		    sys.exit("a link still runs its old program")
	EOF
	# the plain daemon again, for what follows
	stop_daemon TERM && start_daemon daemon-plain.log && wait_until 300 hj "$ALL_UP"
}

t_sigterm_plain() {
	stop_daemon TERM || return 1
	((DAEMON_RC == 0))
}

# Readiness and the watchdog, systemd's way, without systemd.
t_notify() {
	local n r gap i
	rm -f "$WORK/notify.log" "$WORK/notify.ready"
	"${EDGE[@]}" "$PY" "$TOOLS/notifylisten.py" "$NOTIFY" --log "$WORK/notify.log" \
		--ready "$WORK/notify.ready" >"$WORK/notifylisten.out" 2>&1 &
	LISTEN_PID=$!
	wait_file "$WORK/notify.ready" 50 || { echo "the listener did not start: $(cat "$WORK/notifylisten.out")"; return 1; }
	# systemd's environment: NOTIFY_SOCKET, WATCHDOG_USEC = 1 s, and
	# WATCHDOG_PID = the daemon's pid, set by a shell that then execs it.
	# shellcheck disable=SC2016 # $$ is the inner shell's, on purpose
	start_daemon daemon-notify.log env NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=1000000 \
		sh -c 'export WATCHDOG_PID=$$; exec "$@"' sh || return 1
	# until READY=1 and 4 pings after it (10 s at most)
	for ((i = 0; i < 100; i++)); do
		r=$(grep -n ' READY=1' "$WORK/notify.log" | head -n 1 | cut -d: -f1)
		[[ -n "$r" ]] && (($(tail -n +"$((r + 1))" "$WORK/notify.log" | grep -c ' WATCHDOG=1') >= 4)) && break
		sleep 0.1
	done
	sed 's/^/=   /' "$WORK/notify.log" | head -n 4
	r=$(grep -n ' READY=1' "$WORK/notify.log" | head -n 1 | cut -d: -f1)
	[[ -n "$r" ]] || { echo "no READY=1"; return 1; }
	grep -E ' READY=1.*STATUS=.+' "$WORK/notify.log" >/dev/null || { echo "READY=1 without STATUS="; return 1; }
	[[ $(grep -c ' READY=1' "$WORK/notify.log") == 1 ]] || { echo "READY=1 more than once"; return 1; }
	# sd_event_set_watchdog() pings once at once, which may come before
	# READY=1 (harmless to systemd): count the ones after it, and how far
	# apart they are (sd-event pings between 1/4 and 1/2 of the period).
	tail -n +"$((r + 1))" "$WORK/notify.log" | grep ' WATCHDOG=1' >"$WORK/watchdog.log"
	n=$(wc -l <"$WORK/watchdog.log")
	gap=$(awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { printf "%.0f", m * 1000 }' "$WORK/watchdog.log")
	echo "= $n WATCHDOG=1 after READY=1 in about 3 s (WATCHDOG_USEC = 1 s), at most $gap ms apart"
	((n >= 3 && gap < 1000)) || { echo "expected >= 3 pings, less than the 1 s period apart"; return 1; }
	grep -o 'STATUS=.*' "$WORK/notify.log" | sed 's/^/= last /' | tail -n 1
}

# Structured journal entries, without journald: the daemon runs in a mount
# namespace of its own where /run/systemd is a tmpfs and the journal's
# native socket is a listener of ours (the protocol is datagrams of
# KEY=value lines, like sd_notify's).
t_journal() {
	local jlog=$WORK/journal.log jready=$WORK/journal.ready
	rm -f "$jlog" "$jready"
	# shellcheck disable=SC2016 # expanded by the inner shell, on purpose
	start_daemon daemon-journal.log unshare -m sh -c '
		mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/journal || exit 1
		"$0" "$1" /run/systemd/journal/socket --log "$2" --ready "$3" >/dev/null 2>&1 &
		i=0; while [ ! -e "$3" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		shift 3
		JOURNAL_STREAM=9:1 exec "$@"' "$PY" "$TOOLS/notifylisten.py" "$jlog" "$jready" || return 1
	wait_for 100 grep -q 'active.*fiber' "$jlog"
	stop_daemon TERM || return 1
	pkill -f "notifylisten.py /run/systemd/journal/socket --log $jlog" 2>/dev/null
	grep -m 3 'BASCULE_UPLINK=' "$jlog" | sed 's/^/=   /'
	grep -E 'MESSAGE=uplink fiber: unknown -> up .*BASCULE_EVENT=uplink .*BASCULE_UPLINK=fiber .*BASCULE_OLD_STATE=unknown .*BASCULE_NEW_STATE=up .*BASCULE_REASON=.+' "$jlog" >/dev/null ||
		{ echo "no structured entry for fiber unknown -> up"; cat "$jlog"; return 1; }
	grep -q 'SYSLOG_IDENTIFIER=bascule' "$jlog" || { echo "no SYSLOG_IDENTIFIER"; return 1; }
	grep -q 'active.*fiber' "$jlog" || { echo "no entry for the active uplink"; return 1; }
	# in the journal instead of, not besides, the plain line
	! grep -q 'uplink fiber: unknown -> up' "$DAEMON_LOG" || { echo "the transition was also logged as a plain line"; return 1; }
}

stopping_after() { tail -n +"$(($1 + 1))" "$WORK/notify.log" | grep -q ' STOPPING=1'; }
t_notify_stopping() {
	local before
	before=$(wc -l <"$WORK/notify.log")
	stop_daemon TERM || return 1
	wait_for 30 stopping_after "$before"
	tail -n +"$((before + 1))" "$WORK/notify.log" | sed 's/^/=   /'
	tail -n +"$((before + 1))" "$WORK/notify.log" | grep -q ' STOPPING=1' || { echo "no STOPPING=1 after SIGTERM"; return 1; }
	stop_pid "$LISTEN_PID" 10
	LISTEN_PID=
}

# After the last SIGTERM: exit 0, and the edge as it was before Bascule.
t_clean_exit() {
	local x
	echo "= last daemon's exit status: $DAEMON_RC"
	((DAEMON_RC == 0)) || return 1
	edge_clean || return 1
	[[ ! -e "$CTL" ]] || { echo "$CTL still exists"; return 1; }
	x=$("${EDGE[@]}" ss -ltnH "sport = :${METRICS##*:}")
	[[ -z "$x" ]] || { echo "something still listens on $METRICS: $x"; return 1; }
	echo "= no pin, no XDP, no rule from an uplink address, tables 100-102 empty, no socket, no metrics listener"
}

# ------------------------------------------------------------- the run

echo "# Bascule operations test: site ${PREFIX}*, work dir $WORK"
setup "prerequisites: root, $BASCULE, curl, dig, bpftool, setpriv, promtool, prometheus" t_prereq curl dig ping nft ip bpftool setpriv timeout promtool prometheus
check "check-config: lab.conf and bascule.conf.example ok (0); two errors at once, each with file:line (2)" t_check_config
setup "lab site ${PREFIX}* is up with its inet services" t_lab_up
check "daemon READY; all three uplinks up, fiber active" t_daemon_ready || bail_out "no daemon"

check "status: daemon running, 3 uplinks with STATE/HEALTH, fiber marked *" t_status_text
check "status --json: daemon_running, uplinks with state/active/flows/nat_port_use_ratio and a health object" t_status_json
check "health --json and events --json are JSON with their fields; events lists fiber unknown -> up" t_health_events_json

check "control socket: srw-rw---- root root, in a 0750 directory" t_socket_modes
check "control socket: uid $NOBODY is refused (Permission denied), its group and root get in" t_socket_access

check "metrics: HTTP 200, promtool check metrics ok, fiber up and active" t_metrics_endpoint
check "idle clients: the metrics endpoint closes them (2 s, 4 per address), the control socket answers an unknown request in escaped JSON" t_idle_clients
check "metrics: a Prometheus in the edge namespace scrapes 3 series of bascule_uplink_up, fiber = 1" t_prometheus

check "drain fiber: its stream stays on fiber, a new flow goes via cell, state drained; undrain: new flows on fiber at once" t_drain

check "reload under a 1 ms stream: cell and sat swap priorities in the maps, sat's new probe is answered, 0 lost, a config event; the file before restores them" t_reload_ok
check "reload of a broken file: refused with file:line, daemon still forwards, no config event" t_reload_bad_file
check "reload of a restart-only change (an uplink's interface): refused, 'needs a restart'" t_reload_restart_only
check "reload changing the history file, the metrics address or control_group: refused by name, nothing opened" t_reload_history_metrics
check "SIGHUP reloads: cell's priority 20 -> 25 -> 20 in the maps, config events" t_sighup

check "3 concurrent scrapers during 20 reloads (cell's priority 20 <-> 25): every scrape 200 with the 3 uplinks and cell's priority 20 or 25, each reload seen by a scrape within 5 s" t_scrapes_during_reloads
check "SIGKILL under a 1 ms stream: status says NOT running and shows the maps; uplink drain applied to the maps with no daemon, uplink up through the restarted one; 0 lost" t_kill
check "the restarted daemon adopted the links and the flows, and serves metrics" t_adopted
check "failover after the restart, through the adopted maps: a running stream moves fiber -> cell as one flow, a new flow is bound to cell; restored" t_failover_after_restart
check "upgrade as documented: a --keep daemon stops, the data plane forwards alone, the next daemon adopts the same links and swaps new programs into them; a 1 ms stream loses nothing" t_upgrade
check "SIGTERM: exit 0" t_sigterm_plain

check "under NOTIFY_SOCKET and WATCHDOG_USEC=1 s: READY=1 with STATUS=, then >= 3 WATCHDOG=1 in 3 s" t_notify
check "SIGTERM sends STOPPING=1" t_notify_stopping
check "under systemd's journal (JOURNAL_STREAM): transitions are structured entries with BASCULE_UPLINK/OLD/NEW/REASON" t_journal
check "after SIGTERM: exit 0, no pins, no XDP, no rules, no socket" t_clean_exit
check "cleanup: no namespace ${PREFIX}* left, bpffs unmounted, work dir gone, Prometheus stopped" t_cleanup

summary
((FAILED == 0))
