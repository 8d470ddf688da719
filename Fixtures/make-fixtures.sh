#!/usr/bin/env bash
# Regenerates every derived fixture from the one committed photograph (photos/storm.jpg) and
# from synthetic colour bars. Needs: libvips-tools, imagemagick, libimage-exiftool-perl,
# libheif-examples, libjxl-tools, python3. Outputs are committed; rerun only to change them.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
photo=photos/storm.jpg
mkdir -p orientation formats colour bad

# --- EXIF orientations 1–8 -----------------------------------------------------------------
# U is the upright picture. For tag n the stored pixels are the inverse of the transform a
# viewer applies for n, so every file displays as U.
vips thumbnail "$photo" "$tmp/U.v" 480
store() {  # n, vips commands producing $tmp/S.v from $tmp/U.v
  local n=$1; shift
  "$@"
  vips copy "$tmp/S.v" "orientation/orientation-$n.jpg[Q=90,strip]"
  exiftool -q -overwrite_original -n -Orientation="$n" "orientation/orientation-$n.jpg"
}
store 1 vips copy "$tmp/U.v" "$tmp/S.v"
store 2 vips flip "$tmp/U.v" "$tmp/S.v" horizontal
store 3 vips rot "$tmp/U.v" "$tmp/S.v" d180
store 4 vips flip "$tmp/U.v" "$tmp/S.v" vertical
store 5 sh -c "vips rot '$tmp/U.v' '$tmp/r.v' d90 && vips flip '$tmp/r.v' '$tmp/S.v' horizontal"
store 6 vips rot "$tmp/U.v" "$tmp/S.v" d270
store 7 sh -c "vips rot '$tmp/U.v' '$tmp/r.v' d90 && vips flip '$tmp/r.v' '$tmp/S.v' vertical"
store 8 vips rot "$tmp/U.v" "$tmp/S.v" d90
# Check: libvips' own autorot of every file gives back U (within JPEG loss).
for n in 1 2 3 4 5 6 7 8; do
  vips autorot "orientation/orientation-$n.jpg" "$tmp/a.v"
  vips subtract "$tmp/a.v" "$tmp/U.v" "$tmp/d.v"; vips abs "$tmp/d.v" "$tmp/ad.v"
  d=$(vips avg "$tmp/ad.v"); python3 -c "import sys; sys.exit(0 if float('$d') < 4 else 1)" \
    || { echo "orientation $n does not display upright (mean diff $d)"; exit 1; }
done

# --- formats ---------------------------------------------------------------------------------
vips thumbnail "$photo" "formats/progressive.jpg[Q=85,interlace,strip]" 1200
vips thumbnail "$photo" "formats/photo.webp[Q=75,strip]" 800
vips thumbnail "$photo" "formats/photo.avif[Q=45,strip]" 800
# An AVIF whose EXIF says orientation 6 and which has no irot: HEIF readers show it as stored.
vips copy orientation/orientation-6.jpg "formats/exif-orientation.avif[Q=60]"
vips thumbnail "$photo" "$tmp/h.png" 400 && heif-enc -q 50 -o formats/photo.heic "$tmp/h.png" >/dev/null
vips thumbnail "$photo" "formats/photo.tif[compression=deflate,strip]" 320
# JPEG XL two ways: lossy from pixels as a bare codestream (cjxl -d 1, libjxl-tools 0.7), and a
# JPEG recompressed losslessly in the container (with its reconstruction data), as converters do.
vips thumbnail "$photo" "$tmp/x.png[strip]" 800 && cjxl -d 1.0 -e 7 --container=0 "$tmp/x.png" formats/photo.jxl 2>/dev/null
cjxl formats/progressive.jpg formats/recompressed.jxl 2>/dev/null
convert -delay 20 -size 96x64 xc:'#ff0000' xc:'#00ff00' xc:'#0000ff' -loop 0 formats/animated.gif
# Camera EXIF kept, plus GPS and XMP, to prove outputs carry none of it.
vips thumbnail "$photo" "formats/exif-gps.jpg[Q=85]" 800
exiftool -q -overwrite_original -TagsFromFile "$photo" -EXIF:all \
  -GPSLatitude=48.8584 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E \
  -Copyright="imgfn fixtures copyright" -XMP-dc:Creator="imgfn fixtures" formats/exif-gps.jpg

# --- colour ------------------------------------------------------------------------------------
# Colour bars: red, green, blue, white, 64×64 each, so tests can read known colours back.
# PNGs from ImageMagick carry creation dates unless told not to; keep regeneration reproducible.
convert -define png:exclude-chunks=date,time -size 64x64 xc:'#ff0000' xc:'#00ff00' xc:'#0000ff' xc:'#ffffff' +append "$tmp/bars.png"
cp "$tmp/bars.png" colour/bars.png
vips icc_transform "$tmp/bars.png" "colour/bars-p3.jpg[Q=95]" p3 --input-profile srgb
vips icc_transform "$tmp/bars.png" "colour/bars-cmyk-icc.jpg[Q=95]" cmyk --input-profile srgb
convert "$tmp/bars.png" -colorspace CMYK -quality 95 colour/bars-cmyk.jpg
vips colourspace "$tmp/bars.png" colour/bars-16bit.png rgb16
# Alpha: the left half (red, green) opaque, the right half (blue, white) fully transparent.
convert "$tmp/bars.png" \( -size 128x64 xc:white -size 128x64 xc:black +append \) \
  -alpha off -compose CopyOpacity -composite -define png:exclude-chunks=date,time PNG32:colour/bars-alpha.png
# The bars through the HEIC and JPEG XL decoders: Display P3 (an ICC profile), 10 and 16 bits.
vips icc_transform "$tmp/bars.png" "$tmp/bars-p3.png" p3 --input-profile srgb
heif-enc -q 90 -o colour/bars-p3.heic "$tmp/bars-p3.png" > /dev/null
heif-enc -b 10 -q 90 -o colour/bars-10bit.heic colour/bars-16bit.png > /dev/null
cjxl -d 0 "$tmp/bars-p3.png" colour/bars-p3.jxl 2> /dev/null
cjxl -d 1 "$tmp/bars-p3.png" colour/bars-p3-lossy.jxl 2> /dev/null
cjxl -d 0 colour/bars-16bit.png colour/bars-16bit.jxl 2> /dev/null

# --- bad inputs ----------------------------------------------------------------------------------
: > bad/empty.jpg
head -c 40000 formats/progressive.jpg > bad/truncated-progressive.jpg
head -c 60000 "$photo" > bad/truncated.jpg
python3 - <<'PY'
import random, struct, zlib
random.seed(20261125)
open("bad/random.jpg", "wb").write(bytes(random.getrandbits(8) for _ in range(8192)))
open("bad/text.jpg", "w").write("This is a text file with a .jpg name, not an image.\n")
open("bad/vector.jpg", "w").write('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                                  '<rect width="64" height="64" fill="red"/></svg>\n')
# Pixel bombs: valid headers that declare 30000×30000 (900 MP) and carry almost no data.
jpeg = bytearray(open("orientation/orientation-1.jpg", "rb").read())
i = 2
while True:
    marker, length = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
    if marker in (0xC0, 0xC1, 0xC2):
        jpeg[i + 5:i + 9] = struct.pack(">HH", 30000, 30000)
        break
    i += 2 + length
open("bad/bomb.jpg", "wb").write(bytes(jpeg))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
idat = zlib.compress(b"\0" * 100)
open("bad/bomb.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
# A JPEG XL codestream whose size header says 30000×30000, with default metadata and no frame
# (fields are packed least significant bit first: ISO/IEC 18181-1 SizeHeader, ImageMetadata).
bits = []
def put(value, count):
    bits.extend((value >> k) & 1 for k in range(count))
put(0, 1)  # not "small"
put(2, 2)  # height - 1 in 18 bits
put(29999, 18)
put(1, 3)  # aspect ratio 1:1: width = height
put(1, 1)  # ImageMetadata all_default
bits += [0] * (-len(bits) % 8)
packed = bytes(sum(b << k for k, b in enumerate(bits[i:i + 8])) for i in range(0, len(bits), 8))
open("bad/bomb.jxl", "wb").write(b"\xff\x0a" + packed + bytes(16))
PY
# Quality-metric pairs (Tests/ImagePipelineTests/QualityScoreTests): a reference and two
# distortions of it, all PNG so that every reader sees the same pixels.
mkdir -p quality
vips thumbnail photos/storm.jpg quality/reference.png 400
vips jpegsave quality/reference.png "$tmp/q35.jpg" --Q 35
vips copy "$tmp/q35.jpg" quality/jpeg-q35.png
vips gaussblur quality/reference.png quality/blurred.png 1.0
echo "fixtures written"
