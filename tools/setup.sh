#!/bin/bash
# HiveBox on a fresh Debian 12 machine, as root, in one command:
# install the packages, build, build the default image if missing, start
# the daemon in the background (log in <data-dir>/daemon.log) and print
# the API URL and key.
#
# Environment: HIVEBOX_DATA_DIR (/var/lib/hivebox), HIVEBOX_PORT (7070),
# HIVEBOX_PACKAGES (extra Debian packages for the default image),
# HIVEBOX_API_KEY (otherwise the daemon generates one and keeps it in
# <data-dir>/api_key).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (in a root shell: ./tools/setup.sh; with sudo: sudo ./tools/setup.sh)" >&2
    exit 1
fi
data_dir=${HIVEBOX_DATA_DIR:-/var/lib/hivebox}
port=${HIVEBOX_PORT:-7070}
log="$data_dir/daemon.log"
url="http://127.0.0.1:$port"

echo "==> installing packages"
tools/install-deps.sh

echo "==> building"
make -j"$(nproc)" >/dev/null

echo "==> OpenCode (the per-sandbox agent; npm opencode-ai, pinned)"
tools/install-opencode.sh build

echo "==> default image"
mkdir -p "$data_dir"
build/hivebox image build --data-dir "$data_dir"

echo "==> daemon"
if curl -fsS "$url/healthz" >/dev/null 2>&1; then
    echo "a daemon already answers on $url (left as it is)"
else
    # setsid: the daemon outlives this shell and its terminal.
    setsid build/hivebox daemon --port "$port" --data-dir "$data_dir" \
        </dev/null >>"$log" 2>&1 &
    echo $! >"$data_dir/daemon.pid"
    for _ in $(seq 1 240); do   # up to 2 min: recovery of many sandboxes takes time
        curl -fsS "$url/healthz" >/dev/null 2>&1 && break
        if ! kill -0 "$(cat "$data_dir/daemon.pid")" 2>/dev/null; then
            echo "setup.sh: the daemon exited; last lines of $log:" >&2
            tail -20 "$log" >&2
            exit 1
        fi
        sleep 0.5
    done
    curl -fsS "$url/healthz" >/dev/null || { echo "setup.sh: no answer on $url" >&2; exit 1; }
    echo "started (pid $(cat "$data_dir/daemon.pid"), log $log)"
fi

key=${HIVEBOX_API_KEY:-}
[ -n "$key" ] || key=$(cat "$data_dir/api_key" 2>/dev/null || true)
echo
echo "HiveBox is running."
echo "  export HIVEBOX_API_URL=$url"
echo "  export HIVEBOX_API_KEY=$key"
echo "  build/hivebox run -- uname -a"
