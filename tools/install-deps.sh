#!/bin/bash
# Install every package of tools/deps.txt with apt (Debian 12, as root).
# Quiet unless something fails, then the apt log is shown.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/deps.txt")
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: run as root" >&2
    exit 1
fi
log=$(mktemp /tmp/hivebox-apt.XXXXXX)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
echo "apt-get update"
apt-get update -q >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "apt-get install ${#pkgs[@]} packages"
apt-get install -y -q --no-install-recommends "${pkgs[@]}" </dev/null >"$log" 2>&1 \
    || { cat "$log" >&2; exit 1; }
# npm packages the end-to-end tests drive: the official MCP TypeScript SDK and E2B JS SDK,
# Redocly's linter for the OpenAPI description, @playwright/test for the
# dashboard (it drives Debian's chromium: no browser download); and the
# dashboard's own vendor modules (xterm.js, uPlot), which `make` embeds.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for dir in tests/e2e/mcp tests/e2e/e2b tests/openapi tests/browser webui; do
    echo "npm ci $dir"
    npm ci --prefix "$here/../$dir" --no-audit --no-fund --loglevel=error >"$log" 2>&1 \
        || { cat "$log" >&2; exit 1; }
done
