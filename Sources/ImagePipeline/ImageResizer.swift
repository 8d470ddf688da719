// ImagePipeline — the imaging library (layer 2, beside S3Store). Bytes in, bytes out: libvips
// started once (Vips/), header and limits then one shrink-on-load decode (Decode/), every
// derivative's resize and steps (Derive/), encoding within each format's limits (Encode/), and
// the pipeline configuration (Config/). Only this target imports CVips; it does no I/O beyond
// the bytes it is given and reads no environment.

import ImgfnBase

/// The resize pipeline for one input and one output: header and limits → shrink-on-load
/// decode (upright, sRGB) → fit → encode.
public enum ImageResizer {
    /// Reads the header of `source` and checks it against `limits`, decoding no pixels.
    /// - Throws: `ImgfnError` (`.emptyInput`, `.unsupportedFormat`, `.overLimit`, `.corruptImage`).
    public static func info(of source: SourceBytes, limits: DecodeLimits = .default) throws(ImgfnError) -> ImageInfo {
        try ImageDecoder.open(source, limits: limits).0
    }

    /// Resizes and encodes `source`; `encode.format` nil keeps the input's format when imgfn
    /// writes it (JPEG, PNG, WebP, AVIF), else JPEG.
    /// - Throws: `ImgfnError`; nothing is written anywhere by this call.
    public static func resize(
        _ source: SourceBytes, _ options: ResizeOptions, encode: EncodeOptions = EncodeOptions(),
        limits: DecodeLimits = .default
    ) throws(ImgfnError) -> EncodedImage {
        try options.validate()
        try encode.validate()
        let (info, _) = try ImageDecoder.open(source, limits: limits)
        let format = encode.format ?? OutputFormat(matching: info.format)
        let image = try Thumbnailer.resize(source, info: info, options: options)
        return try ImageEncoder.encode(image, as: format, encode, background: options.background)
    }
}
