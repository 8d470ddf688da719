import CVips
import ImgfnBase

/// One encoded output and what it holds.
public struct EncodedImage: Sendable {
    public var bytes: [UInt8]
    public var format: OutputFormat
    public var width: Int
    public var height: Int
    /// With a quality target: the quality chosen, and the file's SSIMULACRA2 score against the
    /// image given to the encoder.
    public var chosenQuality: Int? = nil
    public var score: Double? = nil
}

/// Encodes images to bytes. Pixels are pulled through the lazy pipeline here, so decode errors
/// (a truncated file) surface from this stage too and are reported as such.
enum ImageEncoder {
    static func encode(
        _ image: VipsImage, as format: OutputFormat, _ options: EncodeOptions, background: RGBColour
    ) throws(ImgfnError) -> EncodedImage {
        try options.validate(for: format)
        if options.target != nil { return try QualitySearch.encode(image, as: format, options, background: background) }
        if let refusal = format.sizeRefusal(width: image.width, height: image.height) {
            throw ImgfnError(.overFormatLimit, "cannot encode \(format.rawValue): \(refusal)")
        }
        if format == .avif { try VipsRuntime.requireHEIF() }
        var image = image
        if image.hasAlpha && !format.supportsAlpha {
            let c = background
            image = try image.derive("flatten alpha") {
                cv_flatten($0, $1, Double(c.red), Double(c.green), Double(c.blue))
            }
        }
        if image.orientation != 1 {
            // Every image reaches the encoder upright (`Thumbnailer` turns it). An orientation
            // left on it would be written as EXIF orientation (metadata kept) or, whatever the
            // policy, as HEIF's irot/imir transforms: the file would display turned again.
            image = try image.derive("drop the orientation", code: .encodeFailed) { cv_copy($0, $1) }
            vips_image_remove(image.pointer, "orientation")
        }
        let policy = options.metadata
        if policy != .none && policy != .all { image = try keeping(policy, of: image) }
        let quality = Int32(options.quality ?? EncodeOptions.defaultQuality(for: format))
        let strip: gboolean = policy == .none ? 1 : 0
        let progressive: gboolean = options.progressive ? 1 : 0
        let subsample =
            switch options.chromaSubsampling {
            case .auto: VIPS_FOREIGN_SUBSAMPLE_AUTO
            case .on: VIPS_FOREIGN_SUBSAMPLE_ON
            case .off: VIPS_FOREIGN_SUBSAMPLE_OFF
            }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status: Int32 =
            switch format {
            case .jpeg:
                cv_jpegsave_buffer(image.pointer, &buffer, &length, quality, progressive, strip, subsample)
            case .png:
                cv_pngsave_buffer(image.pointer, &buffer, &length, Int32(options.compression), progressive, strip)
            case .webp:
                cv_webpsave_buffer(
                    image.pointer, &buffer, &length, quality,
                    Int32(options.effort ?? EncodeOptions.defaultEffort(for: .webp)),
                    options.lossless ? 1 : 0,
                    strip)
            case .avif:
                cv_heifsave_buffer(
                    image.pointer, &buffer, &length, quality,
                    Int32(options.effort ?? EncodeOptions.defaultEffort(for: .avif)),
                    VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
                    strip, subsample)
            }
        guard status == 0, let buffer else {
            if let buffer { g_free(buffer) }
            let reason = VipsError.take()
            // Pixels are decoded while encoding, so a failure here is usually the input's (a
            // truncated or corrupt file). libvips prefixes messages with the failing operation's
            // domain: savers' domains name "save", loaders' and codecs' never do. A failure
            // without a message is the encoder's (loaders always say what was wrong).
            let encoderFault = reason.lowercased().contains("save") || reason == VipsError.noReason
            throw encoderFault
                ? ImgfnError(.encodeFailed, "cannot encode \(format.rawValue): \(reason)")
                : ImgfnError(.corruptImage, "cannot decode: \(reason)")
        }
        defer { g_free(buffer) }
        var bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
        if format == .webp && policy == .none { bytes = WebPContainer.removingMetadata(bytes) }
        return EncodedImage(bytes: bytes, format: format, width: image.width, height: image.height)
    }

    /// A copy of `image` whose metadata is only what `policy` keeps. libvips' savers rebuild
    /// EXIF from the parsed `exif-ifdN-*` fields (IFD 3 is GPS), dropping tags whose field is
    /// gone, so removing fields removes tags; the raw EXIF blob goes too when anything is dropped.
    static func keeping(_ policy: MetadataPolicy, of image: VipsImage) throws(ImgfnError) -> VipsImage {
        let copy = try image.derive("copy metadata", code: .encodeFailed) { cv_copy($0, $1) }
        guard let fields = vips_image_get_fields(copy.pointer) else { return copy }
        defer { g_strfreev(fields) }
        var i = 0
        while let field = fields[i] {
            i += 1
            let name = String(cString: field)
            let keep: Bool
            if name.hasPrefix("exif-ifd3-") {
                keep = policy.contains(.gps)
            } else if name == "exif-ifd0-Copyright" || name == "exif-ifd0-Artist" {
                keep = policy.contains(.copyright) || policy.contains(.exif)
            } else if name.hasPrefix("exif-") || name == "jpeg-thumbnail-data" {
                keep = policy.contains(.exif) && name != "exif-data"
            } else if name == "xmp-data" {
                keep = policy.contains(.xmp)
            } else if name == "icc-profile-data" {
                keep = policy.contains(.icc)
            } else if name == "iptc-data" || name.hasSuffix("-comment") || name.contains("comment-") {
                keep = false
            } else {
                keep = true  // geometry, loader and format fields, not metadata
            }
            if !keep { vips_image_remove(copy.pointer, field) }
        }
        return copy
    }
}
