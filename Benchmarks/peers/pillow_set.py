#!/usr/bin/env python3
"""Pillow peer for the cost table: the default derivative set of IN into DIR, the way a Lambda
written after AWS's S3 thumbnail tutorial makes several sizes: the photo decoded once (upright,
RGB), each width resized from it with Lanczos (`thumbnail`), saved as JPEG (quality 80,
progressive), WebP (quality 76, method 2) and, for 1280 and 2048, AVIF (quality 54, speed 9:
libavif's counterpart of our effort 0). Usage: pillow_set.py IN DIR
"""
import os
import sys

from PIL import Image, ImageOps

SIZES = [(320, False), (640, False), (1280, True), (2048, True)]


def main():
    source, directory = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    with Image.open(source) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    for width, avif in SIZES:
        copy = upright.copy()
        copy.thumbnail((width, 1 << 20), Image.LANCZOS)
        copy.save(f"{directory}/w{width}.jpg", "JPEG", quality=80, progressive=True)
        copy.save(f"{directory}/w{width}.webp", "WEBP", quality=76, method=2)
        if avif:
            copy.save(f"{directory}/w{width}.avif", "AVIF", quality=54, speed=9)


if __name__ == "__main__":
    main()
