#!/bin/bash
# The container image's test (issue 18), run by .ci/run as root:
#   1. a local debian:bookworm base from a debootstrap tarball (podman import;
#      the tarball is cached in $HIVEBOX_CONTAINER_CACHE),
#   2. the image built from tools/container/Dockerfile with podman against it,
#   3. the seed's bare command line (no -v: the image's VOLUME gives an
#      anonymous volume), a first start: 503 + Retry-After while the default
#      image builds, with progress in the log (then stopped and removed),
#   4. the seed's command line (podman run --privileged --cgroupns=host -p
#      ... -e HIVEBOX_API_KEY=... -v <skills>:/skills -e
#      HIVEBOX_OPENCODE_SKILLS_PATH=/skills) on a data dir whose images/base is
#      hard-linked from the host's (building it takes minutes), the REST smoke
#      (tools/container/smoke.py), the HEALTHCHECK, a restart,
#   5. a new container on the same volume without a key and with
#      HIVEBOX_OPENCODE=false: the generated key survives a restart.
# Prints "SKIPPED: <why>" and exits 0 where podman cannot run. Removes every
# container, image and directory it made on exit; HIVEBOX_CONTAINER_KEEP=1
# keeps the built image and the base (and builds with the layer cache).
#
# Two halves, so .ci/run can build while other steps run (the build is mostly
# downloads): `test.sh --build-only TAG` does 1-2 and keeps the image as TAG;
# `HIVEBOX_CONTAINER_IMAGE=TAG test.sh` then does 3-5 with it and removes it.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

skip() { echo "SKIPPED: $*"; exit 0; }
say() { printf '[%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "not root (rootful podman with --privileged is what is tested)"
command -v podman >/dev/null || skip "podman is not installed (apt-get install podman runc)"
command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed"

keep=${HIVEBOX_CONTAINER_KEEP:-0}
build_only=
if [ "${1:-}" = --build-only ]; then
    build_only=${2:?--build-only needs an image tag}
fi
prebuilt=${HIVEBOX_CONTAINER_IMAGE:-}
cache=${HIVEBOX_CONTAINER_CACHE:-/var/cache/hivebox/container}
host_base=${HIVEBOX_E2E_BASE_IMAGE:-/var/lib/hivebox/images/base}
base=localhost/debian:bookworm
image=${build_only:-${prebuilt:-localhost/hivebox-test:$$}}
mirror=$(tools/container/host-mirror.sh)
tmp=$(mktemp -d /var/tmp/hivebox-ctest.XXXXXX)
containers=()
base_imported=0

cleanup() {
    local rc=$?
    set +e
    for c in "${containers[@]}"; do podman rm -f -v -t 5 "$c" >/dev/null 2>&1; done
    if [ "$keep" != 1 ]; then
        # --build-only keeps the image it built (the second half removes it),
        # never the base it imported
        [ -z "$build_only" ] && podman rmi -f "$image" >/dev/null 2>&1
        [ "$base_imported" = 1 ] && podman rmi -f "$base" >/dev/null 2>&1
    fi
    rm -rf "$tmp"
    say "cleaned up (exit $rc)"
}
trap cleanup EXIT

# podman as root here needs runc (crun 1.8 trips on cgroup v1 hybrid) and
# explicit rlimits where root lacks CAP_SYS_RESOURCE; both are harmless elsewhere.
podman_run=(podman run --runtime runc)
ulimits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

# start NAME ARGS...: podman run -d. Without systemd, podman complains on
# stderr that it cannot schedule the HEALTHCHECK's timer (test 4 runs the
# check itself): its stderr is shown only when the run fails.
start() {
    local name=$1
    shift
    containers+=("$name")
    "${podman_run[@]}" -d --name "$name" "${ulimits[@]}" "$@" >/dev/null 2>"$tmp/run.err" \
        || { cat "$tmp/run.err" >&2; fail "podman run $name"; }
}
# quiet CMD...: podman's own stderr kept out of the way the same way.
quiet() { "$@" >/dev/null 2>"$tmp/quiet.err" || { cat "$tmp/quiet.err" >&2; fail "$*"; }; }

build_image() {
# ---- 1. the base image -------------------------------------------------
tarball=$cache/bookworm-minbase.tar
if podman image exists "$base"; then
    say "base: $base already there"
else
    if [ ! -s "$tarball" ]; then
        say "base: debootstrap --variant=minbase bookworm from $mirror (cached in $tarball)"
        mkdir -p "$cache"
        debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
            || { tail -20 "$tmp/debootstrap.log"; fail "debootstrap"; }
        # What Debian's own images leave out: downloaded packages, lists, locales, docs.
        rm -rf "$tmp/rootfs"/var/cache/apt/archives/*.deb "$tmp/rootfs"/var/lib/apt/lists/* \
               "$tmp/rootfs"/usr/share/locale/* "$tmp/rootfs"/usr/share/man/* \
               "$tmp/rootfs"/usr/share/info/*
        tar --numeric-owner -C "$tmp/rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$tmp/rootfs"
    fi
    say "base: podman import $tarball $base"
    quiet podman import --change CMD=/bin/bash "$tarball" "$base"
    base_imported=1
fi
"${podman_run[@]}" --rm "${ulimits[@]}" "$base" true 2>"$tmp/probe.err" \
    || skip "podman cannot run a container here: $(tail -1 "$tmp/probe.err")"

# ---- 2. the image ------------------------------------------------------
say "build: podman build -f tools/container/Dockerfile (mirror $mirror)"
t=$(date +%s)
layers=false
[ "$keep" = 1 ] && layers=true
mapfile -t host_args < <(tools/container/build-args.sh)
# --jobs 2: the final stage's apt runs while the build stage compiles;
# --force-rm: a failed build leaves no build container behind.
podman build --format docker --runtime runc "${ulimits[@]}" --layers="$layers" --jobs 2 --force-rm \
    --build-arg BASE="$base" "${host_args[@]}" -f tools/container/Dockerfile -t "$image" . >"$tmp/build.log" 2>&1 \
    || { tail -40 "$tmp/build.log"; fail "podman build"; }
size=$(podman image inspect --format '{{.Size}}' "$image")
say "build: $(( $(date +%s) - t ))s; image size $(( size / 1000000 )) MB (goal < 400 MB)"
[ "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")" = '["hivebox","daemon"]' ] \
    || fail "ENTRYPOINT is not [\"hivebox\",\"daemon\"]"
case $(podman image inspect --format '{{json .Config.Healthcheck}}' "$image") in
    *healthz*) ;;
    *) fail "no HEALTHCHECK on /healthz" ;;
esac
case $(podman image inspect --format '{{json .Config.Env}}' "$image") in
    *HIVEBOX_*) fail "the image sets a HIVEBOX_ variable: only docker run -e may" ;;
esac

}

# A prebuilt image that is missing (its build skipped or failed) is built
# here, so a skip or the build's error shows in this run's output.
if [ -n "$prebuilt" ] && podman image exists "$image"; then
    size=$(podman image inspect --format '{{.Size}}' "$image")
    say "image: $image, built earlier (--build-only); size $(( size / 1000000 )) MB"
else
    build_image
fi
if [ -n "$build_only" ]; then
    say "built $image; run the rest with HIVEBOX_CONTAINER_IMAGE=$image $0"
    exit 0
fi

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ready NAME URL: /healthz answers (at most 120 s), else the log is shown.
wait_ready() {
    local i
    for i in $(seq 1 240); do
        curl -fsS -o /dev/null "$2/healthz" 2>/dev/null && return 0
        [ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || break
        sleep 0.5
    done
    podman logs "$1" 2>&1 | tail -30
    fail "$1: no answer on $2/healthz"
}

# ---- 3. first start on an empty (anonymous) volume: the default image's build
name=hivebox-ctest-fresh-$$
port=$(free_port)
start "$name" --privileged --cgroupns=host \
    -p "127.0.0.1:$port:7070" -e HIVEBOX_API_KEY=fresh-key-$$ "$image"
[ "$(podman inspect --format '{{range .Mounts}}{{.Destination}}{{end}}' "$name")" = /var/lib/hivebox ] \
    || fail "no volume on /var/lib/hivebox without -v"
wait_ready "$name" "http://127.0.0.1:$port"
say "fresh volume: daemon up; waiting for a create to answer 503 + Retry-After"
got=
for _ in $(seq 1 60); do
    got=$(curl -sS -D - -o "$tmp/fresh.body" -X POST -H "Authorization: Bearer fresh-key-$$" \
          -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$port/api/v1/hiveboxes" || true)
    # Here-strings, not `echo | grep -q`: grep -q stops reading at its match and
    # echo, writing line by line, can die of SIGPIPE, which pipefail reports.
    [[ ${got%%$'\n'*} == *' 503 '* ]] && grep -qi '^Retry-After:' <<<"$got" && break
    sleep 1
done
[[ ${got%%$'\n'*} == *' 503 '* ]] || fail "fresh volume: create did not answer 503: $got"
grep -qi '^Retry-After:' <<<"$got" || fail "fresh volume: 503 without Retry-After: $got"
say "fresh volume: 503 $(tr -d '\n' <"$tmp/fresh.body" | cut -c1-160)"
grep -q 'is being built' "$tmp/fresh.body" || fail "fresh volume: the 503 does not say the image is being built"
# (podman logs into a file first: grep -q would end the pipe early, and pipefail fail it)
for _ in $(seq 1 60); do
    podman logs "$name" >"$tmp/fresh.log" 2>&1
    grep -q 'image base: I: ' "$tmp/fresh.log" && break
    sleep 1
done
grep 'image base: ' "$tmp/fresh.log" | tail -4 | sed 's/^/    log: /' || true
grep -q 'image base: I: ' "$tmp/fresh.log" || fail "fresh volume: no debootstrap progress in the log"
# podman's volumes are nodev, where debootstrap refuses to work: past its check
# (the progress above), the daemon must have built on its own bind mount.
if podman exec "$name" grep -q ' /var/lib/hivebox [^ ]* [^ ]*nodev' /proc/mounts 2>/dev/null; then
    grep -q 'building on a bind mount without them' "$tmp/fresh.log" \
        || fail "fresh volume: nodev, yet no bind mount for the build"
    say "fresh volume: mounted nodev; debootstrap runs on the daemon's bind mount without it"
fi
quiet podman rm -f -v -t 10 "$name"
say "fresh volume: stopped and removed with its volume (the build is not waited for: it takes minutes)"

# ---- 4. the seed's command line -----------------------------------------
data=$tmp/data
mkdir -p "$data/images" "$tmp/skills/container-smoke"
printf -- '---\nname: container-smoke\ndescription: a skill mounted with -v\n---\nHello.\n' \
    >"$tmp/skills/container-smoke/SKILL.md"
if [ -d "$host_base/rootfs" ] && cp -al "$host_base" "$data/images/base" 2>/dev/null; then
    say "volume: images/base hard-linked from $host_base"
else
    rm -rf "$data/images/base"
    say "volume: no $host_base on this filesystem; the daemon builds base (minutes)"
fi
key=ctest-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
name=hivebox-ctest-$$
port=$(free_port)
url=http://127.0.0.1:$port
say "run: podman run --privileged --cgroupns=host -p 127.0.0.1:$port:7070 -e HIVEBOX_API_KEY=... -v skills:/skills -e HIVEBOX_OPENCODE_SKILLS_PATH=/skills -v data:/var/lib/hivebox"
start "$name" --privileged --cgroupns=host \
    -p "127.0.0.1:$port:7070" -e HIVEBOX_API_KEY="$key" \
    -v "$tmp/skills:/skills" -e HIVEBOX_OPENCODE_SKILLS_PATH=/skills \
    -v "$data:/var/lib/hivebox" "$image"
wait_ready "$name" "$url"
say "run: ready"
smoke=(/usr/bin/python3 tools/container/smoke.py)
"${smoke[@]}" before "$url" "$key" "$tmp/state.json" || { podman logs "$name" 2>&1 | tail -40; fail "smoke"; }
podman healthcheck run "$name" >/dev/null 2>&1 || fail "HEALTHCHECK failed on a running daemon"
say "healthcheck: healthy"
podman logs "$name" >"$tmp/run.log" 2>&1
grep -q 'opencode: /usr/local/.*/opencode;' "$tmp/run.log" \
    || { grep -i opencode "$tmp/run.log"; fail "the daemon did not find OpenCode in the image"; }

say "restart: podman restart"
t=$(date +%s)
quiet podman restart -t 30 "$name"
wait_ready "$name" "$url"
say "restart: ready after $(( $(date +%s) - t ))s"
"${smoke[@]}" after "$url" "$key" "$tmp/state.json" || { podman logs "$name" 2>&1 | tail -40; fail "after restart"; }
sid=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["isolated"]["id"])' "$tmp/state.json")
[ "$(podman exec "$name" cat "/var/lib/hivebox/sandboxes/$sid/upper/root/keep.txt")" = survives ] \
    || fail "the file uploaded into $sid is not on the volume after the restart"
say "restart: the uploaded file is still in $sid's layer on the volume"
quiet podman rm -f -t 30 "$name"

# ---- 5. a new container, same volume, no key, HIVEBOX_OPENCODE=false ------
name=hivebox-ctest-nokey-$$
start "$name" --privileged --cgroupns=host \
    -p "127.0.0.1:$port:7070" -e HIVEBOX_OPENCODE=false \
    -v "$data:/var/lib/hivebox" "$image"
wait_ready "$name" "$url"
gen=$(cat "$data/api_key")
[ -n "$gen" ] && [ "$gen" != "$key" ] || fail "no generated key in the volume's api_key"
"${smoke[@]}" env "$url" "$gen" "$tmp/state.json" || fail "HIVEBOX_OPENCODE=false"
quiet podman restart -t 30 "$name"
wait_ready "$name" "$url"
[ "$(cat "$data/api_key")" = "$gen" ] || fail "the generated key changed across a restart"
"${smoke[@]}" destroy "$url" "$gen" "$tmp/state.json" || fail "destroy with the generated key"
say "generated key: kept in the volume's api_key across a restart, opens the API"
quiet podman stop -t 30 "$name"
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { podman logs "$name" 2>&1 | tail -20; fail "the daemon exited $code on stop"; }
say "stop: the daemon exited 0"

say "passed; image $(( size / 1000000 )) MB; total $(( $(date +%s) - started ))s"
