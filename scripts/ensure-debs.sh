#!/usr/bin/env bash
# Install the Debian packages ztui's set-up needs, only those that are missing (quick when all are there).
set -euo pipefail

packages=(libvirt-dev pkg-config libvirt-daemon-system libvirt-clients qemu-system-misc qemu-system-x86
          qemu-utils umockdev tmux iproute2)
missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "ztui set-up: these Debian packages are missing: ${missing[*]}" >&2
    echo "install them as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "ztui set-up: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
