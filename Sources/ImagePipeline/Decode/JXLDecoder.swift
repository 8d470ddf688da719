import CJxl
import CVips
import ImgfnBase

/// JPEG XL through the system's libjxl (`CJxl`), because the single-file libvips imgfn links is
/// built without it. libjxl is opened the first time a JPEG XL arrives, so other inputs never
/// pay for it.
///
/// libjxl applies the codestream's orientation while decoding, so the pixels come out upright
/// and orientation is 1 (a JPEG recompressed into JPEG XL keeps its EXIF orientation there).
/// More than 8 bits a sample decodes to 16; grey stays grey (one or two bands); the colour
/// profile (an embedded ICC, or libjxl's own for the image's colour encoding) travels with the
/// pixels and converts them to sRGB like any other format's. Only the first frame of an animation
/// is decoded. Data cut short or corrupt fails the image.
enum JXLDecoder {
    /// The image's description, from its headers only (no pixels), checked against `limits`:
    /// a header that gives its size and then breaks off is refused for its size first, as a
    /// pixel bomb must be.
    static func info(_ source: SourceBytes, limits: DecodeLimits) throws(ImgfnError) -> ImageInfo {
        var header = cjxl_info()
        var message = [CChar](repeating: 0, count: 320)
        let status = message.withUnsafeMutableBufferPointer {
            cjxl_read_info(source.base, source.count, &header, $0.baseAddress!, $0.count)
        }
        if status == -2 { try ImageDecoder.check(describe(header, bytes: source.count), against: limits) }
        if status != 0 { throw LibraryDecode.failure(message) { LibraryDecode.opens(cjxl_open) } }
        let info = describe(header, bytes: source.count)
        try ImageDecoder.check(info, against: limits)
        return info
    }

    private static func describe(_ header: cjxl_info, bytes: Int) -> ImageInfo {
        let high = header.bits > 8
        let grey = header.colour_channels == 1
        let width = Int(header.width)
        let height = Int(header.height)
        return ImageInfo(
            format: .jxl, width: width, height: height, orientedWidth: width, orientedHeight: height,
            orientation: 1, bands: Int(header.colour_channels + header.has_alpha),
            colourSpace: grey ? (high ? "grey16" : "b-w") : (high ? "rgb16" : "srgb"),
            bitDepth: high ? 16 : 8, hasAlpha: header.has_alpha != 0, hasICCProfile: header.has_icc != 0,
            frames: 1, interlaced: false, bytes: bytes)
    }

    /// The first frame decoded whole, upright, into a libvips image in memory (with its colour
    /// profile attached), using libvips' thread count.
    static func decode(_ source: SourceBytes) throws(ImgfnError) -> VipsImage {
        var decoded = cjxl_image()
        try LibraryDecode.call(
            { error, size in cjxl_decode(source.base, source.count, vips_concurrency_get(), &decoded, error, size) },
            libraryOpens: { LibraryDecode.opens(cjxl_open) })
        defer { cjxl_image_free(&decoded) }
        return try LibraryDecode.image(
            decoded.pixels, size: decoded.size, width: decoded.width, height: decoded.height, bands: decoded.bands,
            bits: decoded.bits, icc: decoded.icc, iccSize: decoded.icc_size, format: .jxl)
    }
}
