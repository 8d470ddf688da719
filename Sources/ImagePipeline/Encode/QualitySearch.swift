import ImgfnBase

/// `"quality": {"target": S}`: the lowest quality whose file scores at least S (SSIMULACRA2)
/// against the image given to the encoder.
///
/// A bisection over qualities 20…95 that starts at the format's default quality: at most seven
/// encodes (enough to land on the lowest passing quality wherever the first probe falls, the
/// score rising with quality), each decoded and scored, so a file costs up to seven encodes
/// plus seven scores (~0.2 s per megapixel each, on one core) — a 1280-px JPEG took ~2 s
/// rather than 40 ms (whole process, README). The result is deterministic: the same pixels and
/// settings choose the same quality. When even 95 misses the target, 95 is kept (its score says so). An image under
/// 8 px a side has no scale the metric can measure: it is encoded at the default quality,
/// without a score.
enum QualitySearch {
    static let qualities = 20...95
    static let maxEncodes = 7
    /// Our own encodes are read back without the source's limits.
    static let readBack = DecodeLimits(maxPixels: Int(Int32.max), maxBytes: Int(Int32.max), maxFrames: 1)

    static func encode(
        _ image: VipsImage, as format: OutputFormat, _ options: EncodeOptions, background: RGBColour
    ) throws(ImgfnError) -> EncodedImage {
        var fixed = options
        fixed.target = nil
        guard let target = options.target, image.width >= 8, image.height >= 8 else {
            return try ImageEncoder.encode(image, as: format, fixed, background: background)
        }
        // The reference is what the file should show: flattened like the encoder flattens it.
        let reference = image.hasAlpha && !format.supportsAlpha ? try image.flattened(onto: background) : image
        let planes = try Ssimulacra2.Reference(reference)
        var best: EncodedImage?  // the lowest quality that met the target
        var highest: EncodedImage?  // the highest quality tried, if none did
        var (low, high) = (qualities.lowerBound, qualities.upperBound)
        var quality = Swift.min(Swift.max(EncodeOptions.defaultQuality(for: format), low), high)
        for _ in 0..<maxEncodes {
            fixed.quality = quality
            var encoded = try ImageEncoder.encode(image, as: format, fixed, background: background)
            let decoded = try VipsImage.decode(SourceBytes(encoded.bytes), limits: readBack)
            encoded.chosenQuality = quality
            encoded.score = try planes.score(decoded)
            if encoded.score! >= target {
                best = encoded
                high = quality - 1
            } else {
                if quality > (highest?.chosenQuality ?? 0) { highest = encoded }
                low = quality + 1
            }
            guard low <= high else { break }
            quality = (low + high) / 2
        }
        return (best ?? highest)!
    }
}
