import CVips
import ImgfnBase

/// Turns an input into an upright, sRGB, 8-bit image of the requested geometry, around libvips'
/// `thumbnail` (hence the name; `ImageResizer` is the public one-image API built on it).
///
/// Stage order (fixed): the one decode (`ImageDecoder.decodeShrunk`: shrink-on-load where the
/// format has it, ICC profile → sRGB, 8 bits, pixels as stored) → resize (`thumbnail_image`,
/// EXIF orientation applied after shrinking) → fit (crop or pad). A single resize and every
/// derivative of a set go through the same code; a set decodes once for all its derivatives.
enum Thumbnailer {
    /// One image from encoded bytes, through the same decode a derivative set uses (so every
    /// path accepts and refuses the same inputs): shrunk on load as far as `thumbnail` would
    /// for this size, then resized.
    static func resize(_ source: SourceBytes, info: ImageInfo, options: ResizeOptions) throws(ImgfnError) -> VipsImage {
        try options.validate()
        let scale = options.neededScale(width: info.orientedWidth, height: info.orientedHeight)
        let decoded = try ImageDecoder.decodeShrunk(source, info: info, scale: Swift.min(scale, 1))
        return try resize(decoded, options: options)
    }

    /// `input` resized to `options`: it may carry an EXIF orientation (the shared decode of a set
    /// does); the result is upright, turned after shrinking.
    static func resize(_ input: VipsImage, options: ResizeOptions) throws(ImgfnError) -> VipsImage {
        try options.validate()
        let size = options.enlarge ? VIPS_SIZE_BOTH : VIPS_SIZE_DOWN
        guard let width = options.width, let height = options.height else {
            // One dimension only: it bounds that dimension and nothing else (a tall image stays tall).
            return try thumbnail(
                input, width: options.width ?? ResizeOptions.maxCoordinate,
                height: options.height ?? ResizeOptions.maxCoordinate, size: size)
        }
        switch options.fit {
        case .inside:
            return try thumbnail(input, width: width, height: height, size: size)

        case .cover:
            if let interesting = options.gravity.interesting {
                return try thumbnail(input, width: width, height: height, size: size, crop: interesting)
            }
            // Compass gravity: scale so the image covers the box, then cut the box out at the anchor.
            let scale = options.coverScale(width: input.uprightWidth, height: input.uprightHeight)
            let image = try thumbnail(
                input,
                width: Swift.max(1, Int((Double(input.uprightWidth) * scale).rounded())),
                height: Swift.max(1, Int((Double(input.uprightHeight) * scale).rounded())),
                size: VIPS_SIZE_BOTH)
            let cropWidth = Swift.min(width, image.width)
            let cropHeight = Swift.min(height, image.height)
            let (x, y) = options.gravity.anchor
            return try image.cropped(
                left: Int((Double(image.width - cropWidth) * x).rounded()),
                top: Int((Double(image.height - cropHeight) * y).rounded()),
                width: cropWidth, height: cropHeight)

        case .fill:
            return try thumbnail(
                input,
                width: options.enlarge ? width : Swift.min(width, input.uprightWidth),
                height: options.enlarge ? height : Swift.min(height, input.uprightHeight),
                size: VIPS_SIZE_FORCE)

        case .contain:
            let image = try thumbnail(input, width: width, height: height, size: size)
            if image.width == width && image.height == height { return image }
            let (x, y) = options.gravity.anchor
            let left = Int((Double(width - image.width) * x).rounded())
            let top = Int((Double(height - image.height) * y).rounded())
            let background = padding(for: image, colour: options.background)
            return try image.derive("pad") {
                cv_embed(
                    $0, $1, Int32(left), Int32(top), Int32(width), Int32(height), background, Int32(background.count))
            }
        }
    }

    /// In-memory resize (libvips' `thumbnail_image`) to fit `width`×`height`, upright, in 8-bit
    /// sRGB (or 8-bit grey).
    private static func thumbnail(
        _ input: VipsImage, width: Int, height: Int, size: VipsSize, crop: VipsInteresting = VIPS_INTERESTING_NONE
    ) throws(ImgfnError) -> VipsImage {
        let image = try input.derive("resize") { cv_thumbnail_image($0, $1, Int32(width), Int32(height), size, crop) }
        return try image.eightBitSRGB()
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

extension ResizeOptions {
    /// The scale that makes a `width`×`height` image cover the box (capped at 1 without `enlarge`).
    func coverScale(width: Int, height: Int) -> Double {
        let scale = Swift.max(Double(self.width ?? 1) / Double(width), Double(self.height ?? 1) / Double(height))
        return enlarge ? scale : Swift.min(scale, 1)
    }

    /// The largest scale (output ÷ input, per axis, the larger of the two) this resize applies
    /// to a `width`×`height` image: what a shared decode must keep for it to lose nothing.
    public func neededScale(width: Int, height: Int) -> Double {
        let sx = self.width.map { Double($0) / Double(width) }
        let sy = self.height.map { Double($0) / Double(height) }
        let scale: Double
        switch (sx, sy) {
        case (let x?, nil): scale = x
        case (nil, let y?): scale = y
        case (let x?, let y?):
            scale =
                switch fit {
                case .inside, .contain: Swift.min(x, y)
                case .cover, .fill: Swift.max(x, y)
                }
        case (nil, nil): scale = 1
        }
        return enlarge ? scale : Swift.min(scale, 1)
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
