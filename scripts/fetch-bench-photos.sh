#!/usr/bin/env bash
# Fills Fixtures/large/ (git-ignored) with the benchmarks' photos: real photographs from Debian's
# lomiri-wallpapers packages, two used as shipped and three derived from them with the vips CLI.
# The shipped files are checked against their sha256; every output against its dimensions and
# JPEG kind. Sources and licences: Fixtures/README.md. Needs apt-get, dpkg and libvips-tools
# (scripts/install-deps.sh --bench). Idempotent: does nothing when every output exists.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Fixtures/large

# output name, expected width×height, JPEG kind ("baseline", "progressive" or "-" for other formats)
outputs=(
  "kleiber-20mp.jpg 6028x3391 baseline"
  "kleiber-24mp.jpg 6571x3696 baseline"
  "dragonfly-13mp-progressive.jpg 4224x3168 progressive"
  "sunset-12mp-progressive.jpg 4272x2848 progressive"
  "sunset-4mp.png 2448x1632 -"
  "sunset-4mp.webp 2448x1632 -"
)

complete=1
for o in "${outputs[@]}"; do
  [ -s "$out/${o%% *}" ] || complete=0
done
((complete)) && exit 0

for tool in apt-get dpkg vips vipsheader sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (run scripts/install-deps.sh --bench)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# apt-get download needs no root, but a fresh machine may have no package lists yet. As root,
# apt would drop to its _apt user, which cannot write into our private temp dir.
download() {
  local opts=() sudo=""
  if [ "$(id -u)" -eq 0 ]; then opts=(-o APT::Sandbox::User=root); else sudo="sudo"; fi
  if ! (cd "$work" && apt-get download -q "${opts[@]}" "$@"); then
    echo "apt-get download failed; updating the package lists and retrying"
    $sudo apt-get update -q
    (cd "$work" && apt-get download -q "${opts[@]}" "$@")
  fi
}
download lomiri-wallpapers-20.04 lomiri-wallpapers-16.04
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done
src=$work/root/usr/share/backgrounds

# The packages' files as of Debian bookworm's lomiri-wallpapers 20.04.0-2.
sha256sum --quiet -c - <<SUMS || { echo "error: the packaged photos changed; check them, then update these sums" >&2; exit 1; }
6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7  $src/Kleiber_by_Lukas_Baubkus.jpg
af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3  $src/Dragonfly_by_Bolly.jpg
474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18  $src/sunset_by_Aitzol_Berasategi.jpg
SUMS

new=$work/new
mkdir "$new"
cp "$src/Kleiber_by_Lukas_Baubkus.jpg" "$new/kleiber-20mp.jpg"
cp "$src/Dragonfly_by_Bolly.jpg" "$new/dragonfly-13mp-progressive.jpg"
cp "$src/sunset_by_Aitzol_Berasategi.jpg" "$new/sunset-12mp-progressive.jpg"
# 6028×3391 × 1.09 = 6571×3696 (24.3 MP); a baseline JPEG unless interlace is asked for.
vips resize "$src/Kleiber_by_Lukas_Baubkus.jpg" "$new/kleiber-24mp.jpg[Q=90,strip]" 1.09
# 4272×2848 → 2448×1632 (4.0 MP), once, then saved in both formats.
vips thumbnail "$src/sunset_by_Aitzol_Berasategi.jpg" "$work/sunset.v" 2448
vips copy "$work/sunset.v" "$new/sunset-4mp.png[strip]"
vips copy "$work/sunset.v" "$new/sunset-4mp.webp[Q=85,strip]"

for o in "${outputs[@]}"; do
  read -r name size kind <<<"$o"
  f=$new/$name
  actual=$(vipsheader -f width "$f")x$(vipsheader -f height "$f")
  [ "$actual" = "$size" ] || { echo "error: $name is $actual, expected $size" >&2; exit 1; }
  if [ "$kind" != "-" ]; then
    interlaced=$(vipsheader -a "$f" | grep -c '^interlaced: 1$' || true)
    if { [ "$kind" = progressive ] && ((interlaced == 0)); } || { [ "$kind" = baseline ] && ((interlaced)); }; then
      echo "error: $name is not a $kind JPEG" >&2
      exit 1
    fi
  fi
done

mkdir -p "$out"
for o in "${outputs[@]}"; do
  read -r name size _ <<<"$o"
  mv "$new/$name" "$out/$name"
  printf '%s: %s, %s MB\n' "$out/$name" "${size/x/×}" "$(awk -v b="$(stat -c %s "$out/$name")" 'BEGIN { printf "%.1f", b / 1e6 }')"
done
