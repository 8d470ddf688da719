#!/usr/bin/env bash
# Builds build/lambda/function.zip for the provided.al2023 runtime: `bootstrap` plus lib/ with
# everything it loads, so it needs nothing from the host, not even its C library.
#
# - libvips is the single-file build from PyPI's pyvips-binary (codecs linked in; 18.5 MB),
#   not Debian's (about 118 shared libraries); see README "Packaging" for the comparison.
# - HEIC is decoded by Debian's libheif + libde265, opened on the first HEIC (Sources/CHeif), and
#   JPEG XL by Debian's libjxl, opened on the first JPEG XL (Sources/CJxl).
# - The Swift runtime is linked statically. glibc, its loader and the C++ runtime come from this
#   Debian machine (glibc 2.36, newer than AL2023's 2.34), so the bundle carries them and the
#   binary's interpreter is /var/task/lib/ld-linux-x86-64.so.2 (Lambda unpacks the zip into
#   /var/task); the search path is /var/task/lib ($ORIGIN needs /proc, which an empty root lacks),
#   as DT_RPATH so it also serves libvips's own dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/lambda
root=$out/root

scripts/fetch-libvips-wheel.sh
# The same build as `make build` and the benchmarks (one build folder, the same flags): only the
# search path differs, and patchelf sets that below.
PKG_CONFIG_PATH=$PWD/.vips-wheel/pkgconfig swift build -c release --static-swift-stdlib --product bootstrap \
  --scratch-path .build -Xlinker -rpath -Xlinker "$PWD/.vips-wheel/lib"

rm -rf "$out" && mkdir -p "$root/lib"
cp .build/release/bootstrap "$root/bootstrap"
strip --strip-unneeded "$root/bootstrap"
cp -L .vips-wheel/lib/libvips-*.so.* "$root/lib/"
# Every other shared object the binary and libvips load, as resolved on this machine (libvips
# through the rpath into lib/), including the loader.
ldd "$root/bootstrap" | grep -v "not found" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | while read -r lib; do
  [ -e "$root/lib/$(basename "$lib")" ] || cp -L "$lib" "$root/lib/"
done
# HEIC: Debian's libheif with libde265 (and what it links: x265, aom, dav1d), the copies the
# tests use. Not linked: bootstrap dlopens libheif.so.1 from lib/ when a HEIC arrives.
# (awk reads to the end: exiting early would SIGPIPE ldconfig and fail the pipe under pipefail)
heif=$(ldconfig -p | awk '/libheif\.so\.1 .*x86-64/ && !found {print $NF; found = 1}')
[ -n "$heif" ] || { echo "package-lambda: libheif.so.1 not found (apt-get install libheif1)" >&2; exit 1; }
cp -L "$heif" "$root/lib/libheif.so.1"
ldd "$heif" | awk '/=> \// {print $3}' | while read -r lib; do
  [ -e "$root/lib/$(basename "$lib")" ] || cp -L "$lib" "$root/lib/"
done
# JPEG XL: Debian's libjxl 0.7 and its thread pool (and what they link: brotli, highway, lcms2),
# dlopen'ed from lib/ when a JPEG XL arrives.
for name in libjxl.so.0.7 libjxl_threads.so.0.7; do
  jxl=$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ && !found {print $NF; found = 1}')
  [ -n "$jxl" ] || { echo "package-lambda: $name not found (apt-get install libjxl0.7)" >&2; exit 1; }
  cp -L "$jxl" "$root/lib/$name"
  ldd "$jxl" | awk '/=> \// {print $3}' | while read -r lib; do
    [ -e "$root/lib/$(basename "$lib")" ] || cp -L "$lib" "$root/lib/"
  done
done
if ldd "$root/bootstrap" | grep "not found" >/dev/null; then
  ldd "$root/bootstrap" | grep "not found" >&2
  exit 1
fi
patchelf --set-interpreter /var/task/lib/ld-linux-x86-64.so.2 --force-rpath --set-rpath '/var/task/lib:$ORIGIN/lib' "$root/bootstrap"
chmod 755 "$root/bootstrap"
(cd "$root" && python3 - <<'PY'
import os, zipfile
with zipfile.ZipFile("../function.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for dirpath, _, files in os.walk("."):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            info = zipfile.ZipInfo.from_file(path, arcname=os.path.relpath(path, "."))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read(), compresslevel=9)
PY
)
unzipped=$(du -sb "$root" | cut -f1)
zipped=$(stat -c %s "$out/function.zip")
glibc=$( (objdump -T "$root/bootstrap" "$root"/lib/libvips-*.so.* 2>/dev/null || true) | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)
echo "function.zip: $zipped bytes zipped, $unzipped bytes unzipped (limits: 52428800 zipped, 262144000 unzipped)"
echo "highest glibc symbol version needed by bootstrap and libvips: $glibc (bundled: $(ls "$root"/lib | grep -o 'libc.so.6'))"
ls -l "$root/lib" | awk 'NR>1 {printf "  %10d  lib/%s\n", $5, $9}'
