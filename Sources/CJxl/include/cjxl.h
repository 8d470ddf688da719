// JPEG XL decoding through libjxl, opened at run time.
//
// The single-file libvips imgfn links (PyPI's pyvips-binary) is built without libjxl, so JPEG XL
// goes through the system's libjxl 0.7 (Debian's, and the same copy in the Lambda bundle). It is
// dlopen'ed with RTLD_LOCAL the first time a JPEG XL arrives, as libheif is for HEIC (CHeif): a
// process that never sees one never maps it, and its symbols stay out of the global scope.
#ifndef IMGFN_CJXL_H
#define IMGFN_CJXL_H

#include <stddef.h>

/// What a JPEG XL image is, from its headers (no pixels decoded). Width and height are as
/// displayed: after the codestream's orientation.
typedef struct cjxl_info {
    int width;
    int height;
    /// 1 (grey) or 3 (colour), not counting alpha.
    int colour_channels;
    int has_alpha;
    /// Bits per sample as coded (8 for most photos, up to 16; 32 for float).
    int bits;
    /// 1..8, as EXIF: what libjxl turns the stored pixels by on decode.
    int orientation;
    int animated;
    /// Whether the pixels need a colour profile to become sRGB: an embedded ICC profile, or
    /// libjxl's description of a colour encoding other than sRGB (Display P3, Rec. 2020, a
    /// linear curve). 0 for plain sRGB (and sRGB-curve grey), which needs no transform.
    int has_icc;
} cjxl_info;

/// A decoded image: interleaved grey, grey+alpha, RGB or RGBA, upright, 8 or 16 bits a sample
/// (16 for anything coded with more than 8). `icc` is NULL for plain sRGB (see `has_icc`).
/// `pixels` and `icc` are malloc'd; free them with
/// `cjxl_image_free`.
typedef struct cjxl_image {
    void *pixels;
    size_t size;
    int width;
    int height;
    int bands;
    int bits;
    void *icc;
    size_t icc_size;
} cjxl_image;

/// Opens libjxl (once). Returns 0, else -1 with the reason in `error`.
int cjxl_open(char *error, size_t error_size);

/// libjxl prints a trace of each failure on stderr. With `on` nonzero, file descriptor 2 points
/// at /dev/null while `cjxl_read_info` or `cjxl_decode` runs: for a program that owns its stderr
/// and writes its own messages to a copy of fd 2 taken at start (the CLI). Off by default.
void cjxl_quiet_stderr(int on);

/// Reads the headers. Returns 0, or -1 with a one-line reason in `error` (truncated or corrupt
/// headers, or libjxl missing: then `cjxl_open` fails too), or -2 when the basic info (the size)
/// was read but the rest of the header is cut or corrupt: `out` is filled, so a caller can refuse
/// an oversized image for its size before reporting the damage.
int cjxl_read_info(const void *data, size_t size, cjxl_info *out, char *error, size_t error_size);

/// Decodes the first frame whole, with up to `threads` threads. Data cut short or corrupt
/// fails the image. Returns 0, or -1 with a one-line reason in `error`.
int cjxl_decode(const void *data, size_t size, int threads, cjxl_image *out, char *error, size_t error_size);

void cjxl_image_free(cjxl_image *image);

#endif
