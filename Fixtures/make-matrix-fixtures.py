#!/usr/bin/env python3
"""Makes the realistic inputs of the every-input-through-every-path matrix (Tests/imgfnTests/
InputMatrixTests.swift) in Fixtures/large/matrix/ (git-ignored), from the real photographs that
scripts/fetch-bench-photos.sh fetches. Needs Pillow and the `vips` CLI (libvips-tools, for the
interlaced PNG). Reproducible: the same Pillow and libvips write the same bytes.

Also damaged inputs, which every path must refuse (cut short, corrupt compressed data, wrong
checksums), and benign quirks of real files, which every path must accept.

Writes expected.json last: for every file its upright size (or `refuse`) and, for the sideways
photos, the reference picture (the upright photo at 320 px) that a 320-wide derivative must
match. The run
is skipped when expected.json was written by this same script (its sha256 is recorded there).
"""
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

from PIL import Image, ImageChops, ImageOps, ImageStat

here = os.path.dirname(os.path.abspath(__file__))
large = os.path.join(here, "large")
out = os.path.join(large, "matrix")
photo = os.path.join(large, "sunset-12mp-progressive.jpg")  # 4272×2848, "sunset" by Aitzol Berasategi, CC-BY-4.0
script_hash = hashlib.sha256(open(__file__, "rb").read()).hexdigest()

expected_path = os.path.join(out, "expected.json")
if os.path.exists(expected_path):
    try:
        if json.load(open(expected_path)).get("generator") == script_hash:
            sys.exit(0)
    except ValueError:
        pass
if not os.path.exists(photo):
    sys.exit(f"error: {photo} is missing (run scripts/fetch-bench-photos.sh)")

tmp = out + ".tmp"
shutil.rmtree(tmp, ignore_errors=True)
os.makedirs(tmp)

upright = Image.open(photo).convert("RGB")
W, H = upright.size
assert (W, H) == (4272, 2848), (W, H)
T = Image.Transpose
# The pixels to store for EXIF orientation n: the inverse of what a viewer applies for n, so that
# every file displays as the upright photo (Pillow's ROTATE_90 turns counter-clockwise).
stored_for = {
    1: lambda im: im,
    2: lambda im: im.transpose(T.FLIP_LEFT_RIGHT),
    3: lambda im: im.transpose(T.ROTATE_180),
    4: lambda im: im.transpose(T.FLIP_TOP_BOTTOM),
    5: lambda im: im.transpose(T.TRANSPOSE),
    6: lambda im: im.transpose(T.ROTATE_90),
    7: lambda im: im.transpose(T.TRANSVERSE),
    8: lambda im: im.transpose(T.ROTATE_270),
}


def exif_with_orientation(n):
    exif = Image.Exif()
    exif[0x0112] = n
    exif[0x010F] = "imgfn fixtures"  # Make
    exif[0x0110] = "sideways phone"  # Model
    return exif.tobytes()


def mean_abs_diff(a, b):
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


reference = upright.resize((320, round(H * 320 / W)), Image.Resampling.LANCZOS)
reference.save(os.path.join(tmp, "reference-320.png"))
# The check below is only meaningful if a missed flip or turn changes the picture a lot.
assert mean_abs_diff(reference, reference.transpose(T.FLIP_LEFT_RIGHT)) > 12
assert mean_abs_diff(reference, reference.transpose(T.FLIP_TOP_BOTTOM)) > 12

files = {}


def record(name, width, height, reference=None, note="", refuse=False):
    entry = {"width": width, "height": height, "note": note}
    if reference:
        entry["reference"] = reference
    if refuse:
        entry["refuse"] = True
    files[name] = entry


def displays_upright(path):
    """Pillow's own EXIF transpose of the file (decoded at 1/8) shows the upright photo."""
    shown = Image.open(path)
    shown.draft("RGB", (shown.size[0] // 8, shown.size[1] // 8))
    shown = ImageOps.exif_transpose(shown).convert("RGB")
    return shown.size[0] * H == shown.size[1] * W and \
        mean_abs_diff(shown, upright.resize(shown.size, Image.Resampling.BOX)) < 4


for n in range(1, 9):
    stored = stored_for[n](upright)
    for kind, progressive in (("baseline", False), ("progressive", True)):
        if n == 1 and progressive:
            continue
        name = f"phone-12mp-orientation-{n}-{kind}.jpg"
        stored.save(os.path.join(tmp, name), quality=90, progressive=progressive, exif=exif_with_orientation(n))
        assert displays_upright(os.path.join(tmp, name)), f"{name} does not display upright"
        record(name, W, H, "reference-320.png", f"{W}×{H} photo stored for EXIF orientation {n}, {kind} JPEG Q90")

small = upright.resize((600, 400), Image.Resampling.LANCZOS)
small.transpose(T.ROTATE_90).save(os.path.join(tmp, "sideways-400x600.jpg"), quality=90, exif=exif_with_orientation(6))
record("sideways-400x600.jpg", 600, 400, "reference-320.png", "600×400 photo stored 400×600, orientation 6")

# A sideways TIFF (orientation 6), deflate, as scanners and some cameras write.
upright.transpose(T.ROTATE_90).save(
    os.path.join(tmp, "sideways-12mp.tif"), compression="tiff_adobe_deflate", tiffinfo={274: 6})
record("sideways-12mp.tif", W, H, "reference-320.png", "the photo stored sideways, TIFF orientation tag 6")

# Pathological but valid shapes: 50:1 panoramas, over WebP's 16383-px limit in one dimension.
upright.resize((400, 20000), Image.Resampling.BILINEAR).save(os.path.join(tmp, "tall-400x20000.jpg"), quality=85)
record("tall-400x20000.jpg", 400, 20000, note="400×20000 baseline JPEG (the photo stretched)")
upright.resize((20000, 400), Image.Resampling.BILINEAR).save(os.path.join(tmp, "wide-20000x400.jpg"), quality=85)
record("wide-20000x400.jpg", 20000, 400, note="20000×400 baseline JPEG (the photo squashed)")

# A large PNG with alpha: the 4 MP photo with a left-to-right alpha ramp.
png_base = upright.resize((2448, 1632), Image.Resampling.LANCZOS)
alpha = Image.linear_gradient("L").rotate(90).resize(png_base.size)
rgba = png_base.copy()
rgba.putalpha(alpha)
rgba.save(os.path.join(tmp, "alpha-4mp.png"))
record("alpha-4mp.png", 2448, 1632, note="2448×1632 RGBA PNG, alpha ramp")

# An interlaced (Adam7) PNG, which libpng can only decode whole.
png_base.save(os.path.join(tmp, "plain-4mp.png"))
record("plain-4mp.png", 2448, 1632, note="2448×1632 RGB PNG")
subprocess.run(["vips", "copy", os.path.join(tmp, "plain-4mp.png"), os.path.join(tmp, "interlaced-4mp.png[interlace]")], check=True)
record("interlaced-4mp.png", 2448, 1632, note="2448×1632 Adam7-interlaced PNG")

# Animated WebP and GIF: three frames of the photo at 640 px (only the first frame is used).
frames = [upright.resize((640, 427), Image.Resampling.LANCZOS).rotate(angle, fillcolor=(0, 0, 0)) for angle in (0, 5, 10)]
frames[0].save(os.path.join(tmp, "animated-640.webp"), save_all=True, append_images=frames[1:], duration=200, loop=0, quality=80)
record("animated-640.webp", 640, 427, note="3-frame animated WebP, 640×427")
frames[0].save(os.path.join(tmp, "animated-640.gif"), save_all=True, append_images=frames[1:], duration=200, loop=0)
record("animated-640.gif", 640, 427, note="3-frame animated GIF, 640×427")

# --- Damaged data: every path must refuse these (nothing published) ---------------------------
def read(name):
    return open(os.path.join(tmp, name), "rb").read()


def write(name, data, note, refuse, width=0, height=0):
    open(os.path.join(tmp, name), "wb").write(data)
    record(name, width, height, note=note, refuse=refuse)


def png_chunks(data):
    i, out = 8, []
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        out.append([data[i + 4:i + 8], data[i + 8:i + 8 + n], data[i + 8 + n:i + 12 + n]])
        i += 12 + n
    return out


def png_build(chunks):
    return b"\x89PNG\r\n\x1a\n" + b"".join(struct.pack(">I", len(d)) + t + d + c for t, d, c in chunks)


png = read("plain-4mp.png")
chunks = png_chunks(png)
idat = next(i for i, c in enumerate(chunks) if c[0] == b"IDAT")
write("damaged-png-cut.png", png[:len(png) // 2], "the 4 MP PNG cut in half (inside IDAT)", True)
bad = [list(c) for c in chunks]
data = bytearray(bad[idat][1])
for k in range(200):
    data[len(data) // 2 + k] ^= 0x5A
bad[idat][1] = bytes(data)
bad[idat][2] = struct.pack(">I", zlib.crc32(bad[idat][0] + bad[idat][1]) & 0xFFFFFFFF)
write("damaged-png-deflate.png", png_build(bad), "200 bytes of the IDAT stream flipped, CRC made to match", True)
bad = [list(c) for c in chunks]
bad[idat][2] = bytes([bad[idat][2][0] ^ 1]) + bad[idat][2][1:]
write("damaged-png-crc.png", png_build(bad), "the first IDAT chunk's CRC off by one bit", True)
jpeg = bytearray(read("phone-12mp-orientation-1-baseline.jpg"))
rng = random.Random(20261202)
middle = len(jpeg) // 2
for k in range(64):
    jpeg[middle + k] = rng.randrange(256)
write("damaged-jpeg-entropy.jpg", bytes(jpeg), "64 random bytes in the middle of the 12 MP photo's entropy-coded data", True)
still = upright.resize((1024, 683), Image.Resampling.LANCZOS)
still.save(os.path.join(tmp, "still.webp"), quality=80)
write("damaged-webp-cut.webp", read("still.webp")[:len(read("still.webp")) * 2 // 3], "a 1024-px WebP cut at 2/3", True)
os.remove(os.path.join(tmp, "still.webp"))
gif = read("animated-640.gif")
write("damaged-gif-cut.gif", gif[:len(gif) // 4], "the animated GIF cut inside its first frame", True)
still.save(os.path.join(tmp, "still.tif"), compression="tiff_adobe_deflate")
write("damaged-tiff-cut.tif", read("still.tif")[:len(read("still.tif")) // 2], "a 1024-px deflate TIFF cut in half", True)
os.remove(os.path.join(tmp, "still.tif"))
for kind in ("avif", "heic"):
    committed = open(os.path.join(here, "formats", f"photo.{kind}"), "rb").read()
    write(f"damaged-{kind}-cut.{kind}", committed[:len(committed) * 2 // 3], f"Fixtures/formats/photo.{kind} cut at 2/3", True)

# --- Benign quirks of real camera and phone files: every path must accept these ----------------
storm = open(os.path.join(here, "photos", "storm.jpg"), "rb").read()
assert storm.endswith(b"\xff\xd9")
write("quirk-jpeg-trailing-bytes.jpg", storm + bytes(4096), "storm.jpg with 4 KiB of zeros after the end-of-image marker",
      False, 1920, 1280)
write("quirk-jpeg-padding-before-eoi.jpg", storm[:-2] + bytes(4) + b"\xff\xd9",
      "storm.jpg with 4 bytes of padding before the end-of-image marker", False, 1920, 1280)
exif = bytearray(open(os.path.join(here, "formats", "exif-gps.jpg"), "rb").read())
at = exif.find(b"Exif\x00\x00")
for k in range(at + 40, at + 120):
    exif[k] = 0xFF if k % 2 else 0x13
write("quirk-jpeg-damaged-exif.jpg", bytes(exif), "exif-gps.jpg with its EXIF IFD scribbled over", False, 800, 533)
write("quirk-png-no-iend.png", png_build([c for c in chunks if c[0] != b"IEND"]),
      "the 4 MP PNG without its IEND chunk (the pixel data is complete)", False, 2448, 1632)

json.dump({"generator": script_hash, "files": files}, open(os.path.join(tmp, "expected.json"), "w"), indent=1, sort_keys=True)
shutil.rmtree(out, ignore_errors=True)
os.rename(tmp, out)
print(f"{out}: {len(files)} inputs")
