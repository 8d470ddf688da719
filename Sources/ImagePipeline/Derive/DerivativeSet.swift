/// Everything one source produced: the encoded files (not yet stored) and what the manifest
/// says about the source.
public struct DerivativeSet: Sendable {
    /// One encoded derivative file.
    public struct File: Sendable {
        /// The derivative's name (`w320`).
        public var name: String
        public var image: EncodedImage
        /// The earlier derivative whose file this is, when the two have the same pixels (the
        /// source is no larger than either: a 1000-px upload makes one 1000-px file for
        /// `w1280` and `w2048`). Stored once, listed under both names.
        public var sameAs: String?
        /// The effort it was encoded at when the time budget (`EncodeBudget`) lowered the
        /// configured one; nil when it was not lowered.
        public var loweredEffort: Int?

        public init(name: String, image: EncodedImage, sameAs: String? = nil, loweredEffort: Int? = nil) {
            self.name = name
            self.image = image
            self.sameAs = sameAs
            self.loweredEffort = loweredEffort
        }
    }

    /// A file of the configuration that was not made, and why (its size is over its format's
    /// limit, e.g. a 400×20000 panorama in WebP): the rest of the set is still written.
    public struct Omission: Sendable, Equatable, Codable {
        public var name: String
        public var format: OutputFormat
        /// The size the file would have had.
        public var width: Int
        public var height: Int
        public var reason: String

        /// How the reason of a file the time budget left out begins.
        public static let budgetReason = "left out to finish in time"

        /// `w640.webp: 400×20000 is over WebP's limit of 16383 px a side`.
        public var summary: String { "\(name).\(format.fileExtension): \(reason)" }
    }

    public var source: ImageInfo
    /// In configuration order: derivatives, then formats.
    public var files: [File]
    /// Files left out, in configuration order (usually none).
    public var omitted: [Omission] = []
    /// A ~16-px-wide WebP of the image as a `data:` URI, for blurred placeholders.
    public var placeholder: String
    /// The most common colour, `#rrggbb`.
    public var dominantColour: String
    /// Where the time went: the one decode of the source (header included); every
    /// derivative's resize and steps, and the preview; every file's encode.
    public var decodeMilliseconds: Double
    public var resizeMilliseconds: Double
    public var encodeMilliseconds: Double
}
