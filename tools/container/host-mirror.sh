#!/bin/sh
# host-mirror.sh [SUITE]: the Debian mirror this machine's apt uses for
# SUITE (bookworm; or bookworm-security), as the daemon picks it for the
# default image: the first http(s) source of SUITE main in
# /etc/apt/sources.list, sources.list.d/*.list or *.sources; otherwise
# deb.debian.org. `make image` and test.sh pass it to the build
# (DEBIAN_MIRROR, DEBIAN_SECURITY), so a local mirror or proxy is used there too.
set -eu
suite=${1:-bookworm}
case $suite in
    *-security) fallback=http://deb.debian.org/debian-security ;;
    *) fallback=http://deb.debian.org/debian ;;
esac
found=$(
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk -v s="$suite" '$1 == "deb" && $2 ~ /^https?:/ && $3 == s && / main/ { print $2 }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # deb822: one stanza per paragraph; keep URIs of stanzas with bookworm and main.
        awk -v s="$suite" 'BEGIN { RS = "" } $0 ~ ("Suites:[^\n]*[ \t]" s "( |\n|$)") && /Components:[^\n]*main/ {
                 if (match($0, /URIs:[ \t]*https?:[^ \t\n]+/)) {
                     u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u } }' "$f"
    done | head -n 1
)
echo "${found:-$fallback}" | head -n 1 | sed 's,/*$,,'
