#!/usr/bin/env bash
# Installs what Dawn needs to run headless on a machine without a GPU: the Vulkan loader and
# Mesa's lavapipe (a Vulkan driver on the CPU), version >= 24, from Debian bookworm-backports
# (bookworm's own Mesa 22.3 gives Dawn a null adapter). Idempotent: a no-op when present.
set -euo pipefail

have_lavapipe() {
  local icd
  for icd in /usr/share/vulkan/icd.d/lvp_icd*.json; do
    [ -e "$icd" ] || continue
    local v
    v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
    local major=${v%%.*}
    [ -n "$major" ] && [ "$major" -ge 24 ] 2>/dev/null && ldconfig -p | grep -q 'libvulkan.so.1' && return 0
  done
  return 1
}

if have_lavapipe; then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "early-phase setup: no apt-get here. Install a Vulkan loader and Mesa lavapipe >= 24 by hand" >&2
  echo "(or run on a machine with a real GPU and its Vulkan driver)." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}
list=/etc/apt/sources.list.d/${codename}-backports.list
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "early-phase setup: adding ${codename}-backports to apt sources" >&2
  echo "deb http://deb.debian.org/debian ${codename}-backports main" | $SUDO tee "$list" >/dev/null
fi
echo "early-phase setup: installing Mesa lavapipe (>= 24) and the Vulkan loader from ${codename}-backports" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq -o Dpkg::Use-Pty=0 >/dev/null
$SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
if ! have_lavapipe; then
  echo "early-phase setup: lavapipe >= 24 still missing after install" >&2
  exit 1
fi
echo "early-phase setup: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) installed" >&2
