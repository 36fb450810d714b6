#!/bin/bash
# HiveBox on a fresh Debian 12 machine, as root, in one command (in a root
# shell: ./tools/setup.sh; from an account with sudo: sudo ./tools/setup.sh):
# install the packages, build, build the default image if missing, then
# - systemd is PID 1: `make install` (+ OpenCode) and `systemctl enable --now
#   hivebox` (tools/systemd/hivebox.service; settings in /etc/hivebox/env);
# - otherwise: start the daemon in the background (log in
#   <data-dir>/daemon.log, pid in <data-dir>/daemon.pid);
# and print the API URL and key.
#
# Run it again at will: each step finds what is already there, says so and
# leaves it (packages installed, binaries unchanged, image built, daemon
# answering). A rebuilt binary is installed and the service restarted
# (sandboxes keep running).
#
# Environment: HIVEBOX_DATA_DIR (/var/lib/hivebox), HIVEBOX_PORT (7070),
# HIVEBOX_PACKAGES (extra Debian packages for the default image),
# HIVEBOX_API_KEY (otherwise the daemon generates one and keeps it in
# <data-dir>/api_key). For the service they go into /etc/hivebox/env when
# this script creates it; afterwards that file is the one to edit.
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
prefix=/usr/local
env_file=/etc/hivebox/env

healthy() { curl -fsS "$url/healthz" >/dev/null 2>&1; }

# Wait for /healthz; $1: a command that fails once the daemon is gone.
wait_healthy() {
    for _ in $(seq 1 240); do   # up to 2 min: recovery of many sandboxes takes time
        healthy && return 0
        "$1" || return 1
        sleep 0.5
    done
    healthy
}

# Every package of tools/deps.txt installed and every npm folder newer than
# its lock: nothing for install-deps.sh to do (it would apt-get update and
# npm ci all over again).
deps_present() {
    local pkgs n
    mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' tools/deps.txt)
    n=$(dpkg-query -W -f='${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null | grep -c '^ii' || true)
    [ "$n" = "${#pkgs[@]}" ] || return 1
    for dir in tests/e2e/mcp tests/e2e/e2b tests/openapi tests/browser webui; do
        [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] || return 1
    done
}

echo "==> packages"
if deps_present; then
    echo "all of tools/deps.txt and the npm folders are installed (left as they are)"
else
    tools/install-deps.sh
fi

echo "==> building"
make -j"$(nproc)" >/dev/null

echo "==> OpenCode (the per-sandbox agent; npm opencode-ai, pinned)"
tools/install-opencode.sh build

echo "==> default image"
mkdir -p "$data_dir"
build/hivebox image build --data-dir "$data_dir"

# ---- systemd ----

# The settings given to this script, for a new /etc/hivebox/env.
write_env() {
    {
        [ -z "${HIVEBOX_DATA_DIR:-}" ] || echo "HIVEBOX_DATA_DIR=$data_dir"
        [ -z "${HIVEBOX_API_KEY:-}" ] || echo "HIVEBOX_API_KEY=$HIVEBOX_API_KEY"
        [ -z "${HIVEBOX_PACKAGES:-}" ] || echo "HIVEBOX_PACKAGES=$HIVEBOX_PACKAGES"
        [ -z "${HIVEBOX_PORT:-}" ] || echo "HIVEBOX_DAEMON_ARGS=--port $port"
    } >>"$env_file"
}

service_alive() { systemctl is-active --quiet hivebox; }

run_systemd() {
    echo "==> installing into $prefix (systemd is PID 1)"
    local had_env=0 before after
    [ -e "$env_file" ] && had_env=1
    # Checksums of what is installed: a change means daemon-reload and restart.
    before=$(cat "$prefix/bin/hivebox" "$prefix/lib/hivebox/hivebox-init" \
                 "$prefix/lib/systemd/system/hivebox.service" 2>/dev/null | sha256sum || true)
    make install PREFIX="$prefix" >/dev/null
    make install-opencode PREFIX="$prefix"
    after=$(cat "$prefix/bin/hivebox" "$prefix/lib/hivebox/hivebox-init" \
                "$prefix/lib/systemd/system/hivebox.service" | sha256sum)
    if [ "$had_env" = 0 ]; then
        write_env
        echo "wrote $env_file (mode 0600): edit it, then systemctl restart hivebox"
    else
        echo "found $env_file (left as it is)"
    fi
    echo "==> hivebox.service"
    if [ "$before" != "$after" ]; then
        systemctl daemon-reload
    fi
    systemctl is-enabled --quiet hivebox || systemctl enable hivebox
    if service_alive && [ "$before" = "$after" ]; then
        echo "hivebox.service is active (pid $(systemctl show -p MainPID --value hivebox)), binaries unchanged (left as it is)"
    elif service_alive; then
        echo "new binaries: systemctl restart hivebox (sandboxes keep running)"
        systemctl restart hivebox
    else
        systemctl start hivebox
    fi
    # Type=notify: start returned once the API answered (or failed).
    wait_healthy service_alive || {
        echo "setup.sh: hivebox.service does not answer on $url; journalctl -u hivebox:" >&2
        journalctl -u hivebox -n 20 --no-pager >&2 || true
        exit 1
    }
    echo "running as hivebox.service (logs: journalctl -u hivebox)"
}

# ---- no systemd: a background process ----

pid_alive() { kill -0 "$(cat "$data_dir/daemon.pid")" 2>/dev/null; }

run_background() {
    echo "==> daemon (no systemd as PID 1: a background process)"
    if healthy; then
        local pid
        pid=$(cat "$data_dir/daemon.pid" 2>/dev/null || echo "?")
        echo "a daemon already answers on $url (pid file: $pid; left as it is)"
        return
    fi
    # setsid: the daemon outlives this shell and its terminal.
    setsid build/hivebox daemon --port "$port" --data-dir "$data_dir" \
        </dev/null >>"$log" 2>&1 &
    echo $! >"$data_dir/daemon.pid"
    wait_healthy pid_alive || {
        echo "setup.sh: the daemon exited or does not answer on $url; last lines of $log:" >&2
        tail -20 "$log" >&2
        exit 1
    }
    echo "started (pid $(cat "$data_dir/daemon.pid"), log $log)"
}

# sd_booted(): systemd runs this machine.
if [ -d /run/systemd/system ]; then
    run_systemd
    cli=hivebox
else
    run_background
    cli=build/hivebox
fi

key=${HIVEBOX_API_KEY:-}
if [ -z "$key" ] && [ "$cli" = hivebox ]; then   # the service's own, if set there
    key=$(sed -n 's/^HIVEBOX_API_KEY=//p' "$env_file" | tail -1)
fi
[ -n "$key" ] || key=$(cat "$data_dir/api_key" 2>/dev/null || true)
echo
echo "HiveBox is running."
echo "  export HIVEBOX_API_URL=$url"
echo "  export HIVEBOX_API_KEY=$key"
echo "  $cli run -- uname -a"
