import ImagePipeline

/// What was derived from one source, written last (after every derivative), as JSON.
///
/// Front-ends read it for `srcset` and placeholders; the handler reads it to skip work already
/// done for the same source version and configuration.
public struct Manifest: Sendable, Equatable, Codable {
    public struct Source: Sendable, Equatable, Codable {
        public var key: String
        public var bytes: Int
        public var etag: String?
        public var versionId: String?
        public var format: ImageFormat
        /// Upright dimensions.
        public var width: Int
        public var height: Int
    }

    public struct Derivative: Sendable, Equatable, Codable {
        public var name: String
        public var format: OutputFormat
        public var key: String
        public var width: Int
        public var height: Int
        public var bytes: Int
        public var contentType: String
        /// When this derivative's file is another derivative's (the source is no larger than
        /// either, so their pixels are the same): that derivative's name. `key` is its file.
        public var sameAs: String?
        /// The AVIF effort it was encoded at when the invocation's time budget lowered the
        /// configured one (`EncodeBudget`); absent otherwise.
        public var effort: Int?
        /// With a quality target (`"quality": "auto"`): the quality chosen and the file's
        /// SSIMULACRA2 score against the image it was encoded from.
        public var quality: Int?
        public var score: Double?
    }

    public var version = 1
    public var source: Source
    public var configHash: String
    public var generatedBy = "imgfn"
    /// A tiny blurred preview as a `data:image/webp;base64,…` URI.
    public var placeholder: String
    /// `#rrggbb`.
    public var dominantColour: String
    public var derivatives: [Derivative]
    /// Files of the configuration that were not made, with the reason (a size over the
    /// format's limit). Absent when none were.
    public var omitted: [DerivativeSet.Omission]?
    /// The files of the set this manifest replaced (another configuration) that it no longer
    /// lists, while they are being removed; absent once they are gone. A manifest with this
    /// field carries `cleanup: pending` metadata, so a HEAD shows the removal is unfinished.
    public var replaced: [String]?
}
