import ImagePipeline
import ImageService
import ImgfnBase
import S3Store
import Synchronization

/// Makes the handler's store-by-bucket function from `IMGFN_STORE` and the S3 settings: the
/// only place the shell knows which `BlobStore` implementations exist.
enum StoreFactory {
    /// - Throws: `.invalidConfiguration` when the S3 settings are unusable (endpoint URL, no
    ///   credentials in the environment), found at start-up rather than on the first event.
    static func make(
        _ configuration: FunctionConfiguration, environment: [String: String]
    ) throws(FunctionError) -> @Sendable (String) -> any BlobStore {
        let base: @Sendable (String) -> any BlobStore
        switch configuration.store {
        case .fileSystem(let root):
            let store = FileSystemBlobStore(root: root)
            base = { _ in store }
        case .s3(let bucket?):
            let store = S3BlobStore(configuration: try s3Configuration(bucket: bucket, configuration, environment))
            base = { _ in store }
        case .s3(nil):
            // Checked once with a stand-in bucket so that a bad endpoint or missing credentials
            // fail start-up; the real buckets come with the events.
            _ = try s3Configuration(bucket: "imgfn-configuration-check", configuration, environment)
            let stores = Mutex<[String: any BlobStore]>([:])
            base = { bucket in
                stores.withLock { cache in
                    if let store = cache[bucket] { return store }
                    let store: any BlobStore
                    do throws(FunctionError) {
                        store = S3BlobStore(
                            configuration: try s3Configuration(bucket: bucket, configuration, environment))
                    } catch {
                        store = UnusableBlobStore(
                            error: ImgfnError(.invalidEvent, "bucket \"\(bucket)\": \(error.message)"))
                    }
                    cache[bucket] = store
                    return store
                }
            }
        }
        guard let faults = configuration.faults else { return base }
        return { bucket in FaultInjectingBlobStore(base: base(bucket), faults: faults) }
    }

    private static func s3Configuration(
        bucket: String, _ configuration: FunctionConfiguration, _ environment: [String: String]
    ) throws(FunctionError) -> S3Configuration {
        do {
            return try S3Configuration(
                bucket: bucket, region: configuration.region, endpoint: configuration.s3Endpoint,
                addressing: configuration.s3PathStyle ? .pathStyle : nil, environment: environment)
        } catch {
            throw FunctionError(
                .invalidConfiguration, "IMGFN_STORE \(configuration.store): \(error.message)", underlying: error)
        }
    }
}

/// A store for a bucket the function cannot address (a name S3 refuses): every operation fails
/// with the reason, permanently, so the record is reported and not retried.
struct UnusableBlobStore: BlobStore {
    let error: ImgfnError

    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject { throw error }
    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { throw error }
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) { throw error }
}
