#!/usr/bin/env bash
# Fetches the single-file libvips shipped in PyPI's pyvips-binary wheel into .vips-wheel/ and
# writes a vips.pc for it, so every build (make build, test, lambda, bench, fuzz) links it instead of Debian's
# libvips (~104 shared libraries). Compile flags still come from Debian's libvips-dev headers.
# Idempotent: does nothing when .vips-wheel/ is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${PYVIPS_BINARY_VERSION:-8.18.7}
dir=$PWD/.vips-wheel
if [ -f "$dir/lib/libvips.so" ] && [ -f "$dir/pkgconfig/vips.pc" ] && grep -q "Version: $version" "$dir/pkgconfig/vips.pc"; then
  exit 0
fi
rm -rf "$dir" && mkdir -p "$dir/lib" "$dir/pkgconfig" "$dir/download"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$dir/download" "pyvips-binary==$version"
python3 - "$dir" <<'PY'
import sys, zipfile, glob, os, shutil
d = sys.argv[1]
wheel = glob.glob(f"{d}/download/pyvips_binary-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if "/libvips-" in n and ".so" in n)
    with z.open(name) as src, open(f"{d}/lib/{os.path.basename(name)}", "wb") as dst:
        shutil.copyfileobj(src, dst)
    print(os.path.basename(name))
PY
so=$(basename "$dir"/lib/libvips-*.so.*)
ln -sf "$so" "$dir/lib/libvips.so"
cat > "$dir/pkgconfig/vips.pc" <<PC
Name: vips
Description: libvips from pyvips-binary (one shared object with its codecs and GLib)
Version: $version
Libs: -L$dir/lib -lvips
Cflags: $(pkg-config --cflags vips)
PC
rm -rf "$dir/download"
echo "libvips $version from pyvips-binary in $dir/lib/$so"
