/// What an image's header says, read without decoding pixels.
public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    /// Stored width and height (of one frame), before EXIF orientation.
    public var width: Int
    public var height: Int
    /// Width and height once turned upright (swapped for orientations 5–8).
    public var orientedWidth: Int
    public var orientedHeight: Int
    /// EXIF orientation, 1–8 (1 when absent).
    public var orientation: Int
    public var bands: Int
    /// libvips' interpretation nickname: `srgb`, `b-w`, `cmyk`, `rgb16`, `grey16`, …
    public var colourSpace: String
    /// Bits per sample: 8 or 16 (32 for float TIFF).
    public var bitDepth: Int
    public var hasAlpha: Bool
    /// An ICC profile is embedded (it is used to convert to sRGB).
    public var hasICCProfile: Bool
    /// Frames or pages; only the first is decoded.
    public var frames: Int
    /// Progressive JPEG, interlaced PNG or GIF.
    public var interlaced: Bool
    /// Size of the encoded input.
    public var bytes: Int

    /// Pixels in one frame: the number checked against `DecodeLimits.maxPixels`.
    public var framePixels: Int { width * height }
}
