#!/usr/bin/env python3
"""Pillow peer for the benchmarks: one WIDTH-wide JPEG (quality 80, no metadata) from IN, the way
the AWS Lambda S3 thumbnail tutorial does it, with `draft` so JPEGs are decoded scaled by
libjpeg-turbo (the draft must come before `exif_transpose`, which would otherwise load the full
image). Usage: pillow_thumbnail.py IN OUT WIDTH
"""
import sys

from PIL import Image, ImageOps

ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def main():
    source, destination, width = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Image.open(source) as image:
        rotated = image.getexif().get(0x0112, 1) in ROTATED
        scale = width / (image.height if rotated else image.width)
        # draft() takes the size in stored (not upright) orientation.
        image.draft("RGB", (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
        upright = ImageOps.exif_transpose(image).convert("RGB")
        upright.thumbnail((width, 1 << 20))
        upright.save(destination, "JPEG", quality=80)


if __name__ == "__main__":
    main()
