import CVips
import ImgfnBase

// Whole-image decodes: the header checks and the decode of Decode, then turned upright. They sit
// in Derive, above the decoder, beside the resizes that share that decode.

extension VipsImage {
    /// Decodes a whole image (e.g. a watermark PNG) into memory: 8-bit sRGB, upright, at full
    /// size. Unlike the lazy images a pipeline passes along, the result can be read any number
    /// of times.
    public static func decode(_ bytes: SourceBytes, limits: DecodeLimits = .default) throws(ImgfnError) -> VipsImage {
        let (info, _) = try ImageDecoder.open(bytes, limits: limits)
        let stored = try ImageDecoder.decodeShrunk(bytes, info: info, scale: 1)
        guard info.orientation != 1 else { return stored }
        return try stored.derive("orient") { cv_autorot($0, $1) }.inMemory()
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
