// See include/cheif.h. libheif's header gives the prototypes; nothing here links libheif.
#include "cheif.h"

#include <dlfcn.h>
#include <libheif/heif.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHEIF_FUNCTIONS(X)                                                                                              \
    X(heif_init)                                                                                                       \
    X(heif_have_decoder_for_format)                                                                                    \
    X(heif_context_alloc)                                                                                              \
    X(heif_context_free)                                                                                               \
    X(heif_context_read_from_memory_without_copy)                                                                      \
    X(heif_context_set_max_decoding_threads)                                                                           \
    X(heif_context_get_number_of_top_level_images)                                                                     \
    X(heif_context_get_primary_image_handle)                                                                           \
    X(heif_image_handle_release)                                                                                       \
    X(heif_image_handle_get_width)                                                                                     \
    X(heif_image_handle_get_height)                                                                                    \
    X(heif_image_handle_has_alpha_channel)                                                                             \
    X(heif_image_handle_get_luma_bits_per_pixel)                                                                       \
    X(heif_image_handle_get_raw_color_profile_size)                                                                    \
    X(heif_image_handle_get_raw_color_profile)                                                                         \
    X(heif_image_handle_get_number_of_depth_images)                                                                    \
    X(heif_decoding_options_alloc)                                                                                     \
    X(heif_decoding_options_free)                                                                                      \
    X(heif_decode_image)                                                                                               \
    X(heif_image_get_width)                                                                                            \
    X(heif_image_get_height)                                                                                           \
    X(heif_image_get_bits_per_pixel_range)                                                                             \
    X(heif_image_get_plane_readonly)                                                                                   \
    X(heif_image_release)

static struct {
#define CHEIF_FIELD(name) __typeof__(name) *name;
    CHEIF_FUNCTIONS(CHEIF_FIELD)
#undef CHEIF_FIELD
} lib;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char open_failure[256];

static void open_library(void) {
    // The system's libheif (soname of libheif 1.x); in the Lambda bundle, lib/ beside bootstrap
    // (the executable's search path). RTLD_LOCAL: its symbols are not added to the global scope.
    void *handle = dlopen("libheif.so.1", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(open_failure, sizeof open_failure, "HEIC support unavailable: %s", reason ? reason : "libheif.so.1");
        return;
    }
#define CHEIF_LOOKUP(name)                                                                                              \
    lib.name = (__typeof__(name) *)dlsym(handle, #name);                                                               \
    if (lib.name == NULL) {                                                                                            \
        snprintf(open_failure, sizeof open_failure, "HEIC support unavailable: libheif lacks %s", #name);              \
        return;                                                                                                        \
    }
    CHEIF_FUNCTIONS(CHEIF_LOOKUP)
#undef CHEIF_LOOKUP
    lib.heif_init(NULL);
    if (!lib.heif_have_decoder_for_format(heif_compression_HEVC)) {
        snprintf(open_failure, sizeof open_failure, "HEIC support unavailable: libheif has no HEVC decoder");
        return;
    }
}

static int fail(char *error, size_t error_size, const char *context, const char *message) {
    snprintf(error, error_size, "%s: %s", context, message && *message ? message : "unknown libheif error");
    // One line: libheif's messages may end in (or hold) newlines.
    for (char *c = error; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    for (size_t n = strlen(error); n > 0 && error[n - 1] == ' '; n--)
        error[n - 1] = 0;
    return -1;
}

int cheif_open(char *error, size_t error_size) {
    pthread_once(&once, open_library);
    if (open_failure[0] != 0) {
        snprintf(error, error_size, "%s", open_failure);
        return -1;
    }
    return 0;
}

/// The context and primary handle of `data`, or -1 with the reason.
static int open_primary(const void *data, size_t size, int threads, struct heif_context **ctx,
                        struct heif_image_handle **handle, char *error, size_t error_size) {
    if (cheif_open(error, error_size) != 0)
        return -1;
    *ctx = lib.heif_context_alloc();
    if (*ctx == NULL)
        return fail(error, error_size, "cannot read HEIC", "out of memory");
    // No libheif size limit of ours: it bounds each side, which would refuse a 20000-px panorama
    // well under the pixel limit. The header's size is checked by the caller before decoding;
    // libheif's default bound still applies while parsing.
    lib.heif_context_set_max_decoding_threads(*ctx, threads);
    struct heif_error err = lib.heif_context_read_from_memory_without_copy(*ctx, data, size, NULL);
    if (err.code != heif_error_Ok) {
        // The message lives in the context: copy it out before freeing that.
        fail(error, error_size, "cannot read HEIC header", err.message);
        lib.heif_context_free(*ctx);
        return -1;
    }
    err = lib.heif_context_get_primary_image_handle(*ctx, handle);
    if (err.code != heif_error_Ok) {
        // The message lives in the context: copy it out before freeing that.
        fail(error, error_size, "cannot read HEIC header", err.message);
        lib.heif_context_free(*ctx);
        return -1;
    }
    return 0;
}

int cheif_read_info(const void *data, size_t size, cheif_info *out, char *error, size_t error_size) {
    struct heif_context *ctx;
    struct heif_image_handle *handle;
    if (open_primary(data, size, 1, &ctx, &handle, error, error_size) != 0)
        return -1;
    out->width = lib.heif_image_handle_get_width(handle);
    out->height = lib.heif_image_handle_get_height(handle);
    out->has_alpha = lib.heif_image_handle_has_alpha_channel(handle);
    out->bits = lib.heif_image_handle_get_luma_bits_per_pixel(handle);
    out->has_icc = lib.heif_image_handle_get_raw_color_profile_size(handle) > 0;
    out->images = lib.heif_context_get_number_of_top_level_images(ctx);
    out->depth_images = lib.heif_image_handle_get_number_of_depth_images(handle);
    lib.heif_image_handle_release(handle);
    lib.heif_context_free(ctx);
    return 0;
}

int cheif_decode(const void *data, size_t size, int threads, cheif_image *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    struct heif_context *ctx;
    struct heif_image_handle *handle;
    if (open_primary(data, size, threads, &ctx, &handle, error, error_size) != 0)
        return -1;
    int alpha = lib.heif_image_handle_has_alpha_channel(handle);
    int high = lib.heif_image_handle_get_luma_bits_per_pixel(handle) > 8;
    enum heif_chroma chroma = high ? (alpha ? heif_chroma_interleaved_RRGGBBAA_LE : heif_chroma_interleaved_RRGGBB_LE)
                                   : (alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB);
    struct heif_decoding_options *options = lib.heif_decoding_options_alloc();
    // Warnings from the HEVC decoder (damaged slices it would conceal with grey) fail the image.
    if (options != NULL && options->version >= 3)
        options->strict_decoding = 1;
    struct heif_image *image = NULL;
    struct heif_error err = lib.heif_decode_image(handle, &image, heif_colorspace_RGB, chroma, options);
    if (options != NULL)
        lib.heif_decoding_options_free(options);
    int status = 0;
    if (err.code != heif_error_Ok || image == NULL) {
        status = fail(error, error_size, "cannot decode HEIC", err.message);
        goto done;
    }
    int stride = 0;
    const uint8_t *plane = lib.heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride);
    int width = lib.heif_image_get_width(image, heif_channel_interleaved);
    int height = lib.heif_image_get_height(image, heif_channel_interleaved);
    int bits = lib.heif_image_get_bits_per_pixel_range(image, heif_channel_interleaved);
    if (plane == NULL || width <= 0 || height <= 0) {
        status = fail(error, error_size, "cannot decode HEIC", "no pixels in the decoded image");
        goto done;
    }
    out->width = width;
    out->height = height;
    out->bands = alpha ? 4 : 3;
    out->bits = high ? 16 : 8;
    size_t row = (size_t)width * out->bands * (high ? 2 : 1);
    out->size = row * height;
    out->pixels = malloc(out->size);
    if (out->pixels == NULL) {
        status = fail(error, error_size, "cannot decode HEIC", "out of memory");
        goto done;
    }
    for (int y = 0; y < height; y++) {
        const uint8_t *from = plane + (size_t)y * stride;
        uint8_t *to = (uint8_t *)out->pixels + (size_t)y * row;
        if (!high) {
            memcpy(to, from, row);
            continue;
        }
        // 10/12-bit little-endian samples to the full 16-bit range libvips' RGB16 expects:
        // v << (16 - bits) with the top bits repeated below, so white stays white.
        const uint16_t *in = (const uint16_t *)from;
        uint16_t *o = (uint16_t *)to;
        int shift = 16 - (bits > 0 && bits <= 16 ? bits : 16);
        for (size_t i = 0; i < (size_t)width * out->bands; i++) {
            uint32_t v = in[i];
            o[i] = shift == 0 ? (uint16_t)v : (uint16_t)((v << shift) | (v >> (bits - shift)));
        }
    }
    size_t icc = lib.heif_image_handle_get_raw_color_profile_size(handle);
    if (icc > 0 && (out->icc = malloc(icc)) != NULL) {
        if (lib.heif_image_handle_get_raw_color_profile(handle, out->icc).code == heif_error_Ok) {
            out->icc_size = icc;
        } else {
            free(out->icc);
            out->icc = NULL;
        }
    }
done:
    if (image != NULL)
        lib.heif_image_release(image);
    lib.heif_image_handle_release(handle);
    lib.heif_context_free(ctx);
    if (status != 0)
        cheif_image_free(out);
    return status;
}

void cheif_image_free(cheif_image *image) {
    free(image->pixels);
    free(image->icc);
    image->pixels = NULL;
    image->icc = NULL;
}
