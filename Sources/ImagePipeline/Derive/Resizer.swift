import CVips

/// Turns an input into an upright, sRGB, 8-bit image of the requested geometry.
///
/// Stage order (fixed): shrink-on-load (`thumbnail`: the JPEG/WebP/HEIF decoders decode at a
/// reduced scale, EXIF orientation applied, ICC profile → sRGB) → 8-bit sRGB → fit (crop or pad).
enum Resizer {
    static func resize(_ source: SourceBytes, info: ImageInfo, options: ResizeOptions) throws(ImagePipelineError) -> VipsImage {
        try options.validate()
        let size = options.enlarge ? VIPS_SIZE_BOTH : VIPS_SIZE_DOWN
        guard let width = options.width, let height = options.height else {
            // One dimension only: it bounds that dimension and nothing else (a tall image stays tall).
            return try thumbnail(
                source, info, width: options.width ?? ResizeOptions.maxDimension,
                height: options.height ?? ResizeOptions.maxDimension, size: size)
        }
        switch options.fit {
        case .inside:
            return try thumbnail(source, info, width: width, height: height, size: size)

        case .cover:
            if let interesting = options.gravity.interesting {
                return try thumbnail(source, info, width: width, height: height, size: size, crop: interesting)
            }
            // Compass gravity: scale so the image covers the box, then cut the box out at the anchor.
            var scale = Swift.max(Double(width) / Double(info.orientedWidth), Double(height) / Double(info.orientedHeight))
            if !options.enlarge { scale = Swift.min(scale, 1) }
            let image = try thumbnail(
                source, info,
                width: Swift.max(1, Int((Double(info.orientedWidth) * scale).rounded())),
                height: Swift.max(1, Int((Double(info.orientedHeight) * scale).rounded())),
                size: VIPS_SIZE_BOTH)
            let cropWidth = Swift.min(width, image.width), cropHeight = Swift.min(height, image.height)
            let (x, y) = options.gravity.anchor
            let left = Int((Double(image.width - cropWidth) * x).rounded())
            let top = Int((Double(image.height - cropHeight) * y).rounded())
            return try image.derive("crop") {
                cv_extract_area($0, $1, Int32(left), Int32(top), Int32(cropWidth), Int32(cropHeight))
            }

        case .fill:
            return try thumbnail(
                source, info,
                width: options.enlarge ? width : Swift.min(width, info.orientedWidth),
                height: options.enlarge ? height : Swift.min(height, info.orientedHeight),
                size: VIPS_SIZE_FORCE)

        case .contain:
            let image = try thumbnail(source, info, width: width, height: height, size: size)
            if image.width == width && image.height == height { return image }
            let (x, y) = options.gravity.anchor
            let left = Int((Double(width - image.width) * x).rounded())
            let top = Int((Double(height - image.height) * y).rounded())
            let background = padding(for: image, colour: options.background)
            return try image.derive("pad") {
                cv_embed($0, $1, Int32(left), Int32(top), Int32(width), Int32(height), background, Int32(background.count))
            }
        }
    }

    /// Shrink-on-load decode to fit `width`×`height`, upright, in 8-bit sRGB (or 8-bit grey).
    private static func thumbnail(
        _ source: SourceBytes, _ info: ImageInfo, width: Int, height: Int, size: VipsSize,
        crop: VipsInteresting = VIPS_INTERESTING_NONE
    ) throws(ImagePipelineError) -> VipsImage {
        // An embedded profile is honoured by converting through it to sRGB. Without one
        // (most web images), libvips' plain colourspace conversion is exact and far cheaper.
        let exportProfile: String? = info.hasICCProfile ? "srgb" : nil
        let image = try VipsImage.make(.corruptImage, "cannot decode", source: source) {
            cv_thumbnail_buffer(
                source.base, source.count, $0, Int32(width), Int32(height), size, crop, Decoder.failOn, exportProfile)
        }
        return try toEightBitSRGB(image)
    }

    /// 16-bit, CMYK (when no profile converted it already), Lab and other spaces become 8-bit
    /// sRGB; grey stays grey.
    static func toEightBitSRGB(_ image: VipsImage) throws(ImagePipelineError) -> VipsImage {
        let target: VipsInterpretation = switch image.interpretation {
        case VIPS_INTERPRETATION_B_W, VIPS_INTERPRETATION_GREY16: VIPS_INTERPRETATION_B_W
        default: VIPS_INTERPRETATION_sRGB
        }
        var result = image
        if image.interpretation != target {
            result = try image.derive("convert to sRGB") { cv_colourspace($0, $1, target) }
        }
        if result.bandFormat != VIPS_FORMAT_UCHAR {
            result = try result.derive("convert to 8 bits") { cv_cast($0, $1, VIPS_FORMAT_UCHAR) }
        }
        return result
    }

    /// Background pixel for padding: the colour (as grey for one- and two-band images), with
    /// alpha 0 when the image has alpha so the padding stays transparent.
    static func padding(for image: VipsImage, colour: RGBColour) -> [Double] {
        let rgb = [Double(colour.red), Double(colour.green), Double(colour.blue)]
        let grey = [0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]]
        let colourBands = image.bands >= 3 ? rgb : grey
        return image.hasAlpha ? colourBands + [0] : colourBands
    }
}

extension Gravity {
    /// libvips' smart-crop strategy for the gravities `thumbnail` can crop with itself.
    var interesting: VipsInteresting? {
        switch self {
        case .centre: VIPS_INTERESTING_CENTRE
        case .attention: VIPS_INTERESTING_ATTENTION
        case .entropy: VIPS_INTERESTING_ENTROPY
        default: nil
        }
    }
}
