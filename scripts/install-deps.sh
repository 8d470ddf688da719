#!/usr/bin/env bash
# Installs the Debian packages imgfn needs to build and test, skipping what is already there.
# The tests also need the vips CLI and Pillow: scripts/fetch-bench-photos.sh and
# Fixtures/make-matrix-fixtures.py make the large test inputs with them.
# With --bench, also what the benchmarks need: the peer tools they time (vipsthumbnail,
# ImageMagick, Pillow), libjpeg-turbo's djpeg/cjpeg for the decode floor, gcc for
# Benchmarks/tools/*.c, and wrk and thumbor for the HTTP measurement.
# Idempotent: with everything installed it only checks (no apt-get update, no network).
set -euo pipefail

bench=false
[ "${1:-}" = "--bench" ] && bench=true

# chromium: the serving tests load a page in a real headless browser.
# libjpeg-turbo-progs: jpegtran writes the many-scans progressive JPEG of the input matrix.
packages=(libvips-dev libvips-tools libheif-dev libheif-examples libjxl-dev libjxl-tools pkg-config patchelf binutils chromium
  libjpeg-turbo-progs)
if $bench; then packages+=(imagemagick gcc wrk); fi
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

# Python packages for the S3 integration tests: a real S3-protocol server (moto_server) and
# botocore's SigV4 signer to compare ours against.
if ! python3 -c 'import moto.server, flask_cors, botocore' 2>/dev/null || ! command -v moto_server >/dev/null; then
  echo "installing: moto[server] (PyPI)"
  python3 -m pip install --quiet 'moto[server]>=5' botocore
fi

if ! python3 -c 'import PIL' 2>/dev/null; then
  echo "installing: Pillow (PyPI)"
  python3 -m pip install --quiet Pillow
fi

if ! command -v cfn-lint >/dev/null; then
  echo "installing: cfn-lint (PyPI)"
  python3 -m pip install --quiet cfn-lint
fi

# The HTTP benchmark's peer: thumbor with its default Pillow engine, in a virtual environment
# of its own (it pins an older Pillow than the Pillow peer the other measurements use).
thumbor_venv=build/bench-tools/thumbor-venv
if $bench && [ ! -x "$thumbor_venv/bin/thumbor" ]; then
  echo "installing: thumbor (PyPI) in $thumbor_venv"
  mkdir -p build/bench-tools
  python3 -m venv "$thumbor_venv"
  "$thumbor_venv/bin/python" -m pip install --quiet thumbor
fi

command -v swift >/dev/null || { echo "error: the Swift toolchain (swift 6.x) is not on PATH" >&2; exit 1; }
