#!/bin/bash
# lab.sh - build, break and tear down Bascule's test site on network namespaces.
#
# One site = six namespaces named ${PREFIX}lan, edge, fiber, cell, sat, inet
# (see docs/lab.md). Nothing is created in, or linked to, the root
# namespace; all test traffic stays between these namespaces.
#
#   scripts/lab.sh up       PREFIX                  build the site
#   scripts/lab.sh down     PREFIX                  remove it (idempotent)
#   scripts/lab.sh fault    PREFIX KIND ISP [ARG]   KIND: carrier | blackhole |
#                                                   loss N | restore
#                                                   ISP:  fiber | cell | sat
#   scripts/lab.sh services PREFIX DIR              start the inet servers,
#                                                   pid files and logs in DIR
#
# Sourcing it gives the same as functions: lab_up, lab_down, lab_fault,
# lab_services (each takes PREFIX first), plus nsx NAME CMD... which runs CMD
# in "${PREFIX}NAME" (set PREFIX yourself), and the LAB_* constants below.
#
# Link emulation (the default): `up` wires each ISP through the link
# emulator, build/linkemu (tests/linkemu_test.sh: linkemu_insert PREFIX ISP
# PROFILE), so that the uplinks behave like real ones: fiber (10 ms RTT),
# cell (40 ms, jitter, 0.5 % loss each way), sat (45 ms, jitter, loss, a
# burst of loss and delay every 15 s); see tests/linkemu/linkemu.c.
#   LAB_LINKEMU=0             direct veths (~50 us RTT, no loss): only for
#                             what needs perfect links (scripts/bench.sh)
#   LAB_PROFILE_FIBER=P ...   another profile for that ISP (also _CELL, _SAT;
#                             perfect, fiber, cell or sat)
#   LAB_LINKEMU_ARGS="..."    extra linkemu flags for every ISP (e.g.
#                             "--loss 0 --burst-loss 0")
# `down` stops the site's emulators and removes their run directories
# ($LINKEMU_RUN/PREFIXISP, and $LINKEMU_RUN itself once empty), whatever the
# variables say. lab_l3dev PREFIX ISP names the ISP device holding its
# edge-side address (emu1 when emulated, down0 otherwise); the edge-facing
# port, where carrier is cut, is down0 either way.
#
# Addresses:
#   lan   eth0 10.77.0.10/24 (+ .11 .12), gw 10.77.0.1
#   edge  lan0 10.77.0.1/24
#         wan0 192.0.2.2/24    <-> fiber down0 192.0.2.1   fiber up0 198.18.1.1 <-> inet fiber0 198.18.1.2
#         wan1 198.51.100.2/24 <-> cell  down0 198.51.100.1 cell up0 198.18.2.1 <-> inet cell0  198.18.2.2
#         wan2 100.64.0.2/24   <-> sat   down0 100.64.0.1   sat  up0 198.18.3.1 <-> inet sat0   198.18.3.2
#   inet  on lo: 203.0.113.1-.3 probe targets, .10 HTTP:80, .11 UDP echo:7,
#         .12 TCP hold:9000, .53 DNS:53 (bascule.test -> 203.0.113.10),
#         .60 SIP:5060 (the VoIP provider), .70 the head office's VPN peer

# The LAB_* constants are for scripts that source this file, hence:
# shellcheck disable=SC2034

# Only an executed lab.sh sets shell options: a script that sources us keeps
# its own. The lab_* functions re-run this file in a child bash, so their
# errors always abort them, even when called as `if lab_up ...`.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -euo pipefail
fi

_LAB_SELF="$(readlink -f "${BASH_SOURCE[0]}")"
LAB_TOOLS="$(dirname "$(dirname "$_LAB_SELF")")/tests/tools"
LAB_PY=/usr/bin/python3

LAB_NAMES=(lan edge fiber cell sat inet)
LAB_ISPS=(fiber cell sat)

# Fixed MACs, 02:00:00:00:<ns>:<if>, so tests can tell frames apart by eye:
# ns 00 lan, 01 edge, 02 fiber, 03 cell, 04 sat, 05 inet.
LAB_MAC_LAN_ETH0=02:00:00:00:00:10
LAB_MAC_EDGE_LAN0=02:00:00:00:01:00
LAB_MAC_EDGE_WAN0=02:00:00:00:01:10
LAB_MAC_EDGE_WAN1=02:00:00:00:01:11
LAB_MAC_EDGE_WAN2=02:00:00:00:01:12
LAB_MAC_FIBER_DOWN0=02:00:00:00:02:00
LAB_MAC_FIBER_UP0=02:00:00:00:02:01
LAB_MAC_CELL_DOWN0=02:00:00:00:03:00
LAB_MAC_CELL_UP0=02:00:00:00:03:01
LAB_MAC_SAT_DOWN0=02:00:00:00:04:00
LAB_MAC_SAT_UP0=02:00:00:00:04:01
LAB_MAC_INET_FIBER0=02:00:00:00:05:01
LAB_MAC_INET_CELL0=02:00:00:00:05:02
LAB_MAC_INET_SAT0=02:00:00:00:05:03

# Per ISP: edge iface, edge addr, ISP downlink addr, transfer net index.
declare -A LAB_ISP_WAN=([fiber]=wan0 [cell]=wan1 [sat]=wan2)
declare -A LAB_ISP_EDGE_IP=([fiber]=192.0.2.2 [cell]=198.51.100.2 [sat]=100.64.0.2)
declare -A LAB_ISP_GW_IP=([fiber]=192.0.2.1 [cell]=198.51.100.1 [sat]=100.64.0.1)
declare -A LAB_ISP_NET=([fiber]=192.0.2.0/24 [cell]=198.51.100.0/24 [sat]=100.64.0.0/24)
declare -A LAB_ISP_IDX=([fiber]=1 [cell]=2 [sat]=3)

LAB_TARGETS=(203.0.113.1 203.0.113.2 203.0.113.3)
LAB_HTTP_IP=203.0.113.10
LAB_UDPECHO_IP=203.0.113.11
LAB_UDPECHO_PORT=7
LAB_TCPHOLD_IP=203.0.113.12
LAB_TCPHOLD_PORT=9000
LAB_DNS_IP=203.0.113.53
LAB_SIP_IP=203.0.113.60
LAB_SIP_PORT=5060
LAB_VPN_IP=203.0.113.70

nsx() {
	local name=$1
	shift
	ip netns exec "${PREFIX:?PREFIX is not set}${name}" "$@"
}

# lab_l3dev PREFIX ISP: the ISP's device holding its edge-side address and
# the MAC the edge sees as its gateway's: emu1 behind the emulator, down0 on
# a direct veth.
lab_l3dev() {
	if ip -n "${1}${2}" link show emu1 >/dev/null 2>&1; then echo emu1; else echo down0; fi
}

lab_up()       { bash "$_LAB_SELF" up "$@"; }
lab_down()     { bash "$_LAB_SELF" down "$@"; }
lab_fault()    { bash "$_LAB_SELF" fault "$@"; }
lab_services() { bash "$_LAB_SELF" services "$@"; }

_die() {
	echo "lab.sh: $*" >&2
	exit 1
}

_check_prefix() {
	# An empty prefix would make `down` match every namespace on the machine.
	[[ -n "${1:-}" ]] || _die "PREFIX is required (e.g. bsc-$$-)"
	[[ "$1" =~ ^[A-Za-z0-9._-]+$ ]] || _die "bad PREFIX '$1'"
}

_check_isp() {
	[[ -n "${LAB_ISP_WAN[${1:-none}]:-}" ]] || _die "ISP must be fiber, cell or sat, not '${1:-}'"
}

# Namespaces of this site that exist now.
_lab_existing() {
	ip netns list | awk -v p="$1" 'index($1, p) == 1 { print $1 }'
}

# veth pair created straight inside its two namespaces: it never exists in root.
_veth() {
	local ns_a=$1 dev_a=$2 mac_a=$3 ns_b=$4 dev_b=$5 mac_b=$6
	ip -n "${PREFIX}${ns_a}" link add "$dev_a" address "$mac_a" type veth \
		peer name "$dev_b" address "$mac_b" netns "${PREFIX}${ns_b}"
	# tx off: checksums must be complete on the wire, as after an XDP redirect
	# the CHECKSUM_PARTIAL state is lost. gro on: lets a veth accept
	# XDP_REDIRECTed frames without an XDP program of its own.
	nsx "$ns_a" ethtool -K "$dev_a" tx off gro on >/dev/null
	nsx "$ns_b" ethtool -K "$dev_b" tx off gro on >/dev/null
	ip -n "${PREFIX}${ns_a}" link set "$dev_a" up
	ip -n "${PREFIX}${ns_b}" link set "$dev_b" up
}

_router_sysctls() {
	local ns=$1 dev
	nsx "$ns" sysctl -qw net.ipv4.ip_forward=1
	# rp_filter takes the max of all/<dev>, so every level must be 0: the
	# edge legitimately sees replies on an uplink other than the default one.
	nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	for dev in $(ip -n "${PREFIX}${ns}" -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
		nsx "$ns" sysctl -qw "net.ipv4.conf.${dev}.rp_filter=0"
	done
}

_lab_up() {
	PREFIX=$1
	_check_prefix "$PREFIX"
	local n isp i wan
	# A stale site from a crashed run with the same prefix is ours to replace.
	_lab_down "$PREFIX"
	# A half-built site is worse than none: undo it if any step fails.
	trap '_lab_down "$PREFIX"' EXIT

	for n in "${LAB_NAMES[@]}"; do
		ip netns add "${PREFIX}${n}"
		ip -n "${PREFIX}${n}" link set lo up
		# No IPv6: its router solicitations, DAD and MLD frames would be
		# unsolicited traffic through the XDP path and the counters.
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done

	# LAN <-> edge
	_veth lan eth0 "$LAB_MAC_LAN_ETH0" edge lan0 "$LAB_MAC_EDGE_LAN0"
	ip -n "${PREFIX}lan" addr add 10.77.0.10/24 dev eth0
	ip -n "${PREFIX}lan" addr add 10.77.0.11/24 dev eth0
	ip -n "${PREFIX}lan" addr add 10.77.0.12/24 dev eth0
	ip -n "${PREFIX}lan" route add default via 10.77.0.1
	ip -n "${PREFIX}edge" addr add 10.77.0.1/24 dev lan0

	for isp in "${LAB_ISPS[@]}"; do
		i=${LAB_ISP_IDX[$isp]}
		wan=${LAB_ISP_WAN[$isp]}
		local up=${isp^^}
		local mac_wan="LAB_MAC_EDGE_${wan^^}" mac_down="LAB_MAC_${up}_DOWN0"
		local mac_up="LAB_MAC_${up}_UP0" mac_inet="LAB_MAC_INET_${up}0"

		# edge <-> ISP
		_veth edge "$wan" "${!mac_wan}" "$isp" down0 "${!mac_down}"
		ip -n "${PREFIX}edge" addr add "${LAB_ISP_EDGE_IP[$isp]}/24" dev "$wan"
		ip -n "${PREFIX}${isp}" addr add "${LAB_ISP_GW_IP[$isp]}/24" dev down0

		# ISP <-> inet; the ISP routes to inet by default and knows no LAN.
		_veth "$isp" up0 "${!mac_up}" inet "${isp}0" "${!mac_inet}"
		ip -n "${PREFIX}${isp}" addr add "198.18.${i}.1/24" dev up0
		ip -n "${PREFIX}inet" addr add "198.18.${i}.2/24" dev "${isp}0"
		ip -n "${PREFIX}${isp}" route add default via "198.18.${i}.2"
		ip -n "${PREFIX}inet" route add "${LAB_ISP_NET[$isp]}" via "198.18.${i}.1"
		_router_sysctls "$isp"
	done

	# Carrier-grade NAT: the inet side only ever sees the sat's own address.
	nsx sat nft -f - <<-'EOF'
		table ip bsc_cgnat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "up0" ip saddr 100.64.0.0/10 masquerade
			}
		}
	EOF

	ip -n "${PREFIX}edge" route add default via 192.0.2.1
	_router_sysctls edge

	# inet: services live on lo (this kernel has no dummy devices).
	for i in 1 2 3 10 11 12 53 60 70; do
		ip -n "${PREFIX}inet" addr add "203.0.113.${i}/32" dev lo
	done
	nsx inet sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

	# Link emulation (the default): each ISP through linkemu, its own profile
	# unless LAB_PROFILE_<ISP> says otherwise.
	if [[ "${LAB_LINKEMU:-1}" != 0 ]]; then
		declare -F linkemu_insert >/dev/null || _die "link emulation on, but tests/linkemu_test.sh is missing (LAB_LINKEMU=0 for direct veths)"
		local prof pvar
		local -a extra
		read -r -a extra <<<"${LAB_LINKEMU_ARGS:-}"
		for isp in "${LAB_ISPS[@]}"; do
			pvar=LAB_PROFILE_${isp^^}
			prof=${!pvar:-$isp}
			linkemu_insert "$PREFIX" "$isp" "$prof" "${extra[@]}" ||
				_die "linkemu_insert $PREFIX $isp $prof failed (make builds build/linkemu; LAB_LINKEMU=0 for direct veths)"
		done
	fi

	trap - EXIT
}

_lab_down() {
	local prefix=$1 ns p
	local -a pids left
	_check_prefix "$prefix"
	# Emulators of this site, if any: stopped first, their run directories
	# removed, and the common parent too once no site uses it.
	if declare -F _linkemu_stop >/dev/null; then
		for p in "${LAB_ISPS[@]}"; do
			[[ -d "$(linkemu_dir "$prefix" "$p")" ]] || continue
			_linkemu_stop "$prefix" "$p"
			rm -rf "$(linkemu_dir "$prefix" "$p")"
		done
		rmdir "$LINKEMU_RUN" 2>/dev/null || true
	fi
	for ns in $(_lab_existing "$prefix"); do
		# A namespace lives on while a process holds it, so its processes
		# (services, daemons a test left behind) go first.
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null | grep -vx -e "$$" -e "$BASHPID" || true)
		if ((${#pids[@]})); then
			kill -TERM "${pids[@]}" 2>/dev/null || true
			for _ in $(seq 20); do
				left=()
				for p in "${pids[@]}"; do
					if kill -0 "$p" 2>/dev/null; then left+=("$p"); fi
				done
				((${#left[@]})) || break
				sleep 0.1
			done
			if ((${#left[@]})); then kill -KILL "${left[@]}" 2>/dev/null || true; fi
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
}

_lab_fault() {
	PREFIX=$1
	local kind=${2:-} isp=${3:-} arg=${4:-}
	_check_prefix "$PREFIX"
	_check_isp "$isp"
	ip netns list | awk '{ print $1 }' | grep -qx "${PREFIX}${isp}" \
		|| _die "namespace ${PREFIX}${isp} does not exist (run up first)"

	case "$kind" in
	carrier)
		# The edge's wanX then shows NO-CARRIER. Frames sent meanwhile may be
		# queued and delivered on restore: not a clean blackhole.
		ip -n "${PREFIX}${isp}" link set down0 down
		;;
	blackhole)
		# The common real failure: link up, ISP dead.
		nsx "$isp" nft delete table inet bsc_fault 2>/dev/null || true
		nsx "$isp" nft -f - <<-'EOF'
			table inet bsc_fault {
				chain forward { type filter hook forward priority -10; policy drop; }
				chain input   { type filter hook input priority -10; policy drop; }
			}
		EOF
		;;
	loss)
		if ! [[ "$arg" =~ ^[0-9]+$ ]] || ((arg > 100)); then
			_die "loss needs a percentage 0..100, not '$arg'"
		fi
		# Own table, so a loss can be set, changed or stacked on a blackhole.
		# It drops N% of forwarded packets in each direction, so a round trip
		# (request + echo) is lost with 1 - (1 - N/100)^2.
		# The counter lets a test see that the fault was there.
		local rule="numgen random mod 100 < $arg counter drop"
		# numgen yields 0..99: nft rejects "< 100" and "< 0" is pointless.
		((arg == 100)) && rule="counter drop"
		((arg == 0)) && rule=""
		nsx "$isp" nft delete table inet bsc_loss 2>/dev/null || true
		nsx "$isp" nft -f - <<-EOF
			table inet bsc_loss {
				chain forward {
					type filter hook forward priority -5; policy accept;
					$rule
				}
			}
		EOF
		;;
	restore)
		nsx "$isp" nft delete table inet bsc_fault 2>/dev/null || true
		nsx "$isp" nft delete table inet bsc_loss 2>/dev/null || true
		ip -n "${PREFIX}${isp}" link set down0 up
		;;
	*)
		_die "fault KIND must be carrier, blackhole, loss N or restore, not '$kind'"
		;;
	esac
}

# Wait until something listens on addr:port (proto tcp|udp) in inet.
_wait_listen() {
	local proto=$1 addr=$2 port=$3 flag i
	[[ "$proto" == tcp ]] && flag=-ltnH || flag=-lunH
	for i in $(seq 100); do
		if nsx inet ss "$flag" "src $addr and sport = :$port" | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	_die "nothing listens on $proto $addr:$port in ${PREFIX}inet after 10 s"
}

# Start one long-running service in inet, detached from our stdio so a caller
# reading our output through a pipe is not kept waiting for the servers.
_start() {
	local name=$1 dir=$2
	shift 2
	# Not through nsx: a backgrounded function would be a subshell and $!
	# its pid; a plain command is exec'd, so $! is the server's own pid.
	ip netns exec "${PREFIX}inet" setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
	echo $! >"$dir/$name.pid"
}

_lab_services() {
	PREFIX=$1
	local dir=${2:-}
	_check_prefix "$PREFIX"
	[[ -n "$dir" ]] || _die "services needs a DIR for pid files and logs"
	ip netns list | awk '{ print $1 }' | grep -qx "${PREFIX}inet" \
		|| _die "namespace ${PREFIX}inet does not exist (run up first)"
	mkdir -p "$dir/www"
	dir=$(readlink -f "$dir")

	head -c 8M /dev/urandom >"$dir/www/big.bin"
	(cd "$dir/www" && sha256sum big.bin >big.bin.sha256)

	_start http "$dir" "$LAB_PY" -m http.server --bind "$LAB_HTTP_IP" --directory "$dir/www" 80
	_start udpecho "$dir" "$LAB_PY" "$LAB_TOOLS/udpecho.py" "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT" \
		--log "$dir/udpecho.seq"
	# --no-daemon keeps it in the foreground as root (dnsmasq-base alone has
	# no 'dnsmasq' user to drop to), so the pid we record is the server's.
	_start dns "$dir" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--listen-address="$LAB_DNS_IP" --bind-interfaces --port=53 \
		--address=/bascule.test/"$LAB_HTTP_IP" --log-facility=- --log-queries
	_start tcphold "$dir" "$LAB_PY" "$LAB_TOOLS/tcphold.py" server "$LAB_TCPHOLD_IP" "$LAB_TCPHOLD_PORT"
	_start sip "$dir" "$LAB_PY" "$LAB_TOOLS/sipresponder.py" "$LAB_SIP_IP" "$LAB_SIP_PORT" \
		--log "$dir/sip.log"

	_wait_listen tcp "$LAB_HTTP_IP" 80
	_wait_listen udp "$LAB_UDPECHO_IP" "$LAB_UDPECHO_PORT"
	_wait_listen udp "$LAB_DNS_IP" 53
	_wait_listen tcp "$LAB_TCPHOLD_IP" "$LAB_TCPHOLD_PORT"
	_wait_listen udp "$LAB_SIP_IP" "$LAB_SIP_PORT"
}

_lab_usage() {
	sed -n '2,14p' "$_LAB_SELF" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

_lab_main() {
	local cmd=${1:-}
	shift || true
	case "$cmd" in
	up) _lab_up "$@" ;;
	down) _lab_down "$@" ;;
	fault) _lab_fault "$@" ;;
	services) _lab_services "$@" ;;
	*) _lab_usage ;;
	esac
}

# The link emulator's helpers (only when executed: a script that sources us
# loads them itself if it needs them), for `up` and for `down` (which stops
# an emulated site's emulators); `fault` and `services` start faster without.
# At top level, not in a function, so that their `declare -A` stays global.
if [[ "${BASH_SOURCE[0]}" == "$0" ]] \
	&& [[ "${1:-}" == up || "${1:-}" == down ]] \
	&& [[ -r "$(dirname "$LAB_TOOLS")/linkemu_test.sh" ]]; then
	# shellcheck source=tests/linkemu_test.sh
	source "$(dirname "$LAB_TOOLS")/linkemu_test.sh"
fi

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	_lab_main "$@"
fi
