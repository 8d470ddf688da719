import CVips

/// One encoded output and what it holds.
public struct EncodedImage: Sendable {
    public var bytes: [UInt8]
    public var format: OutputFormat
    public var width: Int
    public var height: Int
}

/// Encodes images to bytes. Pixels are pulled through the lazy pipeline here, so decode errors
/// (a truncated file) surface from this stage too and are reported as such.
enum Encoder {
    static func encode(
        _ image: VipsImage, as format: OutputFormat, _ options: EncodeOptions, background: RGBColour
    ) throws(ImagePipelineError) -> EncodedImage {
        try options.validate(for: format)
        if format == .avif { try VipsRuntime.requireHEIF() }
        var image = image
        if image.hasAlpha && !format.supportsAlpha {
            let c = background
            image = try image.derive("flatten alpha") { cv_flatten($0, $1, Double(c.red), Double(c.green), Double(c.blue)) }
        }
        let quality = Int32(options.quality ?? EncodeOptions.defaultQuality(for: format))
        let strip: gboolean = options.keepMetadata ? 0 : 1
        let progressive: gboolean = options.progressive ? 1 : 0
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status: Int32 = switch format {
        case .jpeg:
            cv_jpegsave_buffer(image.pointer, &buffer, &length, quality, progressive, strip, VIPS_FOREIGN_SUBSAMPLE_AUTO)
        case .png:
            cv_pngsave_buffer(image.pointer, &buffer, &length, 6, progressive, strip)
        case .webp:
            cv_webpsave_buffer(image.pointer, &buffer, &length, quality, Int32(options.effort ?? 4), 0, strip)
        case .avif:
            cv_heifsave_buffer(
                image.pointer, &buffer, &length, quality, Int32(options.effort ?? 4), VIPS_FOREIGN_HEIF_COMPRESSION_AV1, strip)
        }
        guard status == 0, let buffer else {
            if let buffer { g_free(buffer) }
            let reason = VipsError.take()
            // Pixels are decoded while encoding, so a failure here is usually the input's (a
            // truncated or corrupt file). libvips prefixes messages with the failing operation's
            // domain: savers' domains name "save", loaders' and codecs' never do.
            let encoderFault = reason.lowercased().contains("save")
            throw encoderFault
                ? ImagePipelineError(.encodeFailed, "cannot encode \(format.rawValue): \(reason)")
                : ImagePipelineError(.corruptImage, "cannot decode: \(reason)")
        }
        defer { g_free(buffer) }
        var bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
        if format == .webp && !options.keepMetadata { bytes = WebPContainer.removingMetadata(bytes) }
        return EncodedImage(bytes: bytes, format: format, width: image.width, height: image.height)
    }
}
