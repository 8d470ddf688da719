import CVips
import ImgfnBase

/// Opens inputs for the pipeline: header first, limits checked, then pixels with shrink-on-load.
///
/// Decoding uses libvips' `fail_on = error`: a truncated file or corrupt compressed data fails
/// the image, which would otherwise come out with a grey or smeared band and be published as if
/// it were fine (libvips 8.14's JPEG buffer loader misses truncation, so `JPEGStructure` checks
/// for the end-of-image marker). Mere warnings — extra bytes after the end marker, a damaged
/// EXIF block, an unknown marker, all common in camera and phone files — are tolerated.
enum ImageDecoder {
    static let failOn = VIPS_FAIL_ON_WARNING

    /// Reads and checks the header of `source`: sniffs the format, refuses what is over `limits`.
    /// No pixel buffer is allocated. Returns the info and the (lazy, header-only) libvips image,
    /// nil for a HEIC or a JPEG XL (read by `HEICDecoder` and `JXLDecoder`, not libvips).
    static func open(_ source: SourceBytes, limits: DecodeLimits) throws(ImgfnError) -> (ImageInfo, VipsImage?) {
        try SourceBytes.checkSize(source.count, maxBytes: limits.maxBytes)
        guard let format = ImageFormat.sniff(source.prefix(4096)) else {
            throw ImgfnError(
                .unsupportedFormat,
                "not a supported image (\(ImageFormat.describeUnsupported(source.prefix(4096)))); accepted: \(ImageFormat.acceptedList)"
            )
        }
        try VipsRuntime.start()
        switch format {
        case .heic:
            let info = try HEICDecoder.info(source)
            try check(info, against: limits)
            return (info, nil)
        case .jxl: return (try JXLDecoder.info(source, limits: limits), nil)
        default: break
        }
        if format.needsHEIF { try VipsRuntime.requireHEIF() }
        let image = try VipsImage.make(
            .corruptImage, "cannot read \(format.displayName) header", source: source
        ) {
            cv_image_new_from_buffer(source.base, source.count, "", failOn, $0)
        }
        let info = describe(image, format: format, bytes: source.count)
        try check(info, against: limits)
        if format == .jpeg && !source.withUnsafeBytes(JPEGStructure.hasEndOfImage) {
            throw ImgfnError(.corruptImage, "truncated JPEG: the data ends before the end-of-image marker")
        }
        if format == .jpeg && info.interlaced {
            let limit = DecodeLimits.maxProgressiveJPEGScans
            let scans = source.withUnsafeBytes { JPEGStructure.scanCount($0, limit: limit) }
            if scans > limit {
                throw ImgfnError(
                    .overLimit, "progressive JPEG has more than \(limit) scans (each costs a pass over the whole image)"
                )
            }
        }
        return (info, image)
    }

    static func check(_ info: ImageInfo, against limits: DecodeLimits) throws(ImgfnError) {
        if info.framePixels > limits.maxPixels {
            throw ImgfnError(
                .overLimit,
                "image is \(info.width)×\(info.height) (\(megapixels(info.framePixels)) MP), over the pixel limit of \(megapixels(limits.maxPixels)) MP"
            )
        }
        if info.frames > limits.maxFrames {
            throw ImgfnError(.overLimit, "image has \(info.frames) frames, over the frame limit of \(limits.maxFrames)")
        }
    }

    static func describe(_ image: VipsImage, format: ImageFormat, bytes: Int) -> ImageInfo {
        let orientation = (1...8).contains(image.orientation) ? image.orientation : 1
        let swap = orientation >= 5
        let bitDepth: Int =
            switch image.bandFormat {
            case VIPS_FORMAT_USHORT, VIPS_FORMAT_SHORT: 16
            case VIPS_FORMAT_UINT, VIPS_FORMAT_INT, VIPS_FORMAT_FLOAT: 32
            case VIPS_FORMAT_DOUBLE: 64
            default: 8
            }
        let space =
            vips_enum_nick(vips_interpretation_get_type(), Int32(image.interpretation.rawValue))
            .map { String(cString: $0) } ?? "unknown"
        return ImageInfo(
            format: format,
            width: image.width, height: image.height,
            orientedWidth: swap ? image.height : image.width,
            orientedHeight: swap ? image.width : image.height,
            orientation: orientation,
            bands: image.bands,
            colourSpace: space,
            bitDepth: bitDepth,
            hasAlpha: image.hasAlpha,
            hasICCProfile: image.has("icc-profile-data"),
            frames: Swift.max(image.pages, 1),
            interlaced: (image.int("interlaced") ?? 0) != 0,
            bytes: bytes)
    }

    private static func megapixels(_ pixels: Int) -> String {
        let tenths = (pixels + 50_000) / 100_000
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }

    /// Decodes `source` whole into memory, in 8-bit sRGB, shrunk on load for a resize by `scale`
    /// (≤ 1: the largest any derivative needs) where the format can, as libvips' `thumbnail`
    /// does: JPEG by its DCT scaling (1/2, 1/4 or 1/8, leaving at least a factor of two to the
    /// resize, `loadShrink`), WebP by its scaled decode straight to `scale`; not resampled
    /// otherwise: the base every derivative of a set is resized from (`Thumbnailer.resize(_:options:)`).
    /// Its pixels are as stored, with the source's EXIF orientation kept as the `orientation`
    /// field: a resize of it comes out upright.
    static func decodeShrunk(
        _ source: SourceBytes, info: ImageInfo, scale: Double, deadline: RenderDeadline? = nil
    ) throws(ImgfnError) -> VipsImage {
        let shrink = loadShrink(forReduction: 1 / Swift.max(scale, 1e-6))
        let options =
            switch info.format {
            case .jpeg where shrink > 1: "shrink=\(shrink)"
            case .webp where scale < 1: "scale=\(Swift.max(scale, 1e-4))"
            default: ""
            }
        var image =
            switch info.format {
            case .heic: try HEICDecoder.decode(source)
            case .jxl: try JXLDecoder.decode(source)
            default:
                try VipsImage.make(.corruptImage, "cannot decode", source: source) {
                    cv_image_new_from_buffer(source.base, source.count, options, failOn, $0)
                }
            }
        if let deadline { deadline.watch(image) }
        if info.hasICCProfile {
            image = try image.derive("convert through the ICC profile") { cv_icc_transform($0, $1, "srgb", nil) }
        } else if image.interpretation == VIPS_INTERPRETATION_CMYK {
            image = try image.derive("convert CMYK") { cv_icc_transform($0, $1, "srgb", "cmyk") }
        }
        // The stored pixels, not turned upright here: the loader reads top to bottom only
        // (sequential access, which lets libvips stream a JPEG without a second whole-image
        // buffer), and a turn or flip reads rows out of that order. The EXIF orientation stays
        // on the image; each resize from it (`Thumbnailer`, libvips' `thumbnail`) applies it after
        // shrinking, so only small images are ever turned.
        return try image.eightBitSRGB().inMemory()
    }

    /// The shrink-on-load factor libvips' `thumbnail` would use for a total reduction of
    /// `reduction` (it leaves at least a factor of two to the final Lanczos resize, because
    /// block shrinking alone over-sharpens).
    static func loadShrink(forReduction reduction: Double) -> Int {
        switch reduction {
        case 16...: 8
        case 8...: 4
        case 4...: 2
        default: 1
        }
    }
}
