# SPDX-License-Identifier: MIT
# bash completion for paddock(1).
#
# Commands and options are read from the --help of the paddock being
# completed, so they never fall behind it; profile names come from
# `paddock config profiles`, given the --home, --config, --system-config,
# --cwd and -c already on the line, so they are those of the effective
# config.

# Print what a --help lists: "options" (every "  -x" or "  --x, --y" line)
# or the first word of each line under the heading "$1" (a section ends at
# a blank line). The rest of the arguments are the command to ask.
_paddock_help()
{
	local what=$1 line in=0 w
	shift
	while IFS= read -r line; do
		if [[ $what == options ]]; then
			if [[ $line =~ ^\ \ (-[-[:alnum:]]+)(,\ (-[-[:alnum:]]+))? ]]; then
				printf '%s\n' "${BASH_REMATCH[1]}"
				[[ -n ${BASH_REMATCH[3]} ]] &&
					printf '%s\n' "${BASH_REMATCH[3]}"
			fi
		elif [[ $line == "$what" ]]; then
			in=1
		elif [[ -z $line ]]; then
			in=0
		elif ((in)); then
			read -r w _ <<<"$line"
			printf '%s\n' "${w%%=*}"
		fi
	done < <("$@" --help 2>/dev/null)
}

# A word as typed, as the command will see it: without the quotes of a
# plain '...' or "..." word or backslashes, and with ~/ expanded.
_paddock_unquote()
{
	local v=$1

	if [[ $v =~ ^\'(.*)\'$ || $v =~ ^\"(.*)\"$ ]]; then
		v=${BASH_REMATCH[1]}
	else
		v=${v//\\/}
	fi
	case $v in
	"~") v=$HOME ;;
	"~/"*) v=$HOME/${v#"~/"} ;;
	esac
	printf '%s\n' "$v"
}

_paddock()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local exe i w v
	local -a path=() cfg=() words=()

	exe=$(_paddock_unquote "${COMP_WORDS[0]}")
	# "--name=value" arrives as three words when '=' breaks words.
	if [[ $cur == = ]]; then
		cur=""
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# The command path, and the config options to pass on.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--log-level | --home | --config | --system-config | --cwd | -c | \
		--profile | --permissions | --sandbox | --add-dir | --audit | \
		--workers | --limit | --format | --protocol | --method | \
		--client | --resolve | --socks)
			if [[ ${COMP_WORDS[i + 1]} == = ]]; then
				((i++))
			fi
			((i++))
			((i < COMP_CWORD)) || break
			v=$(_paddock_unquote "${COMP_WORDS[i]}")
			case $w in
			--home | --config | --system-config | --cwd | -c)
				cfg+=("$w" "$v")
				;;
			esac
			;;
		-*) ;;
		*) path+=("$w") ;;
		esac
	done

	case $prev in
	--log-level) words=(error warn info debug) ;;
	--sandbox) words=(read-only workspace-write danger-full-access) ;;
	--format)
		if [[ ${path[0]} == run || ${path[0]} == status ]]; then
			words=(text json)
		else
			words=(sh fish json)
		fi
		;;
	--protocol) words=(http https_connect socks5_tcp socks5_udp) ;;
	--limit)
		mapfile -t words < <(_paddock_help "Limits and their defaults:" \
			"$exe" proxy)
		mapfile -t COMPREPLY < <(compgen -S = -W "${words[*]}" -- "$cur")
		compopt -o nospace 2>/dev/null
		return
		;;
	--profile | --permissions)
		[[ $prev == --profile ]] && v=profile || v=permissions
		while IFS=$'\t' read -r i w; do
			[[ $i == "$v" ]] && words+=("$w")
		done < <("$exe" config profiles "${cfg[@]}" 2>/dev/null)
		# One candidate per line, quoted for the shell.
		for w in "${words[@]}"; do
			[[ $w == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$w")")
		done
		return
		;;
	--home | --cwd | --add-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	--config | --system-config | --audit)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	-c | --workers | --method | --client | --resolve | --socks)
		return
		;;
	esac
	if ((${#words[@]})); then
		mapfile -t COMPREPLY < <(compgen -W "${words[*]}" -- "$cur")
		return
	fi

	if [[ $cur == -* ]]; then
		mapfile -t words < <(_paddock_help options "$exe" "${path[@]}")
	elif ((${#path[@]} == 0)); then
		mapfile -t words < <(_paddock_help Commands: "$exe")
	elif ((${#path[@]} == 1)) && [[ ${path[0]} == config || ${path[0]} == policy ]]; then
		mapfile -t words < <(_paddock_help Commands: "$exe" "${path[0]}")
	elif ((${#path[@]} == 1)) && [[ ${path[0]} == run ]]; then
		# The command to confine.
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		return
	else
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "${words[*]}" -- "$cur")
}

complete -F _paddock paddock
