#!/usr/bin/env bash
# Install the Debian packages ztui's set-up needs, only those that are missing (quick when all are there).
#
#   scripts/ensure-debs.sh [--python PY]
#
# With --python, also what that interpreter lacks to make a virtualenv and to build C extensions
# (libvirt-python has no wheels): pythonX.Y-venv without ensurepip, pythonX.Y-dev without Python.h. A
# pyenv or self-built Python has both, so this only ever adds packages for Debian's own python3.
#
# Nothing missing: exits at once, without apt. Something missing: one `apt-get update`, then one
# non-interactive `apt-get install --no-install-recommends`. Not root: says what to install and fails.
set -euo pipefail

# libvirt-python is built from source (libvirt-dev, pkg-config, a C compiler); the lab runs private
# libvirt daemons with QEMU s390x guests (qemu-system-misc; x86 for this machine's own arch) on its own
# network (iproute2) and an sshd of its own (openssh-server; libvirt runs nc on the far side: netcat-openbsd);
# host tests fake udev with umockdev; UI checks run ztui in tmux. Packaging tests install the wheel beside
# Debian's own bindings (python3-libvirt, python3-venv), drive the completion scripts in each shell
# (bash-completion, zsh, fish) and show the manual page (man-db).
packages=(libvirt-dev pkg-config gcc libc6-dev libvirt-daemon-system libvirt-clients qemu-system-misc
          qemu-system-x86 qemu-utils umockdev tmux iproute2 openssh-server netcat-openbsd python3-libvirt
          python3-venv bash-completion zsh fish man-db)

if [[ ${1:-} == --python ]]; then
    python=${2:?--python needs an interpreter}
    pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    "$python" -c 'import ensurepip' 2>/dev/null || packages+=("python${pyver}-venv")
    "$python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        || packages+=("python${pyver}-dev")
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

if ((EUID != 0)); then
    echo "ztui set-up: these Debian packages are missing: ${missing[*]}" >&2
    echo "ztui set-up: install them as root, then run make again:" >&2
    echo "    apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "ztui set-up: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Without an init system (containers, CI) the packages' maintainer scripts would start their daemons
# (libvirtd, virtlogd ...) straight from /etc/init.d: stray processes nobody stops, and the lab runs its
# own daemons anyway. A policy-rc.d that says "no" prevents that, for this install only and only when
# there is none already.
policy=/usr/sbin/policy-rc.d
if [[ ! -d /run/systemd/system && ! -e $policy ]]; then
    printf '#!/bin/sh\n# ztui scripts/ensure-debs.sh, for one apt-get install: start no services\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -q </dev/null
apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
