#!/bin/bash
# tests/systemd.sh - the service as installed, under a real systemd.
#
# Runs inside a booted container (make cleanroom boots the clean root with
# `systemd-nspawn --boot`): systemd is PID 1 there.  `make install` puts the
# unit in place as an operator gets it; a drop-in only gives it the lab's
# edge namespace (NetworkNamespacePath=), and the lab's config goes to
# /etc/bascule/bascule.conf with every path at its default (pins under
# /sys/fs/bpf/bascule, the socket in /run/bascule, the history in
# /var/lib/bascule).  Checks: the unit starts and reaches READY, writes its
# history under ProtectSystem=strict, reloads on `systemctl reload`, keeps
# forwarding across `systemctl restart` (--keep: the new daemon adopts the
# pinned data plane), and `bascule purge` after `systemctl stop` leaves the
# edge clean.
set -uo pipefail

source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

PREFIX=bsc-$$-
harness_init systemd
UNIT=bascule.service
DROPIN=/etc/systemd/system/$UNIT.d/lab.conf
SBIN=/usr/local/sbin/bascule
PIN=/sys/fs/bpf/bascule
CTL=/run/bascule/control.sock
HISTORY=/var/lib/bascule/history.db
CONF_ETC=/etc/bascule/bascule.conf
# The installed CLI talks to the daemon's socket and reads the pins; it
# needs no namespace of the lab.
BASCULE=$SBIN
B=("$SBIN" -p "$PIN" -S "$CTL")
# The edge's network namespace without `ip netns exec`'s remount of /sys
# (which would hide the pins): for what must act there, like purge.
IN_EDGE=(nsenter --net=/run/netns/${PREFIX}edge)
# The daemon is systemd's: lib.sh's cleanup must not look for a pid of ours.
DAEMON_LOG=$WORK/journal.log
MOUNTED_BPF=

unit_cleanup() {
	systemctl stop "$UNIT" >/dev/null 2>&1
	[[ -e "$PIN" ]] && "${IN_EDGE[@]}" "$SBIN" -p "$PIN" purge >/dev/null 2>&1
	rm -f "$DROPIN"
	rmdir "$(dirname "$DROPIN")" 2>/dev/null
	systemctl daemon-reload >/dev/null 2>&1
	[[ -n "$MOUNTED_BPF" ]] && umount /sys/fs/bpf 2>/dev/null
	MOUNTED_BPF=
}
CLEANUP_HOOKS+=(unit_cleanup)

show() { systemctl show -P "$1" "$UNIT"; }
journal() { journalctl -u "$UNIT" -o cat --no-pager "$@" 2>/dev/null; }

t_systemd_pid1() {
	local st
	[[ $EUID -eq 0 ]] || { echo "must run as root"; return 1; }
	[[ "$(cat /proc/1/comm)" == systemd ]] || { echo "PID 1 is $(cat /proc/1/comm), not systemd"; return 1; }
	wait_file /run/systemd/private 300 || { echo "systemd's private socket did not appear in 30 s"; return 1; }
	st=$(timeout 60 systemctl is-system-running --wait)
	echo "= systemd $(systemctl --version | awk 'NR == 1 { print $2 }'), system $st"
	[[ "$st" == running || "$st" == degraded ]]
}

t_install() {
	make -s install >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; return 1; }
	[[ -x "$SBIN" && -f /etc/systemd/system/$UNIT ]] || { echo "make install put no unit or binary"; return 1; }
	local f
	for f in /usr/local/share/man/man8/bascule.8 /usr/local/share/man/man5/bascule.conf.5 \
		/usr/share/bash-completion/completions/bascule /usr/local/share/bascule/bascule.rules.yml; do
		[[ -s "$f" ]] || { echo "make install put no $f"; return 1; }
	done
	# The lab's config with every path at the unit's default.
	install -m 0640 "$ROOT/scripts/lab.conf" "$CONF_ETC" || return 1
	for k in "pin_root = $PIN" "control_socket = $CTL" "history = $HISTORY"; do
		grep -qx "$k" "$CONF_ETC" || { echo "lab.conf no longer has '$k'"; return 1; }
	done
	mkdir -p "$(dirname "$DROPIN")" || return 1
	printf '[Service]\nNetworkNamespacePath=/run/netns/%sedge\n' "$PREFIX" >"$DROPIN"
	systemctl daemon-reload || return 1
	# What systemd itself thinks of the unit as shipped.
	systemd-analyze verify "/etc/systemd/system/$UNIT" >"$WORK/verify.log" 2>&1
	grep -i "bascule" "$WORK/verify.log" && { echo "systemd-analyze verify complains"; return 1; }
	[[ ! -e "$HISTORY" ]] || { echo "$HISTORY exists before the first start"; return 1; }
	echo "= unit installed, drop-in: NetworkNamespacePath=/run/netns/${PREFIX}edge"
}

t_lab() {
	site_up || return 1
	# Where an operator's fstab or sys-fs-bpf.mount would have mounted it.
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || { echo "cannot mount bpffs"; return 1; }
		MOUNTED_BPF=1
	fi
}

# Type=notify: `systemctl start` returns once the daemon said READY=1.
t_start() {
	local t0 ms
	t0=$(date +%s%N)
	timeout 30 systemctl start "$UNIT" || { echo "systemctl start failed; the journal:"; journal | tail -n 15; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "= systemctl start returned after $ms ms: $(show ActiveState)/$(show SubState), status \"$(show StatusText)\""
	[[ "$(show ActiveState)" == active && "$(show SubState)" == running ]] || return 1
	[[ -n "$(show StatusText)" ]] || { echo "no STATUS= from the daemon"; return 1; }
	[[ "$(show WatchdogUSec)" == 5s ]] || { echo "watchdog: $(show WatchdogUSec)"; return 1; }
	wait_until 100 hj 'd["active"] == "fiber" and all(x["health"] == "up" for x in d["uplinks"])' ||
		{ echo "not all up with fiber active: $(health_line)"; return 1; }
	echo "= $(health_line)"
}

t_history() {
	local rows mode
	wait_file "$HISTORY" 50 || { echo "no $HISTORY"; journal | tail -n 5; return 1; }
	mode=$(stat -c %a "$(dirname "$HISTORY")")
	rows=$(sqlite3 "file:$HISTORY?mode=ro" "SELECT count(*) FROM transitions WHERE to_state = 'up'" 2>&1)
	echo "= $HISTORY: $rows transitions to up; $(dirname "$HISTORY") mode $mode"
	[[ "$mode" == 750 ]] || return 1
	[[ "$rows" =~ ^[0-9]+$ ]] && ((rows >= 3)) || return 1
	! journal | grep -qi "history.*\(read-only\|cannot\|failed\)" || { journal | grep -i history; return 1; }
}

# A reload that changes something the operator can see: the satellite's
# priority.  The main process stays the same.
t_reload() {
	local pid before after t0
	pid=$(show MainPID)
	t0=$(now)
	before=$(sj 'u["sat"]["priority"]')
	sed -i '/^\[uplink sat\]/,/^\[/ s/^priority = .*/priority = 25/' "$CONF_ETC" || return 1
	grep -qx "priority = 25" "$CONF_ETC" || { echo "no priority line under [uplink sat]"; return 1; }
	timeout 15 systemctl reload "$UNIT" || return 1
	wait_until 50 sj 'u["sat"]["priority"] == 25' || { echo "sat's priority still $(sj 'u["sat"]["priority"]')"; return 1; }
	after=$(sj 'u["sat"]["priority"]')
	echo "= systemctl reload: sat's priority $before -> $after, main pid $pid -> $(show MainPID)"
	[[ "$(show MainPID)" == "$pid" ]] || return 1
	[[ "$(ev "$t0" 'len(cfg) == 1 and cfg[0]["new"] == "reloaded"')" == True ]] || { echo "no config reload event"; ev_lines "$t0"; return 1; }
}

# --keep: the stopping daemon leaves the data plane attached; the new one
# adopts it.  A 1 ms stream through the restart loses nothing.
t_restart() {
	local pid lost
	pid=$(show MainPID)
	stream_go restart 30 || return 1
	timeout 30 systemctl restart "$UNIT" || return 1
	[[ "$(show ActiveState)" == active && "$(show MainPID)" != "$pid" ]] ||
		{ echo "not a new running daemon: $(show ActiveState) pid $(show MainPID)"; return 1; }
	stream_flowing 500 # through the new daemon
	stream_stop restart || return 1
	lost=$(jf "$(cat "$WORK/restart.json")" 'j["lost"]')
	journal | grep "adopted running link" | tail -n 4 | sed 's/^/=   /'
	[[ $(journal | grep -c "adopted running link") -ge 4 ]] || { echo "the new daemon adopted fewer than 4 links"; return 1; }
	echo "= main pid $pid -> $(show MainPID); stream lost $lost"
	[[ "$lost" == 0 ]] || return 1
	flow_path restart "${LAB_ISP_EDGE_IP[fiber]}"
}

t_watchdog_quiet() {
	# Longer than WatchdogSec: the loop pings it, systemd restarted nothing.
	sleep 6
	echo "= after 6 s: $(show ActiveState), NRestarts=$(show NRestarts), result $(show Result)"
	[[ "$(show ActiveState)" == active && "$(show NRestarts)" == 0 && "$(show Result)" == success ]]
}

t_stop_purge() {
	local o
	timeout 30 systemctl stop "$UNIT" || return 1
	[[ "$(show ActiveState)" == inactive ]] || return 1
	[[ -e "$PIN" ]] || { echo "--keep: the pins should outlive the stop"; return 1; }
	o=$("${IN_EDGE[@]}" "$SBIN" -p "$PIN" purge) || { echo "$o"; return 1; }
	echo "= $o"
	[[ "$o" == *"rule(s) and route(s) of manage_routes"* ]] || { echo "purge removed no rule"; return 1; }
	# edge_clean looks at $PIN and the edge's devices
	edge_clean || return 1
	[[ -s "$HISTORY" ]] || { echo "the history went with the stop"; return 1; }
	echo "= stopped, purged: no pin, no XDP, no rule; history kept"
}

echo "# Bascule under systemd: site ${PREFIX}*, work dir $WORK"
setup "systemd is PID 1 and the system is up" t_systemd_pid1
check "make install: unit, binary, man pages, completion and alert rules in place; systemd-analyze verify finds nothing" t_install || bail_out "no unit"
setup "lab site ${PREFIX}* is up; bpffs on /sys/fs/bpf" t_lab
check "systemctl start: READY (Type=notify), active/running, STATUS= set, watchdog 5 s; all up, fiber active" t_start || bail_out "no service"
check "the history is written under ProtectSystem=strict ($HISTORY, folder 0750)" t_history
check "systemctl reload applies a changed priority in the same process" t_reload
check "systemctl restart under a 1 ms stream: new process adopts the data plane, 0 lost, same flow on fiber" t_restart
check "no watchdog restart over 6 s (WatchdogSec=5)" t_watchdog_quiet
check "systemctl stop keeps the data plane (--keep); bascule purge then leaves the edge clean" t_stop_purge
check "cleanup: no namespace ${PREFIX}* left, work dir gone" t_cleanup
summary
((FAILED == 0))
