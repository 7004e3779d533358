#!/bin/bash
# cleanroom.sh - run the README's two commands on a fresh Debian 12 root.
#
# A machine that has been worked on hides missing install steps: a package
# installed by hand, or by an earlier run, makes a build pass that fails for
# a new user.  This builds a minimal Debian 12 root with debootstrap under
# $BUILD/cleanroom/, puts a clean clone of HEAD in it and, chrooted there
# with /proc, /sys, /sys/fs/bpf and /dev mounted, runs the two commands
# exactly as the README's "two commands" block writes them.  It prints what
# deps.sh installed, each command's result and time, and ends with the
# suite's closing line.
#
# The bare debootstrapped root is cached as $BUILD/cleanroom-base.tar, so a
# rerun spends its time on the project, not on the download.  The mirror is
# the one this machine's own apt sources name.
#
# Everything is mounted inside a private mount namespace of this script's
# own: the mounts are removed on exit by the trap, and by the kernel when
# the namespace ends, whatever killed the script.
#
# Then the service as installed: the root gets systemd (a real machine has
# it; it is not a dependency of the project) and is booted with
# `systemd-nspawn --boot`; tests/systemd.sh runs inside, with systemd as
# PID 1, against the unit that `make install` puts in place.  Its checks
# count in the closing line.
#
#   scripts/cleanroom.sh            all three (make cleanroom)
#   CLEANROOM_CMDS="test" scripts/cleanroom.sh    only some of demo, test,
#                                                 systemd
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
CR=$BUILD/cleanroom
ROOT=$CR/root
BASE=$BUILD/cleanroom-base.tar
SUITE=bookworm

say() { echo "cleanroom: $*"; }
die() { echo "cleanroom: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"

# The first URI of this machine's Debian sources that serves $SUITE
# (deb822 .sources or one-line .list files), never a host of our own choice.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$SUITE" '
			/^$/ { if (uri && suite) { print uri; exit } uri=""; suite=0 }
			/^URIs:/ { uri=$2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) suite=1 }
			END { if (uri && suite) print uri }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -E 's/\[[^]]*\]//' "$f" | awk -v s="$SUITE" '$1 == "deb" && $3 == s { print $2 }'
	done
}

if [ -z "${CLEANROOM_INNER:-}" ]; then
	for tool in debootstrap:debootstrap git:git unshare:util-linux nsenter:util-linux \
		systemd-nspawn:systemd-container; do
		command -v "${tool%%:*}" >/dev/null && continue
		say "installing ${tool#*:} on this machine (apt-get)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null; }
	done
	# A private mount namespace: nothing mounted here is seen outside, and
	# all of it goes when the last process in it ends.
	CLEANROOM_INNER=1 exec unshare --mount --propagation private "$0" "$@"
fi

t_start=$(date +%s)
mkdir -p "$CR"

kill_inside() {
	# Processes left running inside the root (a daemon a failed test did
	# not stop) would keep its mounts busy.
	local p r sig
	for sig in TERM KILL; do
		for p in /proc/[0-9]*; do
			r=$(readlink "$p/root" 2>/dev/null) || continue
			[ "$r" = "$ROOT" ] && kill -"$sig" "${p#/proc/}" 2>/dev/null || true
		done
		if [ "$sig" = TERM ]; then sleep 1; fi
	done
}

unmount_all() {
	local m
	kill_inside
	# Deepest first; lazily for what stays busy.
	for m in $(awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

NSPAWN_PID=
stop_container() {
	local i
	[ -n "$NSPAWN_PID" ] || return 0
	# SIGTERM: nspawn asks the container's systemd to power off.
	kill -TERM "$NSPAWN_PID" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$NSPAWN_PID" 2>/dev/null || true
	wait "$NSPAWN_PID" 2>/dev/null || true
	NSPAWN_PID=
}

on_exit() {
	local rc=$?
	stop_container
	unmount_all
	left=$(awk -v r="$ROOT" 'index($5, r) == 1' /proc/self/mountinfo | wc -l)
	[ "$left" -eq 0 ] || say "warning: $left mounts still under $ROOT"
	exit "$rc"
}
trap on_exit EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

# ---------------------------------------------------------------- the root
unmount_all
rm -rf "$ROOT"
mkdir -p "$ROOT"
if [ -s "$BASE" ]; then
	say "base: $BASE (cached; remove it to download again)"
	tar -C "$ROOT" -xf "$BASE"
else
	mirror=$(host_mirror | head -n1)
	[ -n "$mirror" ] || die "no Debian $SUITE mirror in this machine's apt sources"
	say "base: debootstrap --variant=minbase $SUITE from $mirror"
	t0=$(date +%s)
	debootstrap --variant=minbase "$SUITE" "$ROOT" "$mirror" >"$CR/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$CR/debootstrap.log"; die "debootstrap failed (log: $CR/debootstrap.log)"; }
	# The machine's own Debian sources (updates, security), as a fresh
	# install from the same mirrors would have them.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] && grep -q "debian" "$f" || continue
		install -D -m 0644 "$f" "$ROOT$f"
	done
	[ ! -s "$ROOT/etc/apt/sources.list.d/debian.sources" ] || rm -f "$ROOT/etc/apt/sources.list"
	tar -C "$ROOT" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
	say "base: made in $(($(date +%s) - t0)) s, cached as $BASE"
fi

# A fresh machine runs no service of its own; in a chroot, a package's
# postinst must not start one either (it would run in the host's network
# namespace and keep the root busy).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"

head=$(git -C "$SRC" rev-parse HEAD)
git clone -q --no-hardlinks "$SRC" "$ROOT/root/bascule"
git -C "$ROOT/root/bascule" checkout -q "$head"
dirty=$(git -C "$SRC" status --porcelain --untracked-files=no | wc -l)
say "clone of HEAD $(git -C "$SRC" log -1 --format='%h %s' "$head" | cut -c1-72)"
[ "$dirty" -eq 0 ] || say "note: $dirty changed files in the work tree are not in HEAD and not tested"

# ------------------------------------------------------------------ mounts
# `ip netns exec` runs `mount --make-rslave /`, which needs / to be a mount
# point: bind the root onto itself.
mount --bind "$ROOT" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount -t bpf bpf "$ROOT/sys/fs/bpf"
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
mount -t tmpfs -o mode=0755 tmpfs "$ROOT/run"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"

# ---------------------------------------------------------- the commands
# The README's block under "## The two commands": each line is a command,
# then a comment.
mapfile -t cmds < <(awk '
	/^## The two commands/ { sec=1; next }
	sec && /^## / { exit }
	sec && /^```/ { if (inb) exit; inb=1; next }
	inb { sub(/[ \t]+#.*/, ""); if ($0 != "") print }' "$SRC/README.md")
[ "${#cmds[@]}" -eq 2 ] || die "expected two commands in README.md's block, found ${#cmds[@]}"

want=${CLEANROOM_CMDS:-demo test systemd}
results=()
installed=""
passed=0
failed=0
skipped=0
counted=
rc_all=0
for cmd in "${cmds[@]}"; do
	word=$(echo "$cmd" | awk '{print $NF}')
	case " $want " in *" $word "*) ;; *) continue ;; esac
	log=$CR/$word.log
	say "running '$cmd' in the clean root (log: $log)"
	t0=$(date +%s)
	set +e
	chroot "$ROOT" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/bascule && $cmd" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	dt=$(($(date +%s) - t0))
	pk=$(sed -n 's/^deps: installing //p' "$log" | tr '\n' ' ')
	[ -z "$pk" ] || installed="$installed $pk"
	if [ "$rc" -eq 0 ]; then results+=("'$cmd': passed in $dt s"); else results+=("'$cmd': FAILED (exit $rc) after $dt s"); rc_all=1; fi
	l=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1 || true)
	if [ -n "$l" ]; then
		results+=("  its closing line: $l")
		passed=$((passed + $(echo "$l" | awk '{print $1}')))
		failed=$((failed + $(echo "$l" | awk '{print $3}')))
		skipped=$((skipped + $(echo "$l" | awk '{print $5 + 0}')))
		counted=1
	elif [ "$word" = test ]; then
		failed=$((failed + 1))
		counted=1
	fi
done

# ------------------------------------------------ the service under systemd
boot_and_test() {
	local log=$CR/systemd.log leader="" i t0 p f plan
	say "the service under systemd: installing systemd in the root (a machine has it; not a project dependency)"
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends systemd dbus >"$CR/systemd-install.log" 2>&1 ||
		{ tail -n 5 "$CR/systemd-install.log"; return 1; }
	[ -x "$ROOT/root/bascule/build/bascule" ] || { say "no build in the root (run the test command first)"; return 1; }
	# nspawn mounts the root's API filesystems itself.
	unmount_all
	# bpffs: an instance of the clean room's own, where the container's
	# /sys/fs/bpf is (nspawn's /sys has no bpffs).
	mkdir -p "$CR/bpf"
	mount -t bpf bpf "$CR/bpf"
	t0=$(date +%s)
	# nspawn's own seccomp filter refuses bpf() and perf_event_open() to
	# everything systemd starts in the container (a host's systemd has no
	# such filter): allow them, or no unit could load a BPF program.
	systemd-nspawn --boot --system-call-filter="bpf perf_event_open" --directory="$ROOT" --machine=bascule-cleanroom --private-network \
		--capability=all --register=no --keep-unit --console=passive --quiet \
		--bind="$CR/bpf:/sys/fs/bpf" >"$CR/nspawn.log" 2>&1 </dev/null &
	NSPAWN_PID=$!
	for i in $(seq 100); do
		leader=$(pgrep -P "$NSPAWN_PID" | head -n1 || true)
		[ -n "$leader" ] && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$leader" ] || { cat "$CR/nspawn.log"; say "systemd-nspawn did not start a container"; return 1; }
	# systemd answers on its private socket once it is past early boot;
	# then wait for the boot to finish (its /tmp is mounted late: a test
	# started before would lose its work folder under it).
	for i in $(seq 300); do
		nsenter --target "$leader" --mount test -S /run/systemd/private 2>/dev/null && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "container's systemd: $(nsenter --target "$leader" --all /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout 60 systemctl is-system-running --wait 2>&1)"
	say "booted the clean root with systemd-nspawn (PID 1 of the container: $leader here); tests/systemd.sh inside (log: $log)"
	set +e
	nsenter --target "$leader" --all /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		timeout 600 /bin/bash -c "cd /root/bascule && tests/systemd.sh" </dev/null 2>&1 | tee "$log"
	set -e
	stop_container
	umount "$CR/bpf" 2>/dev/null || true
	p=$(grep -c '^ok ' "$log" || true)
	f=$(grep -c '^not ok ' "$log" || true)
	[ "$p" -gt 0 ] || [ "$f" -gt 0 ] || f=1
	# its plan: checks it did not report (a bail-out, the limit) failed
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -d. -f3 || true)
	[ -n "$plan" ] || plan=$((p + f + 1))
	[ $((p + f)) -ge "$plan" ] || f=$((plan - p))
	results+=("the service under systemd (tests/systemd.sh): $p passed, $f failed in $(($(date +%s) - t0)) s")
	passed=$((passed + p))
	failed=$((failed + f))
	counted=1
	[ "$f" -eq 0 ]
}
case " $want " in
*" systemd "*) boot_and_test || rc_all=1 ;;
esac

echo
set -- $installed
say "deps.sh installed $# packages:${installed:- none}"
for r in "${results[@]}"; do say "$r"; done
say "total $(($(date +%s) - t_start)) s"
[ "$failed" -eq 0 ] || rc_all=1
[ "$skipped" -eq 0 ] || rc_all=1
[ -z "$counted" ] || echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc_all"
