#!/usr/bin/env python3
"""Makes the realistic inputs of the every-input-through-every-path matrix (Tests/imgfnTests/
InputMatrixTests.swift) in Fixtures/large/matrix/ (git-ignored), from the real photographs that
scripts/fetch-bench-photos.sh fetches. Needs Pillow and the `vips` CLI (libvips-tools, for the
interlaced PNG). Reproducible: the same Pillow and libvips write the same bytes.

Writes expected.json last: for every file its upright size and, for the sideways photos, the
reference picture (the upright photo at 320 px) that a 320-wide derivative must match. The run
is skipped when expected.json was written by this same script (its sha256 is recorded there).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

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


def record(name, width, height, reference=None, note=""):
    entry = {"width": width, "height": height, "note": note}
    if reference:
        entry["reference"] = reference
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
subprocess.run(["vips", "copy", os.path.join(tmp, "plain-4mp.png"), os.path.join(tmp, "interlaced-4mp.png[interlace]")], check=True)
os.remove(os.path.join(tmp, "plain-4mp.png"))
record("interlaced-4mp.png", 2448, 1632, note="2448×1632 Adam7-interlaced PNG")

# Animated WebP and GIF: three frames of the photo at 640 px (only the first frame is used).
frames = [upright.resize((640, 427), Image.Resampling.LANCZOS).rotate(angle, fillcolor=(0, 0, 0)) for angle in (0, 5, 10)]
frames[0].save(os.path.join(tmp, "animated-640.webp"), save_all=True, append_images=frames[1:], duration=200, loop=0, quality=80)
record("animated-640.webp", 640, 427, note="3-frame animated WebP, 640×427")
frames[0].save(os.path.join(tmp, "animated-640.gif"), save_all=True, append_images=frames[1:], duration=200, loop=0)
record("animated-640.gif", 640, 427, note="3-frame animated GIF, 640×427")

json.dump({"generator": script_hash, "files": files}, open(os.path.join(tmp, "expected.json"), "w"), indent=1, sort_keys=True)
shutil.rmtree(out, ignore_errors=True)
os.rename(tmp, out)
print(f"{out}: {len(files)} inputs")
