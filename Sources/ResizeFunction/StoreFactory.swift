import ImageService
import ImgfnBase
import ServiceWiring

extension FunctionConfiguration {
    /// The handler's store-by-bucket function (`ServiceWiring.StoreFactory`), with the test-only
    /// faults around it in builds that have them.
    /// - Throws: `.invalidConfiguration` when the S3 settings are unusable (endpoint URL, no
    ///   credentials in the environment), found at start-up rather than on the first event.
    func makeStores(environment: [String: String]) throws(FunctionError) -> @Sendable (String) -> any BlobStore {
        let stores: @Sendable (String) -> any BlobStore
        do {
            stores = try StoreFactory.make(store, s3: s3, environment: environment)
        } catch {
            throw FunctionError(.invalidConfiguration, "IMGFN_STORE \(store): \(error.message)", underlying: error)
        }
        #if IMGFN_FAULT_INJECTION
            if let faults { return { bucket in FaultInjectingBlobStore(base: stores(bucket), faults: faults) } }
        #endif
        return stores
    }
}
