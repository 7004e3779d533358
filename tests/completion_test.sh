#!/bin/bash
# tests/completion_test.sh - the bash completion (scripts/completion/bascule.bash)
# with COMP_WORDS and COMP_CWORD set by hand.  TAP: one line per check, then
# the plan; exits non-zero when a check fails.  Needs neither root nor the
# network: `bascule` is a stand-in script on PATH that prints a status
# document, or fails, as each check wants.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.." || exit 1

COMPLETION=scripts/completion/bascule.bash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do echo "#   $l"; done
}

# check DESCRIPTION EXPECTED WORD...: complete the words (the last one is
# the word under the cursor) and compare the sorted candidates.
check() {
	local desc=$1 want=$2 got
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_bascule bascule "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
	got=${got% }
	if [[ $got == "$want" ]]; then
		ok "$desc"
	else
		not_ok "$desc" "completing: $*" "expected: '$want'" "got:      '$got'"
	fi
}

# The stand-in bascule: FAKE_STATUS=pretty|plain|fail, its arguments logged.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/bascule" <<'EOF'
#!/bin/bash
printf '%s\n' "$*" >>"$FAKE_LOG"
case ${FAKE_STATUS:-fail} in
pretty)
	cat <<'JSON'
{
  "daemon_running": true,
  "pin_root": "/sys/fs/bpf/bascule",
  "uplinks": [
    {
      "name": "fiber",
      "state": "up",
      "health": { "name": "fiber", "targets": [ { "probe": "icmp 203.0.113.1" } ] }
    },
    {
      "name": "cell",
      "state": "up"
    },
    {
      "name": "sat",
      "state": "down"
    }
  ],
  "reasons": { "pass_non_ip": 3 }
}
JSON
	;;
plain)
	echo '{"daemon_running":false,"uplinks":[{"name":"wan-a","state":"up"},{"name":"wan_b","state":"up"}],"reasons":{}}'
	;;
*)
	echo "bascule: cannot open the pinned maps" >&2
	exit 1
	;;
esac
EOF
chmod +x "$tmp/bin/bascule"
export PATH="$tmp/bin:$PATH" FAKE_LOG="$tmp/args.log"
export BASCULE_COMPLETION_CONF="$tmp/none.conf"

# 1: it loads, and registers itself
if out=$(bash -c "source '$COMPLETION' && complete -p bascule" 2>&1) &&
	[[ $out == "complete -F _bascule bascule" ]]; then
	ok "the completion loads without error and registers _bascule"
else
	not_ok "the completion loads without error and registers _bascule" "$out"
fi
# shellcheck source=scripts/completion/bascule.bash
source "$COMPLETION"

check "the commands" \
	"check-config drill events explain flows health help probe purge reload report run status uplink" bascule ""
check "a command from its start" "uplink" bascule up
check "the options before the command" \
	"--control --help --pin-root --verbose -S -h -p -v" bascule -
check "uplink's verbs" "activate auto down drain undrain up" bascule uplink ""

export FAKE_STATUS=pretty
check "uplink names from bascule status --json (pretty)" "cell fiber sat" bascule uplink down ""
check "uplink names for drain, filtered by the word" "fiber" bascule uplink drain f
FAKE_STATUS=plain
check "uplink names from bascule status --json (one line)" "wan-a wan_b" bascule uplink activate ""
check "no name after uplink auto" "" bascule uplink auto ""

: >"$FAKE_LOG"
check "the pin root and socket given on the line go to status" "wan-a wan_b" \
	bascule -p /tmp/pins -S /tmp/ctl.sock uplink up ""
if grep -qx -- "-p /tmp/pins -S /tmp/ctl.sock status --json" "$FAKE_LOG"; then
	ok "status was asked with -p and -S"
else
	not_ok "status was asked with -p and -S" "calls: $(tr '\n' '|' <"$FAKE_LOG")"
fi

FAKE_STATUS=fail
BASCULE_COMPLETION_CONF=scripts/bascule.conf.example
check "uplink names from the configuration's [uplink NAME] when status fails" \
	"5g fibre starlink" bascule uplink down ""
BASCULE_COMPLETION_CONF="$tmp/none.conf"
check "no names when status fails and there is no configuration" "" bascule uplink down ""

mkdir -p "$tmp/cwd/etc"
touch "$tmp/cwd/site.conf" "$tmp/cwd/lab.conf"
cd "$tmp/cwd" || exit 1
check "run -c completes file names" "etc lab.conf site.conf" bascule run -c ""
check "run's options" "--config --keep -c" bascule run -
check "check-config completes file names" "etc lab.conf site.conf" bascule check-config ""
check "purge -c completes file names" "site.conf" bascule purge -c s
check "report -o completes file names" "lab.conf" bascule report -c site.conf -o l
check "-p completes directories" "etc" bascule -p e
cd - >/dev/null || exit 1

check "report --format" "html md" bascule report -c site.conf --format ""
check "status --json" "--json" bascule status -
check "drill --json" "--json" bascule drill ""
check "no second argument to health" "" bascule health --json ""
check "probe's first argument is an interface" "lo" bascule probe l
check "probe's targets start with a kind" "dns http icmp sip tcp" bascule probe lo 127.0.0.1 ""
check "probe's options" "--help --timeout -t" bascule probe -

echo "1..$n"
((failed == 0))
