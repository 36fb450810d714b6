#!/bin/bash
# Install OpenCode (the `opencode-ai` npm package, pinned) where the daemon
# looks for it: build/opencode/node_modules/.bin/opencode, beside
# build/hivebox. Each further build dir given (e.g. build-san) gets a link
# to the same install. Idempotent; quiet unless something fails.
#
#   tools/install-opencode.sh [build-dir ...]      (default: build)
#
# Keep OPENCODE_VERSION in step with HB_OC_NPM_VERSION in actors/opencode/proxy.h.
set -euo pipefail
cd "$(dirname "$0")/.."
OPENCODE_VERSION=1.18.33

[ $# -gt 0 ] || set -- build
main=$1
shift

if ! command -v npm >/dev/null 2>&1; then
    echo "install-opencode: npm not found; installing Debian's nodejs and npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm \
        </dev/null >/dev/null
fi

bin="$main/opencode/node_modules/.bin/opencode"
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$OPENCODE_VERSION" ]; then
    echo "opencode-ai@$OPENCODE_VERSION already in $main/opencode"
else
    echo "npm install opencode-ai@$OPENCODE_VERSION into $main/opencode"
    mkdir -p "$main/opencode"
    log=$(mktemp /tmp/hivebox-npm.XXXXXX)
    trap 'rm -f "$log"' EXIT
    npm install --prefix "$main/opencode" --no-audit --no-fund --loglevel=error \
        "opencode-ai@$OPENCODE_VERSION" </dev/null >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    "$bin" --version >/dev/null || { echo "install-opencode: $bin does not run" >&2; exit 1; }
fi

for dir in "$@"; do
    mkdir -p "$dir"
    if [ ! -e "$dir/opencode" ]; then
        ln -sfn "$(cd "$main" && pwd)/opencode" "$dir/opencode"
    fi
done
