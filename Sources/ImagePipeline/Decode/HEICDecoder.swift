import CHeif
import CVips
import ImgfnBase

/// HEIC (HEVC-coded HEIF, what phones upload) through the system's libheif and libde265
/// (`CHeif`), because the single-file libvips imgfn links has no HEVC decoder. libheif is opened
/// the first time a HEIC arrives, so other inputs never pay for it. AVIF stays with libvips.
///
/// libheif applies the file's own rotation, mirror and crop (`irot`, `imir`, `clap`) while
/// decoding, so the pixels come out upright and orientation is 1: as in every HEIF reader, an
/// EXIF orientation tag inside a HEIC (iPhones write one beside `irot`) is not applied again.
/// 10- and 12-bit images decode to 16 bits a sample; the ICC profile (Display P3 on phones)
/// travels with the pixels and converts them to sRGB like any other format's. Depth maps, gain
/// maps and thumbnails are not decoded. A file cut short or with coded data missing fails the
/// image; random bytes inside HEVC data are concealed by libde265, not detected.
enum HEICDecoder {
    /// The primary image's description, from the file's boxes only (no pixels).
    static func info(_ source: SourceBytes) throws(ImgfnError) -> ImageInfo {
        var header = cheif_info()
        try call { error, size in cheif_read_info(source.base, source.count, &header, error, size) }
        let high = header.bits > 8
        let width = Int(header.width)
        let height = Int(header.height)
        return ImageInfo(
            format: .heic, width: width, height: height, orientedWidth: width, orientedHeight: height,
            orientation: 1, bands: header.has_alpha != 0 ? 4 : 3, colourSpace: high ? "rgb16" : "srgb",
            bitDepth: high ? 16 : 8, hasAlpha: header.has_alpha != 0, hasICCProfile: header.has_icc != 0,
            frames: Swift.max(Int(header.images), 1), interlaced: false, bytes: source.count)
    }

    /// The primary image decoded whole, upright, into a libvips image in memory (RGB or RGBA,
    /// 8 or 16 bits, with its ICC profile attached), using libvips' thread count for the tiles.
    static func decode(_ source: SourceBytes) throws(ImgfnError) -> VipsImage {
        var decoded = cheif_image()
        try call { error, size in
            cheif_decode(source.base, source.count, vips_concurrency_get(), &decoded, error, size)
        }
        defer { cheif_image_free(&decoded) }
        let high = decoded.bits > 8
        return try VipsImage.make(.corruptImage, "cannot decode HEIC", source: nil) {
            cv_image_new_from_pixels(
                decoded.pixels, decoded.size, decoded.width, decoded.height, decoded.bands,
                high ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR,
                high ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB,
                decoded.icc, decoded.icc_size, $0)
        }
    }

    /// Runs a CHeif call with a message buffer; a failure to open libheif is `vipsUnavailable`
    /// (a deployment without it), any other failure is the input's (`corruptImage`).
    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImgfnError) {
        var message = [CChar](repeating: 0, count: 320)
        let status = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        guard status != 0 else { return }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var probe = [CChar](repeating: 0, count: 320)
        let available = probe.withUnsafeMutableBufferPointer { cheif_open($0.baseAddress!, $0.count) } == 0
        throw ImgfnError(available ? .corruptImage : .vipsUnavailable, reason)
    }
}
