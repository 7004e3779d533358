#!/bin/bash
# check-layers.sh - the controller's layering holds (`make check-layers`).
# Arguments: one MODULE:DEP,DEP,... per module of user/, from the Makefile's
# DEPS_ table.  Fails when
#   - the table has a cycle (tsort finds a loop);
#   - a file of user/M includes "X/..." for a module X that M does not use
#     (directly or through what it uses);
#   - a file includes a project header without its module ("foo.h" for
#     "dir/foo.h"), which would hide the edge from this check;
#   - a folder of user/ is not in the table.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

declare -A deps
pairs=""
for a in "$@"; do
	m=${a%%:*}
	deps[$m]=${a#*:}
	pairs+="$m $m"$'\n'
	for d in ${deps[$m]//,/ }; do
		pairs+="$d $m"$'\n'
	done
done
fail=0
if ! printf '%s' "$pairs" | tsort >/dev/null 2>/tmp/check-layers.$$; then
	echo "check-layers: the module table has a cycle:" >&2
	cat /tmp/check-layers.$$ >&2
	fail=1
fi
rm -f /tmp/check-layers.$$

closure() { # module -> its closure, one per line
	local seen=" $1 " todo="$1" m d
	while [ -n "$todo" ]; do
		set -- $todo
		m=$1
		shift
		todo="$*"
		for d in ${deps[$m]//,/ }; do
			case "$seen" in *" $d "*) ;; *) seen+="$d "; todo+=" $d" ;; esac
		done
	done
	echo "$seen"
}

for dir in user/*/; do
	m=$(basename "$dir")
	if [ -z "${deps[$m]+x}" ]; then
		echo "check-layers: user/$m is not in the module table (Makefile, DEPS_$m)" >&2
		fail=1
		continue
	fi
	allowed=$(closure "$m")
	while IFS=: read -r file line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		case "$inc" in
		bascule.h | bascule.skel.h) continue ;;
		*/*) to=${inc%%/*} ;;
		*)
			echo "check-layers: $file:$line: \"$inc\" without its module folder" >&2
			fail=1
			continue
			;;
		esac
		case "$allowed" in
		*" $to "*) ;;
		*)
			echo "check-layers: $file:$line: module $m includes $inc, but $m does not use $to (Makefile: DEPS_$m)" >&2
			fail=1
			;;
		esac
	done < <(grep -Hn '^#include "' "$dir"*.[ch] 2>/dev/null)
done
[ $fail = 0 ] && echo "check-layers: ${#deps[@]} modules, no cycle, every include within its module's closure"
exit $fail
