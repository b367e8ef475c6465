# SPDX-License-Identifier: MIT
# fish completion for paddock(1).
#
# Commands and options are read from the --help of the paddock being
# completed, so they never fall behind it; profile names come from
# `paddock config profiles`, given the --home, --config, --system-config,
# --cwd and -c already on the line, so they are those of the effective
# config.

# Print what a --help lists: "options" (every "  -x" or "  --x, --y" line)
# or "name<TAB>summary" for each line under the heading $argv[1] (a section
# ends at a blank line). The rest of the arguments are the command to ask.
function __paddock_help
    set -l what $argv[1]
    set -l in 0
    for line in ($argv[2..-1] --help 2>/dev/null)
        if test "$what" = options
            string replace -rf -- '^  (-[-[:alnum:]]+)(?:, (-[-[:alnum:]]+))?.*$' '$1\n$2' $line | string match -rv '^$'
        else if test "$line" = "$what"
            set in 1
        else if test -z "$line"
            set in 0
        else if test $in = 1
            string replace -r -- '^\s+([^\s=]+)\S*\s*(.*)$' '$1\t$2' $line
        end
    end
end

function __paddock_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l exe (string replace -r '^~' $HOME -- $tokens[1])
    set -l cmdpath
    set -l cfg
    set -l prev
    set -l pfx ''
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l w $tokens[$i]
        switch $w
            case --log-level --home --config --system-config --cwd -c --profile --permissions --sandbox --add-dir --audit --workers --limit --format --protocol --method --client --resolve --socks
                set i (math $i + 1)
                if test $i -gt $n
                    set prev $w
                    break
                end
                if contains -- $w --home --config --system-config --cwd -c
                    set -a cfg $w (string replace -r '^~' $HOME -- $tokens[$i])
                end
            case '--*=*'
                set -l kv (string split -m1 = -- $w)
                if contains -- $kv[1] --home --config --system-config --cwd
                    set -a cfg $kv[1] (string replace -r '^~' $HOME -- $kv[2])
                end
            case '-*'
            case '*'
                set -a cmdpath $w
        end
        set i (math $i + 1)
    end

    # "--name=value": complete the value, keeping the "--name=".
    if string match -qr -- '^--[[:alnum:]-]+=' $cur
        set -l kv (string split -m1 = -- $cur)
        set prev $kv[1]
        set pfx "$kv[1]="
        set cur $kv[2]
    end
    set -l values
    switch "$prev"
        case --log-level
            set values error warn info debug
        case --sandbox
            set values read-only workspace-write danger-full-access
        case --format
            if contains -- "$cmdpath[1]" run status
                set values text json
            else
                set values sh fish json
            end
        case --protocol
            set values http https_connect socks5_tcp socks5_udp
        case --limit
            for l in (__paddock_help 'Limits and their defaults:' $exe proxy)
                set -a values (string split -f1 \t -- $l)=
            end
        case --profile --permissions
            set -l kind permissions
            test "$prev" = --profile; and set kind profile
            for l in ($exe config profiles $cfg 2>/dev/null)
                set -l kv (string split -m1 \t -- $l)
                test "$kv[1]" = $kind; and set -a values $kv[2]
            end
        case --home --cwd --add-dir
            printf '%s\n' $pfx(__fish_complete_directories $cur | string split -f1 \t)
            return
        case --config --system-config --audit
            printf '%s\n' $pfx(__fish_complete_path $cur)
            return
        case -c --workers --method --client --resolve --socks
            return
    end
    if test -n "$prev"
        printf '%s\n' $pfx$values
        return
    end

    if string match -q -- '-*' $cur
        __paddock_help options $exe $cmdpath
    else if test (count $cmdpath) -eq 0
        __paddock_help Commands: $exe
    else if test (count $cmdpath) -eq 1; and contains -- $cmdpath[1] config policy
        __paddock_help Commands: $exe $cmdpath[1]
    else if test (count $cmdpath) -eq 1; and test "$cmdpath[1]" = run
        # The command to confine.
        __fish_complete_command $cur
    else
        __fish_complete_path $cur
    end
end

complete -c paddock -f -a '(__paddock_complete)'
