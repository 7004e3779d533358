# bash completion for bascule(8)                              -*- shell-script -*-
#
# Installed as /usr/share/bash-completion/completions/bascule, or sourced
# from ~/.bashrc.  It completes the commands, their verbs and options, the
# files of -c, --db and -o, and uplink names: those `bascule status --json`
# lists (the pinned maps, so root), else the [uplink NAME] sections of the
# configuration (-c FILE on the line, $BASCULE_COMPLETION_CONF, or
# /etc/bascule/bascule.conf).  It needs nothing but bash, sed and grep (not
# the bash-completion package).

_bascule_commands="run check-config status flows explain uplink purge reload health events drill probe report help"
_bascule_uplink_verbs="activate auto down drain up undrain"

# Uplink names, one a line.  $1: the pin root given on the line, $2: the
# control socket, $3: a configuration file given on the line (each may be
# empty).
_bascule_uplinks()
{
	local pin=$1 ctl=$2 conf=$3 out
	local -a args=()

	[[ -n $pin ]] && args+=(-p "$pin")
	[[ -n $ctl ]] && args+=(-S "$ctl")
	# A daemon-less status reads only the pinned maps: quick, but never let
	# a stuck call hold the shell.
	out=$(timeout 2 bascule "${args[@]}" status --json 2>/dev/null)
	if [[ -n $out ]]; then
		out=$(printf '%s\n' "$out" |
			grep -o '"name"[[:space:]]*:[[:space:]]*"[^"]*"' |
			sed 's/.*"\([^"]*\)"$/\1/' | sort -u)
		if [[ -n $out ]]; then
			printf '%s\n' "$out"
			return
		fi
	fi
	conf=${conf:-${BASCULE_COMPLETION_CONF:-/etc/bascule/bascule.conf}}
	[[ -r $conf ]] || return
	sed -n 's/^[[:space:]]*\[[[:space:]]*uplink[[:space:]][[:space:]]*\([A-Za-z0-9_-][A-Za-z0-9_-]*\)[[:space:]]*\].*/\1/p' "$conf"
}

_bascule_files()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_bascule_dirs()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_bascule_words()
{
	# $1: the candidates, $2: the word being completed
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_bascule()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=''
	local i=1 w cmd='' cmdi=0 pin='' ctl='' conf=''

	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	# The options before the command, then the command.
	while ((i < COMP_CWORD)); do
		w=${COMP_WORDS[i]}
		case $w in
		-p | --pin-root) pin=${COMP_WORDS[i + 1]}; ((i += 2)); continue ;;
		-S | --control) ctl=${COMP_WORDS[i + 1]}; ((i += 2)); continue ;;
		--pin-root=*) pin=${w#*=} ;;
		--control=*) ctl=${w#*=} ;;
		-*) ;;
		*) cmd=$w; cmdi=$i; break ;;
		esac
		((i++))
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-p | --pin-root) _bascule_dirs "$cur"; return ;;
		-S | --control) _bascule_files "$cur"; return ;;
		esac
		if [[ $cur == -* ]]; then
			_bascule_words "-p --pin-root -S --control -v --verbose -h --help" "$cur"
		else
			_bascule_words "$_bascule_commands" "$cur"
		fi
		return
	fi

	# A configuration file given to this command, for the uplink names.
	for ((i = cmdi + 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c | --config) conf=${COMP_WORDS[i + 1]} ;;
		esac
	done

	local arg=$((COMP_CWORD - cmdi)) # 1 = the command's first argument
	case $cmd in
	run)
		case $prev in
		-c | --config) _bascule_files "$cur" ;;
		*) _bascule_words "-c --config --keep" "$cur" ;;
		esac
		;;
	check-config)
		((arg == 1)) && _bascule_files "$cur"
		;;
	status | health | events | drill)
		((arg == 1)) && _bascule_words "--json" "$cur"
		;;
	uplink)
		if ((arg == 1)); then
			_bascule_words "$_bascule_uplink_verbs" "$cur"
		elif ((arg == 2)); then
			case ${COMP_WORDS[cmdi + 1]} in
			activate | down | drain | up | undrain)
				_bascule_words "$(_bascule_uplinks "$pin" "$ctl" "$conf")" "$cur"
				;;
			esac
		fi
		;;
	purge)
		case $prev in
		-c) _bascule_files "$cur" ;;
		*) ((arg == 1)) && _bascule_words "-c" "$cur" ;;
		esac
		;;
	probe)
		# [-t MS] IFACE SOURCE TARGET...
		case $prev in
		-t | --timeout) return ;;
		esac
		if [[ $cur == -* ]]; then
			_bascule_words "-t --timeout --help" "$cur"
			return
		fi
		local n=0
		for ((i = cmdi + 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			-t | --timeout) ((i++)) ;;
			-*) ;;
			*) ((n++)) ;;
			esac
		done
		if ((n == 0)); then
			_bascule_words "$(ls /sys/class/net 2>/dev/null)" "$cur"
		elif ((n == 1)); then
			# the interface's own IPv4 addresses
			local ifc=${COMP_WORDS[COMP_CWORD - 1]}
			_bascule_words "$(ip -4 -o addr show dev "$ifc" 2>/dev/null |
				sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')" "$cur"
		else
			_bascule_words "icmp tcp dns http sip" "$cur"
		fi
		;;
	report)
		case $prev in
		-c | --config | -o | --output | --db) _bascule_files "$cur" ;;
		--format) _bascule_words "html md" "$cur" ;;
		--days | --from | --to) ;;
		*) _bascule_words "-c --config --db --days --from --to --format -o --output" "$cur" ;;
		esac
		;;
	esac
}

complete -F _bascule bascule
