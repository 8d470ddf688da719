// See include/cjxl.h. libjxl's headers give the prototypes; nothing here links libjxl.
#include "cjxl.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <jxl/decode.h>
#include <jxl/thread_parallel_runner.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CJXL_FUNCTIONS(X)                                                                                               \
    X(JxlDecoderCreate)                                                                                                \
    X(JxlDecoderDestroy)                                                                                               \
    X(JxlDecoderSubscribeEvents)                                                                                       \
    X(JxlDecoderSetInput)                                                                                              \
    X(JxlDecoderCloseInput)                                                                                            \
    X(JxlDecoderProcessInput)                                                                                          \
    X(JxlDecoderGetBasicInfo)                                                                                          \
    X(JxlDecoderGetICCProfileSize)                                                                                     \
    X(JxlDecoderGetColorAsEncodedProfile)                                                                              \
    X(JxlDecoderSetPreferredColorProfile)                                                                              \
    X(JxlDecoderSetUnpremultiplyAlpha)                                                                                 \
    X(JxlDecoderGetColorAsICCProfile)                                                                                  \
    X(JxlDecoderImageOutBufferSize)                                                                                    \
    X(JxlDecoderSetImageOutBuffer)                                                                                     \
    X(JxlDecoderSetParallelRunner)

#define CJXL_THREAD_FUNCTIONS(X)                                                                                        \
    X(JxlThreadParallelRunner)                                                                                         \
    X(JxlThreadParallelRunnerCreate)                                                                                   \
    X(JxlThreadParallelRunnerDestroy)

static struct {
#define CJXL_FIELD(name) __typeof__(name) *name;
    CJXL_FUNCTIONS(CJXL_FIELD)
    CJXL_THREAD_FUNCTIONS(CJXL_FIELD)
#undef CJXL_FIELD
} lib;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char open_failure[256];

static void open_library(void) {
    // The system's libjxl 0.7 and its thread pool (in the Lambda bundle, lib/ beside bootstrap).
    // RTLD_LOCAL: their symbols are not added to the global scope.
    void *handle = dlopen("libjxl.so.0.7", RTLD_NOW | RTLD_LOCAL);
    void *threads = handle ? dlopen("libjxl_threads.so.0.7", RTLD_NOW | RTLD_LOCAL) : NULL;
    if (handle == NULL || threads == NULL) {
        const char *reason = dlerror();
        snprintf(open_failure, sizeof open_failure, "JPEG XL support unavailable: %s", reason ? reason : "libjxl.so.0.7");
        return;
    }
#define CJXL_LOOKUP_IN(from, name)                                                                                      \
    lib.name = (__typeof__(name) *)dlsym(from, #name);                                                                 \
    if (lib.name == NULL) {                                                                                            \
        snprintf(open_failure, sizeof open_failure, "JPEG XL support unavailable: libjxl lacks %s", #name);            \
        return;                                                                                                        \
    }
#define CJXL_LOOKUP(name) CJXL_LOOKUP_IN(handle, name)
#define CJXL_THREAD_LOOKUP(name) CJXL_LOOKUP_IN(threads, name)
    CJXL_FUNCTIONS(CJXL_LOOKUP)
    CJXL_THREAD_FUNCTIONS(CJXL_THREAD_LOOKUP)
#undef CJXL_LOOKUP
#undef CJXL_THREAD_LOOKUP
#undef CJXL_LOOKUP_IN
}

int cjxl_open(char *error, size_t error_size) {
    pthread_once(&once, open_library);
    if (open_failure[0] != 0) {
        snprintf(error, error_size, "%s", open_failure);
        return -1;
    }
    return 0;
}

// Debian's libjxl prints a trace of every failure on stderr ("./lib/jxl/decode.cc:2143: missing
// input"), which would break the one-line error a bad upload gets. When a program asks for it
// (`cjxl_quiet_stderr`: the CLI, which owns its stderr), fd 2 points at /dev/null while libjxl
// runs; calls overlapping on several threads share one redirection (a depth count). Off by
// default: a server's or a test run's crash reports must reach fd 2.
static _Atomic int quiet_wanted;
static pthread_mutex_t quiet_lock = PTHREAD_MUTEX_INITIALIZER;
static int quiet_depth;
static int saved_stderr = -1;

void cjxl_quiet_stderr(int on) { quiet_wanted = on != 0; }

static void quiet_begin(void) {
    if (!quiet_wanted)
        return;
    pthread_mutex_lock(&quiet_lock);
    if (quiet_depth++ == 0) {
        fflush(stderr);
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null == STDERR_FILENO) {
            saved_stderr = -1;  // fd 2 was closed: /dev/null stays there, nothing to restore
        } else if (null >= 0) {
            saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
            if (saved_stderr >= 0)
                dup2(null, STDERR_FILENO);
            close(null);
        }
    }
    pthread_mutex_unlock(&quiet_lock);
}

static void quiet_end(void) {
    if (!quiet_wanted)
        return;
    pthread_mutex_lock(&quiet_lock);
    if (quiet_depth > 0 && --quiet_depth == 0 && saved_stderr >= 0) {
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
    pthread_mutex_unlock(&quiet_lock);
}

static int fail(char *error, size_t error_size, const char *message) {
    snprintf(error, error_size, "%s", message);
    return -1;
}

/// Why the decoder stopped early, in one line: libjxl reports no reasons of its own.
static int stopped(JxlDecoderStatus status, const char *what, char *error, size_t error_size) {
    if (status == JXL_DEC_NEED_MORE_INPUT)
        snprintf(error, error_size, "truncated JPEG XL: the data ends before the %s", what);
    else
        snprintf(error, error_size, "corrupt JPEG XL: libjxl failed while reading the %s", what);
    return -1;
}

/// The pixels are plain sRGB (or grey with sRGB's white and curve): no profile needs to travel with
/// them, so no colour transform runs. An image described by an ICC profile only is never plain.
static int plain_srgb(const JxlDecoder *decoder, const JxlPixelFormat *format) {
    JxlColorEncoding encoding;
    if (lib.JxlDecoderGetColorAsEncodedProfile(decoder, format, JXL_COLOR_PROFILE_TARGET_DATA, &encoding) !=
        JXL_DEC_SUCCESS)
        return 0;
    return encoding.white_point == JXL_WHITE_POINT_D65 && encoding.transfer_function == JXL_TRANSFER_FUNCTION_SRGB &&
           (encoding.color_space == JXL_COLOR_SPACE_GRAY ||
            (encoding.color_space == JXL_COLOR_SPACE_RGB && encoding.primaries == JXL_PRIMARIES_SRGB));
}

/// Asks libjxl to render an XYB-coded (lossy) image straight to sRGB. Without it, an image that
/// carries an ICC profile decodes to *linear* sRGB, which 8-bit samples cannot hold without
/// banding in the shadows. Images that keep their original profile ignore the preference and
/// keep their ICC (converted by lcms like any other format's).
static void prefer_srgb(JxlDecoder *decoder, int grey) {
    JxlColorEncoding srgb;
    memset(&srgb, 0, sizeof srgb);
    srgb.color_space = grey ? JXL_COLOR_SPACE_GRAY : JXL_COLOR_SPACE_RGB;
    srgb.white_point = JXL_WHITE_POINT_D65;
    srgb.primaries = JXL_PRIMARIES_SRGB;
    srgb.transfer_function = JXL_TRANSFER_FUNCTION_SRGB;
    srgb.rendering_intent = JXL_RENDERING_INTENT_PERCEPTUAL;
    (void)lib.JxlDecoderSetPreferredColorProfile(decoder, &srgb);
}

static void describe(const JxlBasicInfo *basic, cjxl_info *out) {
    int swap = basic->orientation >= JXL_ORIENT_TRANSPOSE;
    out->width = (int)(swap ? basic->ysize : basic->xsize);
    out->height = (int)(swap ? basic->xsize : basic->ysize);
    out->colour_channels = basic->num_color_channels == 1 ? 1 : 3;
    out->has_alpha = basic->alpha_bits > 0;
    out->bits = (int)basic->bits_per_sample;
    out->orientation = (int)basic->orientation;
    out->animated = basic->have_animation != 0;
}

static int read_info(const void *data, size_t size, cjxl_info *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    if (cjxl_open(error, error_size) != 0)
        return -1;
    JxlDecoder *decoder = lib.JxlDecoderCreate(NULL);
    if (decoder == NULL)
        return fail(error, error_size, "cannot read JPEG XL: out of memory");
    int status = -1;
    int have_basic = 0;
    if (lib.JxlDecoderSubscribeEvents(decoder, JXL_DEC_BASIC_INFO | JXL_DEC_COLOR_ENCODING) != JXL_DEC_SUCCESS ||
        lib.JxlDecoderSetInput(decoder, data, size) != JXL_DEC_SUCCESS) {
        fail(error, error_size, "cannot read JPEG XL header");
        goto done;
    }
    lib.JxlDecoderCloseInput(decoder);
    for (;;) {
        JxlDecoderStatus event = lib.JxlDecoderProcessInput(decoder);
        if (event == JXL_DEC_BASIC_INFO) {
            JxlBasicInfo basic;
            if (lib.JxlDecoderGetBasicInfo(decoder, &basic) != JXL_DEC_SUCCESS) {
                fail(error, error_size, "cannot read JPEG XL header");
                goto done;
            }
            describe(&basic, out);
            have_basic = 1;
        } else if (event == JXL_DEC_COLOR_ENCODING) {
            size_t icc = 0;
            prefer_srgb(decoder, out->colour_channels == 1);  // as cjxl_decode does
            out->has_icc = !plain_srgb(decoder, NULL) &&
                           lib.JxlDecoderGetICCProfileSize(decoder, NULL, JXL_COLOR_PROFILE_TARGET_DATA, &icc) ==
                               JXL_DEC_SUCCESS &&
                           icc > 0;
            status = have_basic ? 0 : -1;
            if (status != 0)
                fail(error, error_size, "cannot read JPEG XL header");
            goto done;
        } else {
            stopped(event, "end of its header", error, error_size);
            if (have_basic)
                status = -2;  // the size is known: a caller checks it first
            goto done;
        }
    }
done:
    lib.JxlDecoderDestroy(decoder);
    return status;
}

int cjxl_read_info(const void *data, size_t size, cjxl_info *out, char *error, size_t error_size) {
    quiet_begin();
    int status = read_info(data, size, out, error, error_size);
    quiet_end();
    return status;
}

static int decode(const void *data, size_t size, int threads, cjxl_image *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    if (cjxl_open(error, error_size) != 0)
        return -1;
    JxlDecoder *decoder = lib.JxlDecoderCreate(NULL);
    void *runner = lib.JxlThreadParallelRunnerCreate(NULL, threads > 0 ? (size_t)threads : 1);
    int status = -1;
    JxlPixelFormat format = {3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
    if (decoder == NULL || runner == NULL) {
        fail(error, error_size, "cannot decode JPEG XL: out of memory");
        goto done;
    }
    if (lib.JxlDecoderSubscribeEvents(decoder, JXL_DEC_BASIC_INFO | JXL_DEC_COLOR_ENCODING | JXL_DEC_FULL_IMAGE) !=
            JXL_DEC_SUCCESS ||
        lib.JxlDecoderSetParallelRunner(decoder, lib.JxlThreadParallelRunner, runner) != JXL_DEC_SUCCESS ||
        // libvips assumes straight alpha; JPEG XL may store it premultiplied
        lib.JxlDecoderSetUnpremultiplyAlpha(decoder, JXL_TRUE) != JXL_DEC_SUCCESS ||
        lib.JxlDecoderSetInput(decoder, data, size) != JXL_DEC_SUCCESS) {
        fail(error, error_size, "cannot decode JPEG XL");
        goto done;
    }
    lib.JxlDecoderCloseInput(decoder);
    for (;;) {
        JxlDecoderStatus event = lib.JxlDecoderProcessInput(decoder);
        if (event == JXL_DEC_BASIC_INFO) {
            JxlBasicInfo basic;
            cjxl_info info;
            if (lib.JxlDecoderGetBasicInfo(decoder, &basic) != JXL_DEC_SUCCESS) {
                fail(error, error_size, "cannot decode JPEG XL: no basic info");
                goto done;
            }
            describe(&basic, &info);
            out->width = info.width;
            out->height = info.height;
            out->bands = info.colour_channels + info.has_alpha;
            out->bits = info.bits > 8 ? 16 : 8;
            format.num_channels = (uint32_t)out->bands;
            format.data_type = out->bits == 16 ? JXL_TYPE_UINT16 : JXL_TYPE_UINT8;
        } else if (event == JXL_DEC_COLOR_ENCODING) {
            size_t icc = 0;
            prefer_srgb(decoder, out->bands < 3);
            if (!plain_srgb(decoder, &format) &&
                lib.JxlDecoderGetICCProfileSize(decoder, &format, JXL_COLOR_PROFILE_TARGET_DATA, &icc) ==
                    JXL_DEC_SUCCESS &&
                icc > 0 && (out->icc = malloc(icc)) != NULL) {
                if (lib.JxlDecoderGetColorAsICCProfile(decoder, &format, JXL_COLOR_PROFILE_TARGET_DATA, out->icc,
                                                       icc) == JXL_DEC_SUCCESS) {
                    out->icc_size = icc;
                } else {
                    free(out->icc);
                    out->icc = NULL;
                }
            }
        } else if (event == JXL_DEC_NEED_IMAGE_OUT_BUFFER) {
            size_t needed = 0;
            if (lib.JxlDecoderImageOutBufferSize(decoder, &format, &needed) != JXL_DEC_SUCCESS ||
                needed != (size_t)out->width * out->height * out->bands * (out->bits / 8)) {
                fail(error, error_size, "cannot decode JPEG XL: unexpected output buffer size");
                goto done;
            }
            out->size = needed;
            if ((out->pixels = malloc(needed)) == NULL) {
                fail(error, error_size, "cannot decode JPEG XL: out of memory");
                goto done;
            }
            if (lib.JxlDecoderSetImageOutBuffer(decoder, &format, out->pixels, needed) != JXL_DEC_SUCCESS) {
                fail(error, error_size, "cannot decode JPEG XL: output buffer refused");
                goto done;
            }
        } else if (event == JXL_DEC_FULL_IMAGE) {
            // The first frame (of an animation too) is the image.
            status = out->pixels != NULL ? 0 : fail(error, error_size, "cannot decode JPEG XL: no pixels");
            goto done;
        } else {
            stopped(event, out->pixels ? "end of its pixel data" : "end of its header", error, error_size);
            goto done;
        }
    }
done:
    if (decoder != NULL)
        lib.JxlDecoderDestroy(decoder);
    if (runner != NULL)
        lib.JxlThreadParallelRunnerDestroy(runner);
    if (status != 0)
        cjxl_image_free(out);
    return status;
}

int cjxl_decode(const void *data, size_t size, int threads, cjxl_image *out, char *error, size_t error_size) {
    quiet_begin();
    int status = decode(data, size, threads, out, error, error_size);
    quiet_end();
    return status;
}

void cjxl_image_free(cjxl_image *image) {
    free(image->pixels);
    free(image->icc);
    image->pixels = NULL;
    image->icc = NULL;
}
