#!/bin/bash
# tests/layout.sh - the house in order (issue 18): the layering holds and its
# check can fail, no product file is over 700 lines, the man pages lint
# clean, the README stays a front page, and nothing points outside the
# repository for its documentation.  TAP; neither root nor the network.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.." || exit 1
source tests/tap.sh

# The module table as the Makefile has it.
mapfile -t table < <(make -s -n check-layers | tr ' ' '\n' | grep ':')
out=$(scripts/check-layers.sh "${table[@]}" 2>&1)
result $? "make check-layers: ${#table[@]} modules, no cycle, every include within its module's closure" "$out"

# The check fails on a cycle, and on an include outside the closure.
cyc=("${table[@]/#lib:/lib:cli}")
out=$(scripts/check-layers.sh "${cyc[@]}" 2>&1)
[[ $? != 0 && "$out" == *cycle* ]]
result $? "check-layers fails when the table has a cycle (lib using cli)" "$(head -2 <<<"$out")"
narrow=("${table[@]/#cli:*/cli:lib}")
out=$(scripts/check-layers.sh "${narrow[@]}" 2>&1)
[[ $? != 0 && "$out" == *"module cli includes"* ]]
result $? "check-layers fails when a module includes one it does not use (cli using only lib)" \
	"$(head -1 <<<"$out")"

big=$(wc -l user/*/*.[ch] | grep -v ' total$' | sort -n | tail -1)
(($(awk '{ print $1 }' <<<"$big") < 700))
result $? "the largest file of user/ is under 700 lines" "$big"

missing=$(for f in user/*/*.[ch]; do
	sed -n 1,4p "$f" | grep -q "$(basename "$(dirname "$f")")/$(basename "$f") - " || echo "$f"
done)
[[ -z "$missing" ]]
result $? "every file of user/ opens with a comment saying what it owns (module/file - ...)" "$missing"

lines=$(wc -l <README.md)
((lines < 200))
result $? "README.md is a front page: $lines lines (< 200)"

out=$(grep -rn "shared/docs" README.md docs scripts tests user Makefile --exclude=layout.sh 2>&1)
[[ -z "$out" ]]
result $? "no documentation points outside the repository (shared/docs)" "$out"

for p in docs/man/bascule.8 docs/man/bascule.conf.5; do
	out=$(mandoc -Tlint -W warning "$p" 2>&1)
	[[ $? == 0 && -z "$out" ]]
	result $? "mandoc -Tlint -W warning $p: clean" "$out"
done

# Every command of the CLI's table has its section in bascule(8).
mapfile -t cmds < <(grep -ho '{ "[a-z-]*", cmd_' user/cli/*.c | cut -d'"' -f2 | sort -u)
miss=()
for c in "${cmds[@]}"; do
	grep -q "^\.It Cm $c\b" docs/man/bascule.8 || miss+=("$c")
done
((${#cmds[@]} > 10 && ${#miss[@]} == 0))
result $? "bascule(8) documents each of the ${#cmds[@]} commands of the CLI's table" "${miss[*]/#/missing: }"

tap_end
