/// Limits checked against the input's size and header before any pixel is decoded.
public struct DecodeLimits: Sendable, Equatable, Codable {
    /// Largest accepted frame, in pixels (width × frame height). Default 100 megapixels.
    public var maxPixels: Int
    /// Largest accepted input, in bytes. Default 50 MiB.
    public var maxBytes: Int
    /// Most frames (pages) an input may declare. Default 1000; only the first is decoded.
    public var maxFrames: Int

    public init(maxPixels: Int = 100_000_000, maxBytes: Int = 50 << 20, maxFrames: Int = 1000) {
        self.maxPixels = maxPixels
        self.maxBytes = maxBytes
        self.maxFrames = maxFrames
    }

    public static let `default` = DecodeLimits()
}
