import ImgfnBase

// Whole-image decodes: the header checks of Decode, then a full-size `thumbnail` (upright, 8-bit
// sRGB). They sit here, above Decode and Thumbnailer, because they use both.

extension VipsImage {
    /// Decodes a whole image (e.g. a watermark PNG) into memory: 8-bit sRGB, upright, at full
    /// size. Unlike the lazy images a pipeline passes along, the result can be read any number
    /// of times.
    public static func decode(_ bytes: SourceBytes, limits: DecodeLimits = .default) throws(ImgfnError) -> VipsImage {
        let (info, _) = try ImageDecoder.open(bytes, limits: limits)
        let options = ResizeOptions(width: info.orientedWidth, height: info.orientedHeight)
        return try Thumbnailer.resize(bytes, info: info, options: options).inMemory()
    }
}

extension PixelBuffer {
    /// The whole image decoded the way the pipeline sees it: upright, 8-bit sRGB (or grey),
    /// embedded profile applied, alpha kept. No shrink-on-load.
    public static func decode(_ source: SourceBytes, limits: DecodeLimits = .default) throws(ImgfnError) -> PixelBuffer
    {
        try PixelBuffer(VipsImage.decode(source, limits: limits))
    }
}
