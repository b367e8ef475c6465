#!/bin/sh
# Fail when a C file calls a function STYLE.md §8 bans. A line may opt out
# with an "ALLOW-BANNED: why" comment. Prints one "file:line: text" per hit.
set -eu
cd "$(dirname "$0")/.."
banned='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|gets|atoi|atol|atoll|atof|sscanf|alloca|system|popen|tmpnam|mktemp|rand|srand|inet_ntoa|inet_addr|gethostbyname|gethostbyaddr|signal|select|dup'
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find src include tests examples bench -name '*.[ch]')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
hits=$(grep -nE "(^|[^A-Za-z0-9_>.])($banned)[[:space:]]*\\(" $files | grep -v 'ALLOW-BANNED' || true)
if [ -n "$hits" ]; then
	printf '%s\n' "$hits"
	exit 1
fi
