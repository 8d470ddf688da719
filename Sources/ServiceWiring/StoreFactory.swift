// ServiceWiring — the wiring layer (layer 4): what both shells derive from their settings, so
// they cannot disagree. Store locations (`--store`, `IMGFN_STORE`) and the store factory (the
// only place that knows every `BlobStore`), and pipeline configuration loading. The shells
// read their arguments and environment once and pass the values here.

import ImageService
import ImgfnBase
import S3Store
import Synchronization

/// How to reach S3 when a store is on S3: the settings both shells take (`--endpoint`,
/// `--path-style`, `--region`; `IMGFN_S3_ENDPOINT`, `IMGFN_S3_PATH_STYLE`, `AWS_REGION`).
public struct S3Settings: Sendable, Equatable {
    /// `http(s)://host[:port]` of an S3-compatible service; nil for AWS.
    public var endpoint: String?
    /// Force path-style requests (`host/BUCKET/KEY`).
    public var pathStyle: Bool
    /// nil: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
    public var region: String?

    public init(endpoint: String? = nil, pathStyle: Bool = false, region: String? = nil) {
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.region = region
    }
}

/// The handler's store-by-bucket function for a `StoreLocation`: the one place a shell learns
/// which `BlobStore` implementations exist.
public enum StoreFactory {
    /// - Parameter environment: where S3 credentials and region defaults are read (the shell
    ///   reads its environment once and passes it down).
    /// - Throws: `.invalidOptions` when the S3 settings are unusable (endpoint URL, no
    ///   credentials), found now rather than on the first event.
    public static func make(
        _ location: StoreLocation, s3 settings: S3Settings, environment: [String: String]
    ) throws(ImgfnError) -> @Sendable (String) -> any BlobStore {
        @Sendable func configuration(_ bucket: String) throws(ImgfnError) -> S3Configuration {
            try S3Configuration(
                bucket: bucket, region: settings.region, endpoint: settings.endpoint,
                addressing: settings.pathStyle ? .pathStyle : nil, environment: environment)
        }
        switch location {
        case .fileSystem(let root):
            let store = FileSystemBlobStore(root: root)
            return { _ in store }
        case .s3(let bucket?):
            let store = S3BlobStore(configuration: try configuration(bucket))
            return { _ in store }
        case .s3(nil):
            // Checked once with a stand-in bucket so that a bad endpoint or missing credentials
            // fail start-up; the real buckets come with the events.
            _ = try configuration("imgfn-configuration-check")
            let stores = Mutex<[String: any BlobStore]>([:])
            return { bucket in
                stores.withLock { cache in
                    if let store = cache[bucket] { return store }
                    let store: any BlobStore
                    do throws(ImgfnError) {
                        store = S3BlobStore(configuration: try configuration(bucket))
                    } catch {
                        store = UnusableBlobStore(
                            error: ImgfnError(.invalidEvent, "bucket \"\(bucket)\": \(error.message)"))
                    }
                    cache[bucket] = store
                    return store
                }
            }
        }
    }
}

/// A store for a bucket that cannot be addressed (a name S3 refuses): every operation fails
/// with the reason, permanently, so the record is reported and not retried.
public struct UnusableBlobStore: BlobStore {
    public let error: ImgfnError

    public init(error: ImgfnError) { self.error = error }

    public func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject { throw error }
    public func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { throw error }
    public func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) { throw error }
    public func delete(_ key: String) async throws(ImgfnError) { throw error }
    public func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        throw error
    }
}
