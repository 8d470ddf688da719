/// Where sources are read from and derivatives written to: a bucket-like key → bytes store.
///
/// Keys are `/`-separated relative paths. Implementations: `FileSystemBlobStore` (the
/// embedded default), `S3BlobStore` (its own target), and test doubles.
///
/// Errors: `.notFound` (no such object), `.accessDenied`, `.storeUnavailable` (transient,
/// after the store's own retries), `.overLimit` (an object larger than asked for),
/// `.outputUnwritable` / `.inputUnreadable` for local I/O failures.
public protocol BlobStore: Sendable {
    /// The object's bytes and description. Refuses (`.overLimit`) objects over `maxBytes`
    /// without reading them whole.
    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject
    /// The object's description, or nil when there is no object under `key`.
    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo?
    /// Stores `bytes` under `key`, replacing what was there. Readers never see a partial object.
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError)
    /// Removes the object under `key`. Succeeds when there is none, so a repeated delete (a
    /// re-delivered event) is not a failure.
    func delete(_ key: String) async throws(ImgfnError)
    /// One page of the objects whose keys start with `prefix`, in the byte order of their
    /// UTF-8 keys (S3's order), starting after the page `continuation` names (nil: the first).
    /// At most `limit` objects; `ListPage.continuation` is nil on the last page.
    func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage
}

/// One page of a listing (`BlobStore.list`).
public struct ListPage: Sendable, Equatable {
    /// The objects of this page, in key order. Their `attributes` are not listed (only a HEAD
    /// reads them): each has an empty `BlobAttributes`.
    public var objects: [ObjectInfo]
    /// Where the next page starts, or nil when this one is the last.
    public var continuation: String?

    public init(objects: [ObjectInfo], continuation: String?) {
        self.objects = objects
        self.continuation = continuation
    }
}

extension BlobStore {
    /// Every object under `prefix`, page by page (`pageSize` at a time), handed to `body` in key
    /// order; `body` returns false to stop early.
    public func forEachPage(
        prefix: String, startingAfter continuation: String? = nil, pageSize: Int = 1000,
        _ body: (ListPage) async throws(ImgfnError) -> Bool
    ) async throws(ImgfnError) {
        var next = continuation
        repeat {
            let page = try await list(prefix: prefix, continuation: next, limit: pageSize)
            guard try await body(page) else { return }
            next = page.continuation
        } while next != nil
    }
}

/// What a store knows about one object.
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// The store's entity tag, without the quotes HTTP puts around it (`9b2c…`); nil if it
    /// has none. Every store and every event decoder gives it in this one form.
    public var etag: String?
    public var versionId: String?
    public var attributes: BlobAttributes

    public init(key: String, size: Int, etag: String? = nil, versionId: String? = nil, attributes: BlobAttributes) {
        self.key = key
        self.size = size
        self.etag = etag
        self.versionId = versionId
        self.attributes = attributes
    }
}

/// An object read from a store.
public struct StoredObject: Sendable {
    public var info: ObjectInfo
    public var bytes: SourceBytes

    public init(info: ObjectInfo, bytes: SourceBytes) {
        self.info = info
        self.bytes = bytes
    }
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

/// Entity tags in the one form imgfn keeps them: the value, without HTTP's quotes.
public enum ETag {
    /// `"9b2c…"` → `9b2c…`; a tag without quotes is returned as it is.
    public static func unquoted(_ tag: String) -> String {
        tag.count >= 2 && tag.hasPrefix("\"") && tag.hasSuffix("\"") ? String(tag.dropFirst().dropLast()) : tag
    }
}
