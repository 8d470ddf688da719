/// Everything one source produced: the encoded files (not yet stored) and what the manifest
/// says about the source.
public struct DerivativeSet: Sendable {
    /// One encoded derivative file.
    public struct File: Sendable {
        /// The derivative's name (`w320`).
        public var name: String
        public var image: EncodedImage
    }

    public var source: ImageInfo
    /// In configuration order: derivatives, then formats.
    public var files: [File]
    /// A ~16-px-wide WebP of the image as a `data:` URI, for blurred placeholders.
    public var placeholder: String
    /// The most common colour, `#rrggbb`.
    public var dominantColour: String
    /// Time spent decoding the source once and resizing every derivative from it, and then
    /// encoding every file.
    public var decodeMilliseconds: Double
    public var deriveMilliseconds: Double
}
