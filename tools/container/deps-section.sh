#!/bin/sh
# deps-section.sh SECTION DEPS: the packages of one section of tools/deps.txt
# (the lines after a "# SECTION..." comment, up to the next section's
# "# build", "# run", "# test" or "# lint" comment), one a line.
set -eu
awk -v want="$1" '
    /^# (build|run|test|lint)([: ]|$)/ { sub(/^# /, ""); sub(/[: ].*/, ""); cur = $0; next }
    { sub(/#.*/, ""); gsub(/[[:space:]]/, "") }
    $0 != "" && cur == want { print }
' "$2"
