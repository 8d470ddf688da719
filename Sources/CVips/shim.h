// Fixed-arity wrappers over the variadic libvips calls that ImagePipeline uses.
//
// Swift cannot call C variadic functions, so each wrapper names exactly the optional arguments we
// pass. Ownership: every `VipsImage **out` receives a new reference that the caller must
// `g_object_unref`; every `void **buf` receives a g_malloc'd buffer that the caller must `g_free`.
// Every function returns 0 on success and -1 on failure, with the reason in libvips' error buffer.
#ifndef IMGFN_CVIPS_SHIM_H
#define IMGFN_CVIPS_SHIM_H

#include <stdio.h>
#include <malloc.h>
#include <vips/vips.h>

/// Caps glibc's malloc arenas (mallopt M_ARENA_MAX). Returns 1 on success.
static inline int cv_set_malloc_arena_max(int arenas) {
    return mallopt(M_ARENA_MAX, arenas);
}

/// Fixes glibc's heap trim threshold (mallopt M_TRIM_THRESHOLD), which also turns off its
/// dynamic raising of the mmap and trim thresholds. Returns 1 on success.
static inline int cv_set_malloc_trim_threshold(int bytes) {
    return mallopt(M_TRIM_THRESHOLD, bytes);
}

/// Hands the free memory of every glibc malloc arena back to the system (malloc_trim(0)),
/// including free pages inside the heaps, which the trim threshold never reaches.
static inline void cv_malloc_trim(void) {
    malloc_trim(0);
}

/// Now on the clock libvips' deadlines use (g_get_monotonic_time), in microseconds.
static inline gint64 cv_monotonic_microseconds(void) {
    return g_get_monotonic_time();
}

static void cv_deadline_eval(VipsImage *image, VipsProgress *progress, gpointer deadline) {
    (void) progress;
    if (g_get_monotonic_time() >= *(const gint64 *) deadline)
        vips_image_set_kill(image, TRUE);
}

/// Stops every computation of `image` and of the images made from it once the monotonic clock
/// (`cv_monotonic_microseconds`) passes `deadline`: libvips' progress signal is turned on and
/// an `eval` handler sets the kill flag, which each sink checks between tiles and then fails
/// ("killed for image"). A single codec call in progress (one AVIF encode, a progressive JPEG's
/// scans) runs to its end first. The handler lives as long as the image signalling progress.
static inline void cv_image_set_deadline(VipsImage *image, gint64 deadline) {
    vips_image_set_progress(image, TRUE);
    gint64 *at = g_new(gint64, 1);
    *at = deadline;
    g_signal_connect_data(image->progress_signal, "eval", G_CALLBACK(cv_deadline_eval), at,
        (GClosureNotify) (void (*)(void)) g_free, 0);
}

/// Lazy open of an in-memory image: the header is read now, pixels only when pulled.
/// `options` are loader options in libvips' string form ("shrink=2" for JPEG, "scale=0.5" for
/// WebP, or ""). The buffer must outlive the image. `*out` is a new reference.
static inline int cv_image_new_from_buffer(const void *buf, size_t len, const char *options, VipsFailOn fail_on,
                                           VipsImage **out) {
    *out = vips_image_new_from_buffer(buf, len, options,
        "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", fail_on, NULL);
    return *out == NULL ? -1 : 0;
}

/// An image of `width`×`height` interleaved pixels copied from `data` (`size` bytes, `bands`
/// samples of `format` each), tagged as `interpretation`, with `icc` (may be NULL) as its ICC
/// profile. `*out` is a new reference that owns its copy.
static inline int cv_image_new_from_pixels(const void *data, size_t size, int width, int height, int bands,
                                           VipsBandFormat format, VipsInterpretation interpretation,
                                           const void *icc, size_t icc_size, VipsImage **out) {
    VipsImage *raw = vips_image_new_from_memory_copy(data, size, width, height, bands, format);
    if (raw == NULL)
        return -1;
    int result = vips_copy(raw, out, "interpretation", interpretation, NULL);
    g_object_unref(raw);
    if (result == 0 && icc != NULL && icc_size > 0)
        vips_image_set_blob_copy(*out, VIPS_META_ICC_NAME, icc, icc_size);
    return result;
}

/// Turned upright according to the EXIF orientation tag (which is then removed).
static inline int cv_autorot(VipsImage *in, VipsImage **out) {
    return vips_autorot(in, out, NULL);
}

/// ICC transform to `output_profile` ("srgb" is built in). With `input_profile` NULL the
/// embedded profile is used; otherwise `input_profile` (e.g. "cmyk") is the fallback.
static inline int cv_icc_transform(VipsImage *in, VipsImage **out, const char *output_profile,
                                   const char *input_profile) {
    if (input_profile == NULL)
        return vips_icc_transform(in, out, output_profile, "embedded", TRUE, NULL);
    return vips_icc_transform(in, out, output_profile, "input_profile", input_profile, "embedded", TRUE, NULL);
}

/// Resize of an already decoded image (Lanczos3), `vscale` may differ from `hscale`.
static inline int cv_resize(VipsImage *in, VipsImage **out, double hscale, double vscale) {
    return vips_resize(in, out, hscale, "vscale", vscale, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
}

static inline int cv_flatten(VipsImage *in, VipsImage **out, double r, double g, double b) {
    double bg[3] = { r, g, b };
    VipsArrayDouble *background = vips_array_double_new(bg, 3);
    int result = vips_flatten(in, out, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return result;
}

/// Places `in` at (x, y) on a `width`×`height` canvas filled with `bg` (`n` values, one per band).
static inline int cv_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height,
                           const double *bg, int n) {
    VipsArrayDouble *background = vips_array_double_new(bg, n);
    int result = vips_embed(in, out, x, y, width, height,
        "extend", VIPS_EXTEND_BACKGROUND, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return result;
}

static inline int cv_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

static inline int cv_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}

static inline int cv_cast(VipsImage *in, VipsImage **out, VipsBandFormat format) {
    return vips_cast(in, out, format, NULL);
}

/// Encoders. Each writes a new g_malloc'd buffer to `*buf` (caller frees with g_free).
/// `strip` removes EXIF, XMP, IPTC and ICC metadata.
static inline int cv_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, int quality,
                                     gboolean progressive, gboolean strip, VipsForeignSubsample subsample) {
    return vips_jpegsave_buffer(in, buf, len, "Q", quality, "interlace", progressive,
        "optimize_coding", TRUE, "strip", strip, "subsample_mode", subsample, NULL);
}

/// Thumbnail of an already decoded image (no shrink-on-load): same fit options as the buffer form.
static inline int cv_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, VipsSize size,
                                     VipsInteresting crop) {
    return vips_thumbnail_image(in, out, width, "height", height, "size", size, "crop", crop, NULL);
}

static inline int cv_rot(VipsImage *in, VipsImage **out, VipsAngle angle) {
    return vips_rot(in, out, angle, NULL);
}

static inline int cv_flip(VipsImage *in, VipsImage **out, VipsDirection direction) {
    return vips_flip(in, out, direction, NULL);
}

/// Unsharp mask on the L channel of LAB (libvips' default for sRGB); output keeps `in`'s format.
static inline int cv_sharpen(VipsImage *in, VipsImage **out, double sigma) {
    return vips_sharpen(in, out, "sigma", sigma, NULL);
}

static inline int cv_gaussblur(VipsImage *in, VipsImage **out, double sigma) {
    return vips_gaussblur(in, out, sigma, NULL);
}

/// out = in × a + b per band (`n` values each, or 1 for all bands), cast back to 8 bits.
static inline int cv_linear(VipsImage *in, VipsImage **out, const double *a, const double *b, int n) {
    return vips_linear(in, out, (double *) a, (double *) b, n, "uchar", TRUE, NULL);
}

/// `in` + `c` on every band, as a float image.
static inline int cv_add_float(VipsImage *in, VipsImage **out, double c) {
    double a = 1.0;
    return vips_linear(in, out, &a, &c, 1, NULL);
}

static inline int cv_bandjoin_const1(VipsImage *in, VipsImage **out, double c) {
    return vips_bandjoin_const1(in, out, c, NULL);
}

/// `overlay` composited over `base` at (x, y) with the "over" blend mode.
static inline int cv_composite2(VipsImage *base, VipsImage *overlay, VipsImage **out, int x, int y) {
    return vips_composite2(base, overlay, out, VIPS_BLEND_MODE_OVER, "x", x, "y", y, NULL);
}

/// A new image sharing `in`'s pixels with its own copy of the metadata (fields can then be removed).
static inline int cv_copy(VipsImage *in, VipsImage **out) {
    return vips_copy(in, out, NULL);
}

static inline int cv_pngsave_buffer(VipsImage *in, void **buf, size_t *len, int compression,
                                    gboolean interlace, gboolean strip) {
    return vips_pngsave_buffer(in, buf, len, "compression", compression, "interlace", interlace,
        "strip", strip, NULL);
}

static inline int cv_webpsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int effort,
                                     gboolean lossless, gboolean strip) {
    return vips_webpsave_buffer(in, buf, len, "Q", quality, "effort", effort, "lossless", lossless,
        "strip", strip, NULL);
}

static inline int cv_heifsave_buffer(VipsImage *in, void **buf, size_t *len, int quality, int effort,
                                     VipsForeignHeifCompression compression, gboolean strip,
                                     VipsForeignSubsample subsample) {
    return vips_heifsave_buffer(in, buf, len, "Q", quality, "effort", effort,
        "compression", compression, "strip", strip, "subsample_mode", subsample, NULL);
}

#endif
