/// Where sources are read from and derivatives written to: a bucket-like key → bytes store.
///
/// Keys are `/`-separated relative paths. Implementations: `FileSystemBlobStore` (the
/// embedded default), `S3BlobStore` (its own target), and test doubles.
public protocol BlobStore: Sendable {
    /// Stores `bytes` under `key`, replacing what was there. Readers never see a partial object.
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImagePipelineError)
}

/// What is stored with an object besides its bytes.
public struct BlobAttributes: Sendable, Equatable, Codable {
    public var contentType: String
    public var cacheControl: String?
    /// User metadata (S3's `x-amz-meta-*`): lowercase ASCII names.
    public var metadata: [String: String]

    public init(contentType: String, cacheControl: String? = nil, metadata: [String: String] = [:]) {
        self.contentType = contentType
        self.cacheControl = cacheControl
        self.metadata = metadata
    }
}
