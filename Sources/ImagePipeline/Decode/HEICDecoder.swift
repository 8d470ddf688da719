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
        return try LibraryDecode.image(
            decoded.pixels, size: decoded.size, width: decoded.width, height: decoded.height, bands: decoded.bands,
            bits: decoded.bits, icc: decoded.icc, iccSize: decoded.icc_size, format: .heic)
    }

    /// Runs a CHeif call; a failure to open libheif is `vipsUnavailable`.
    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ImgfnError) {
        try LibraryDecode.call(body) { LibraryDecode.opens(cheif_open) }
    }
}
