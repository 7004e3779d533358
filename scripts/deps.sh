#!/bin/bash
# deps.sh - install the Debian packages Bascule needs to build, test and run
# its lab, when (and only when) some are missing.  Idempotent; run as root.
set -euo pipefail

PKGS=(
	# build: the BPF toolchain, libbpf and the libraries the controller uses
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
	libmnl-dev libinih-dev libjson-c-dev libsystemd-dev libmicrohttpd-dev pkg-config
	libsqlite3-dev
	# tests (sqlite3, tidy and chromium: the history and the report's page;
	# libclang-rt: libFuzzer and the sanitizers for clang 14, `make fuzz`;
	# libfuse3: the lab's slow disk, tests/tools/slowfs.c)
	libcmocka-dev prometheus sqlite3 tidy chromium libclang-rt-14-dev libfuse3-dev
	# docs: the man pages are linted (mandoc -Tlint) by the docs suite
	mandoc
	# the lab: namespaces, faults, traffic and services
	iproute2 nftables ethtool procps util-linux python3 curl dnsutils
	iputils-ping dnsmasq-base iperf3
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The tests use promtool and start their own Prometheus in the lab: the
# package's system-wide server is not wanted.
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
echo "deps: done"
