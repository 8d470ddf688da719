#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/install-deps.sh: the peer tools they time
# (vipsthumbnail, ImageMagick, Pillow), libjpeg-turbo's djpeg/cjpeg for the decode floor, gcc
# for Benchmarks/tools/*.c, and the vips CLI that scripts/fetch-bench-photos.sh uses.
# Idempotent: with everything installed it only checks (no apt-get update, no network).
set -euo pipefail

packages=(libvips-tools imagemagick libjpeg-turbo-progs gcc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! python3 -c 'import PIL' 2>/dev/null; then
  echo "installing: Pillow (PyPI)"
  python3 -m pip install --quiet Pillow
fi
