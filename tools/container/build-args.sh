#!/bin/sh
# build-args.sh: the `podman build` / `docker build` options that make the
# image's build use what this host uses: its Debian mirrors (host-mirror.sh),
# npm's registry and, when npm trusts extra CA certificates (npm's `cafile`,
# or NODE_EXTRA_CA_CERTS: a TLS-inspecting proxy's), those as the build
# secret npm_ca. One option a line, for `make image` and test.sh.
set -eu
here=$(dirname "$0")
echo "--build-arg=DEBIAN_MIRROR=$("$here/host-mirror.sh")"
echo "--build-arg=DEBIAN_SECURITY=$("$here/host-mirror.sh" bookworm-security)"
if command -v npm >/dev/null 2>&1; then
    echo "--build-arg=NPM_REGISTRY=$(npm config get registry 2>/dev/null)"
    ca=$(npm config get cafile 2>/dev/null || true)
    [ -f "$ca" ] || ca=${NODE_EXTRA_CA_CERTS:-}
    if [ -n "$ca" ] && [ -f "$ca" ]; then
        echo "--secret=id=npm_ca,src=$ca"
    fi
fi
