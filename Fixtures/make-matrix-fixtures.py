#!/usr/bin/env python3
"""Makes the realistic inputs of the every-input-through-every-path matrix (Tests/imgfnTests/
InputMatrixTests.swift) in Fixtures/large/matrix/ (git-ignored), from the real photographs that
scripts/fetch-bench-photos.sh fetches. Needs Pillow, the `vips` CLI (libvips-tools, for the
interlaced PNG), libheif's and libjxl's tools, and jpegtran (libjpeg-turbo-progs, for the
many-scans JPEG). Reproducible: the same tools write the same bytes.

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

# --- HEIC as iPhones write it, and JPEG XL -------------------------------------------------
# heif-enc (libheif 1.15) writes one plain image; phones write a grid of 512×512 HEVC tiles with
# the rotation in an `irot` property (the sensor's landscape pixels, turned for display), an
# EXIF orientation beside it that readers must not apply again, a Display P3 profile and a depth
# map as an auxiliary image. So each tile and the depth map are encoded with heif-enc and the
# file is assembled from their HEVC streams here (ISO/IEC 23008-12 boxes).
def be16(v):
    return struct.pack(">H", v)


def be32(v):
    return struct.pack(">I", v)


def box(kind, payload):
    return be32(8 + len(payload)) + kind + payload


def full_box(kind, version, flags, payload):
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def child_boxes(data, start, end):
    while start < end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        yield kind, start, size
        start += size


def hevc_of(heic):
    """The hvcC property and the coded data of the only image heif-enc wrote."""
    top = {kind: (at, size) for kind, at, size in child_boxes(heic, 0, len(heic))}
    at, size = top[b"meta"]
    meta = {kind: (a, n) for kind, a, n in child_boxes(heic, at + 12, at + size)}
    a, n = meta[b"iprp"]
    ipco = next((x, m) for kind, x, m in child_boxes(heic, a + 8, a + n) if kind == b"ipco")
    hvcc = next(heic[x:x + m] for kind, x, m in child_boxes(heic, ipco[0] + 8, ipco[0] + ipco[1]) if kind == b"hvcC")
    a, n = meta[b"iloc"]
    iloc = heic[a + 12:a + n]
    version = heic[a + 8]
    offset_size, length_size, base_size = iloc[0] >> 4, iloc[0] & 15, iloc[1] >> 4
    assert version == 0 and offset_size == length_size == 4 and base_size in (0, 4) and iloc[2:4] == be16(1), \
        "unexpected iloc"
    i = 4 + 2 + 2  # item count, item ID, data reference index
    base = struct.unpack(">I", iloc[i:i + 4])[0] if base_size else 0
    i += base_size
    extents = struct.unpack(">H", iloc[i:i + 2])[0]
    i += 2
    data = b""
    for _ in range(extents):
        offset, length = struct.unpack(">II", iloc[i:i + 8])
        data += heic[base + offset:base + offset + length]
        i += 8
    return hvcc, data


def heif_encode(paths, quality):
    """heif-enc of each PNG in `paths` (two at a time), returning each one's (hvcC, data)."""
    out = []
    for start in range(0, len(paths), 2):
        batch = [subprocess.Popen(["heif-enc", "-q", str(quality), "-o", p + ".heic", p], stdout=subprocess.DEVNULL)
                 for p in paths[start:start + 2]]
        assert all(proc.wait() == 0 for proc in batch), "heif-enc failed"
    for p in paths:
        out.append(hevc_of(open(p + ".heic", "rb").read()))
        os.remove(p + ".heic")
        os.remove(p)
    return out


def phone_heic(stored, icc, depth, exif, rotation, tile=512):
    """A HEIC file as a phone writes it: `stored` (the pixels as the sensor has them) in a grid of
    `tile`-px HEVC tiles, shown turned by `rotation` × 90° anticlockwise (`irot`), with the ICC
    profile `icc`, the greyscale `depth` image as a depth map and the EXIF block `exif`."""
    sw, sh = stored.size
    cols, rows = -(-sw // tile), -(-sh // tile)
    canvas = Image.new("RGB", (cols * tile, rows * tile))
    canvas.paste(stored)
    paths = []
    for r in range(rows):
        for c in range(cols):
            path = os.path.join(tmp, f"tile-{r}-{c}.png")
            canvas.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile)).save(path)
            paths.append(path)
    depth_path = os.path.join(tmp, "depth.png")
    depth.save(depth_path)
    coded = heif_encode(paths + [depth_path], 80)
    tiles, (depth_hvcc, depth_data) = coded[:-1], coded[-1]
    assert all(h == tiles[0][0] for h, _ in tiles), "tiles differ in their HEVC configuration"

    grid_id, depth_id, exif_id = 1, 2 + len(tiles), 3 + len(tiles)
    tile_ids = list(range(2, 2 + len(tiles)))
    # Item payloads, in mdat order: the grid descriptor (rows, columns, output size), the tiles,
    # the depth map, the EXIF block (after the 4-byte offset of its TIFF header).
    payloads = [(grid_id, bytes([0, 0, rows - 1, cols - 1]) + be16(sw) + be16(sh))]
    payloads += [(i, data) for i, (_, data) in zip(tile_ids, tiles)]
    payloads += [(depth_id, depth_data), (exif_id, be32(6) + exif)]

    def infe(item, kind, hidden):
        return full_box(b"infe", 2, 1 if hidden else 0, be16(item) + be16(0) + kind + b"\0")

    iinf = full_box(b"iinf", 0, 0, be16(len(payloads)) + infe(grid_id, b"grid", False)
                    + b"".join(infe(i, b"hvc1", True) for i in tile_ids)
                    + infe(depth_id, b"hvc1", True) + infe(exif_id, b"Exif", True))
    iref = full_box(b"iref", 0, 0,
                    box(b"dimg", be16(grid_id) + be16(len(tile_ids)) + b"".join(be16(i) for i in tile_ids))
                    + box(b"auxl", be16(depth_id) + be16(1) + be16(grid_id))
                    + box(b"cdsc", be16(exif_id) + be16(1) + be16(grid_id)))
    dw, dh = depth.size
    properties = [
        tiles[0][0],                                              # 1 the tiles' hvcC
        full_box(b"ispe", 0, 0, be32(tile) + be32(tile)),         # 2
        full_box(b"ispe", 0, 0, be32(sw) + be32(sh)),             # 3 the grid's size
        box(b"colr", b"prof" + icc),                              # 4
        box(b"irot", bytes([rotation & 3])),                      # 5
        depth_hvcc,                                               # 6
        full_box(b"ispe", 0, 0, be32(dw) + be32(dh)),             # 7
        full_box(b"auxC", 0, 0, b"urn:mpeg:hevc:2015:auxid:2\0"),  # 8 a depth map
    ]
    essential = 0x80

    def association(item, props):
        return be16(item) + bytes([len(props)]) + bytes(props)

    ipma = full_box(b"ipma", 0, 0, be32(2 + len(tile_ids))
                    + association(grid_id, [3, 4, essential | 5])
                    + b"".join(association(i, [essential | 1, 2]) for i in tile_ids)
                    + association(depth_id, [essential | 6, 7, essential | 8]))
    iprp = box(b"iprp", box(b"ipco", b"".join(properties)) + ipma)

    def iloc(base):
        entries, at = b"", base
        for item, data in payloads:
            entries += be16(item) + be16(0) + be16(1) + be32(at) + be32(len(data))
            at += len(data)
        return full_box(b"iloc", 0, 0, bytes([0x44, 0x00]) + be16(len(payloads)) + entries)

    ftyp = box(b"ftyp", b"heic" + be32(0) + b"mif1heicmiaf")
    hdlr = full_box(b"hdlr", 0, 0, be32(0) + b"pict" + bytes(12) + b"\0")
    pitm = full_box(b"pitm", 0, 0, be16(grid_id))

    def meta(base):
        return full_box(b"meta", 0, 0, hdlr + pitm + iloc(base) + iinf + iref + iprp)

    mdat_data = len(ftyp) + len(meta(0)) + 8  # the offsets are fixed-width: the size is known
    return ftyp + meta(mdat_data) + box(b"mdat", b"".join(data for _, data in payloads))


def heif_displays_upright(path):
    """libheif's own decode (heif-convert: grid, irot, P3 profile) shows the upright photo."""
    png = path + ".png"
    subprocess.run(["heif-convert", path, png], check=True, stdout=subprocess.DEVNULL)
    shown = Image.open(png)
    icc = shown.info.get("icc_profile")
    if icc:
        from io import BytesIO
        from PIL import ImageCms
        shown = ImageCms.profileToProfile(shown, ImageCms.ImageCmsProfile(BytesIO(icc)), ImageCms.createProfile("sRGB"))
    shown = shown.convert("RGB").reduce(8)
    for extra in os.listdir(tmp):
        if extra.startswith(os.path.basename(png)[:-4]) and extra.endswith(".png"):
            os.remove(os.path.join(tmp, extra))  # heif-convert also writes the depth map
    return shown.size[0] * H == shown.size[1] * W and \
        mean_abs_diff(shown, upright.resize(shown.size, Image.Resampling.BOX)) < 6


stored = upright.transpose(T.ROTATE_90)  # the sensor's pixels of a portrait-held phone, turned back
stored.save(os.path.join(tmp, "stored.png"))
subprocess.run(["vips", "icc_transform", os.path.join(tmp, "stored.png"), os.path.join(tmp, "stored-p3.png"), "p3",
                "--input-profile", "srgb"], check=True)
stored_p3 = Image.open(os.path.join(tmp, "stored-p3.png"))
p3_profile = stored_p3.info["icc_profile"]
depth_map = stored.convert("L").resize((stored.size[0] // 6, stored.size[1] // 6), Image.Resampling.BOX)
name = "phone-12mp-grid-p3-depth.heic"
open(os.path.join(tmp, name), "wb").write(
    phone_heic(stored_p3.convert("RGB"), p3_profile, depth_map, exif_with_orientation(6), rotation=3))
for f in ("stored.png", "stored-p3.png"):
    os.remove(os.path.join(tmp, f))
assert heif_displays_upright(os.path.join(tmp, name)), f"{name} does not display upright"
record(name, W, H, "reference-320.png",
       "iPhone-shaped HEIC: 6×9 grid of 512-px HEVC tiles, irot 270°, EXIF orientation 6, Display P3, depth map")

# JPEG XL: a 12 MP sideways JPEG recompressed losslessly (cjxl keeps its orientation in the
# codestream), and a 4 MP photo with alpha, lossy.
subprocess.run(["cjxl", os.path.join(tmp, "phone-12mp-orientation-6-baseline.jpg"),
                os.path.join(tmp, "phone-12mp-orientation-6.jxl")], check=True, stderr=subprocess.DEVNULL)
record("phone-12mp-orientation-6.jxl", W, H, "reference-320.png",
       "phone-12mp-orientation-6-baseline.jpg recompressed losslessly into JPEG XL (orientation 6 in the codestream)")
# AVIF with an EXIF orientation and no irot (libvips 8.14's heifsave writes none): a HEIF file's
# EXIF orientation is informational, so every reader shows it as stored, sideways (2848×4272).
subprocess.run(["vips", "copy", os.path.join(tmp, "phone-12mp-orientation-6-baseline.jpg"),
                os.path.join(tmp, "phone-12mp-exif-orientation-6.avif[Q=50,effort=2]")], check=True,
               stderr=subprocess.DEVNULL)
stored_6 = stored_for[6](upright)
stored_6.resize((320, round(W * 320 / H)), Image.Resampling.LANCZOS).save(os.path.join(tmp, "reference-stored-6-320.png"))
record("phone-12mp-exif-orientation-6.avif", H, W, "reference-stored-6-320.png",
       "phone-12mp-orientation-6-baseline.jpg as AVIF by libvips 8.14: EXIF orientation 6, no irot; shown as stored")
subprocess.run(["cjxl", "-d", "1.0", "-e", "3", os.path.join(tmp, "alpha-4mp.png"), os.path.join(tmp, "alpha-4mp.jxl")],
               check=True, stderr=subprocess.DEVNULL)
record("alpha-4mp.jxl", 2448, 1632, note="alpha-4mp.png as lossy JPEG XL (distance 1, alpha kept)")

# A 10-bit HEIC (what iPhones write in HDR mode): heif-enc keeps 10 bits from a 16-bit PNG.
subprocess.run(["vips", "colourspace", os.path.join(tmp, "plain-4mp.png"), os.path.join(tmp, "plain-4mp-16.png"),
                "rgb16"], check=True)
subprocess.run(["heif-enc", "-b", "10", "-q", "70", "-o", os.path.join(tmp, "10bit-4mp.heic"),
                os.path.join(tmp, "plain-4mp-16.png")], check=True, stdout=subprocess.DEVNULL)
os.remove(os.path.join(tmp, "plain-4mp-16.png"))
# heif-info 1.15 does not print the bit depth; heif-convert writes a 16-bit PNG only for >8 bits.
subprocess.run(["heif-convert", os.path.join(tmp, "10bit-4mp.heic"), os.path.join(tmp, "10bit-check.png")],
               check=True, stdout=subprocess.DEVNULL)
depth = subprocess.run(["vipsheader", "-f", "format", os.path.join(tmp, "10bit-check.png")], capture_output=True,
                       text=True, check=True).stdout.strip()
assert "USHORT" in depth, f"heif-enc did not write a 10-bit HEIC (decoded as {depth})"
os.remove(os.path.join(tmp, "10bit-check.png"))
record("10bit-4mp.heic", 2448, 1632, "reference-320.png", "plain-4mp.png as a 10-bit HEIC (heif-enc -b 10)")

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
phone = read("phone-12mp-grid-p3-depth.heic")
write("damaged-heic-grid-cut.heic", phone[:len(phone) * 2 // 3], "the phone HEIC cut at 2/3 (tiles missing)", True)
# Not here: random bytes inside a tile's HEVC data. HEVC carries no checksum, libde265 conceals
# such damage and libheif 1.15 does not report libde265's warnings, so it decodes "fine" (README,
# "How decoding is made safe").
jxl = read("phone-12mp-orientation-6.jxl")
write("damaged-jxl-cut.jxl", jxl[:len(jxl) * 2 // 3], "the 12 MP JPEG XL cut at 2/3", True)
bad = bytearray(read("alpha-4mp.jxl"))
rng = random.Random(20261203)
for k in range(64):
    bad[len(bad) // 2 + k] = rng.randrange(256)
write("damaged-jxl-corrupt.jxl", bytes(bad), "64 random bytes in the middle of the 4 MP JPEG XL's coded data", True)

# A progressive JPEG with 100 valid scans (jpegtran's most), every AC coefficient of the luma in
# its own scans, refined bit by bit: accepted. The same file with its last scan repeated to 300
# scans: refused before decoding (each scan is a pass over the whole image; the limit is 256).
script = ["0,1,2: 0-0, 0, 0;", "1: 1-63, 0, 0;", "2: 1-63, 0, 0;"]
script += [f"0: {k}-{k}, 0, 1;" for k in range(1, 64)]
script += [f"0: {k}-{k}, 1, 0;" for k in range(1, 34)] + ["0: 34-63, 1, 0;"]
assert len(script) == 100
open(os.path.join(tmp, "scans.txt"), "w").write("\n".join(script) + "\n")
subprocess.run(["jpegtran", "-copy", "all", "-scans", os.path.join(tmp, "scans.txt"), "-outfile",
                os.path.join(tmp, "progressive-100-scans.jpg"),
                os.path.join(tmp, "phone-12mp-orientation-1-baseline.jpg")], check=True)
os.remove(os.path.join(tmp, "scans.txt"))
scans = read("progressive-100-scans.jpg")
assert scans.count(b"\xff\xda") >= 100 and scans.endswith(b"\xff\xd9")
record("progressive-100-scans.jpg", 4272, 2848, note="the 12 MP photo rewritten by jpegtran with 100 scans")
last = scans.rindex(b"\xff\xda")
write("over-limit-jpeg-scans.jpg", scans[:-2] + scans[last:-2] * 200 + b"\xff\xd9",
      "progressive-100-scans.jpg with its last scan repeated to 300 scans", True)

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
