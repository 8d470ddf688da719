// HEIC (HEVC-coded HEIF) decoding through libheif, opened at run time.
//
// The single-file libvips imgfn links (PyPI's pyvips-binary) has libheif inside it without an
// HEVC decoder, so HEIC goes through the system's libheif and libde265 instead (Debian's, and
// the same copies in the Lambda bundle). They are dlopen'ed with RTLD_LOCAL the first time a
// HEIC arrives: a process that never sees one never maps them (cold start unchanged), and
// their symbols stay out of the global scope where libvips' own codecs live.
#ifndef IMGFN_CHEIF_H
#define IMGFN_CHEIF_H

#include <stddef.h>

/// What a HEIC's primary image is, read from its boxes without decoding any pixels.
/// Width and height are as displayed: after the file's rotation, mirror and crop.
typedef struct cheif_info {
    int width;
    int height;
    int has_alpha;
    /// Bits per luma sample as coded: 8, 10 or 12.
    int bits;
    /// An ICC profile (colr box of type prof/rICC) comes with the image.
    int has_icc;
    /// Top-level images in the file (primary included); only the primary is decoded.
    int images;
    /// Auxiliary images of the primary (depth, alpha, HDR gain maps): read past, never decoded.
    int depth_images;
} cheif_info;

/// A decoded primary image: interleaved RGB or RGBA, upright (the file's transformations
/// applied), 8 bits a sample or 16 (10- and 12-bit images, scaled to the full 16-bit range).
/// `pixels` and `icc` are malloc'd; free them with `cheif_image_free`.
typedef struct cheif_image {
    void *pixels;
    size_t size;
    int width;
    int height;
    int bands;
    int bits;
    void *icc;
    size_t icc_size;
} cheif_image;

/// Opens libheif (once). Returns 0 when it can decode HEVC, else -1 with the reason in `error`.
int cheif_open(char *error, size_t error_size);

/// Reads the primary image's description. Returns 0, or -1 with a one-line reason in `error`.
int cheif_read_info(const void *data, size_t size, cheif_info *out, char *error, size_t error_size);

/// Decodes the primary image with up to `threads` decoding threads (grid tiles in parallel).
/// Missing or cut coded data fails the image; random bytes inside a tile's HEVC data do not
/// (HEVC has no checksum and libde265 conceals such damage). Returns 0, or -1 with a one-line
/// reason in `error`.
int cheif_decode(const void *data, size_t size, int threads, cheif_image *out, char *error, size_t error_size);

void cheif_image_free(cheif_image *image);

#endif
