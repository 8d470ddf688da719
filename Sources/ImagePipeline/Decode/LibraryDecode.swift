import CVips
import ImgfnBase

/// What the decoders outside libvips (`HEICDecoder`, `JXLDecoder`) share: calling their C module
/// with a message buffer, and handing the decoded pixels to libvips.
enum LibraryDecode {
    /// Runs a C call that returns 0, or nonzero with a one-line reason in its message buffer.
    static func call(
        _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32, libraryOpens: () -> Bool
    ) throws(ImgfnError) {
        var message = [CChar](repeating: 0, count: 320)
        let status = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if status != 0 { throw failure(message, libraryOpens: libraryOpens) }
    }

    /// The error for a failed call: `vipsUnavailable` when the library itself does not open (a
    /// deployment without it), else the input's fault (`corruptImage`).
    static func failure(_ message: [CChar], libraryOpens: () -> Bool) -> ImgfnError {
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return ImgfnError(libraryOpens() ? .corruptImage : .vipsUnavailable, reason)
    }

    /// Interleaved grey, grey + alpha, RGB or RGBA samples (8 or 16 bits) copied into a libvips
    /// image in memory, with the colour profile (if any) attached.
    static func image(
        _ pixels: UnsafeRawPointer?, size: Int, width: Int32, height: Int32, bands: Int32, bits: Int32,
        icc: UnsafeRawPointer?, iccSize: Int, format: ImageFormat
    ) throws(ImgfnError) -> VipsImage {
        let high = bits > 8
        let interpretation =
            bands < 3
            ? (high ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W)
            : (high ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
        return try VipsImage.make(.corruptImage, "cannot decode \(format.displayName)", source: nil) {
            cv_image_new_from_pixels(
                pixels, size, width, height, bands, high ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR, interpretation,
                icc, iccSize, $0)
        }
    }

    /// Whether a C module's `*_open` succeeds (it opens its library once).
    static func opens(_ open: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> Bool {
        var probe = [CChar](repeating: 0, count: 320)
        return probe.withUnsafeMutableBufferPointer { open($0.baseAddress!, $0.count) } == 0
    }
}
