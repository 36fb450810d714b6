#!/bin/sh
# apt-setup.sh MIRROR SECURITY [slim]: point apt at MIRROR (bookworm,
# bookworm-updates) and SECURITY (bookworm-security), whatever the base
# image had. The daemon builds the default image from the first bookworm
# source of this file, so the container's images come from the same mirror.
# "slim": dpkg leaves out man pages, docs (but the copyrights) and locales,
# as Debian's slim images do.
set -eu
mirror=$1
security=$2
rm -f /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list
cat >/etc/apt/sources.list <<LIST
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
LIST
if [ "${3:-}" = slim ]; then
    cat >/etc/dpkg/dpkg.cfg.d/hivebox-slim <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
fi
# No recommends, no caches left in the layers.
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >/etc/apt/apt.conf.d/90hivebox
