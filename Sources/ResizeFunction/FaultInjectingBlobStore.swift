import ImagePipeline
import ImgfnBase

#if IMGFN_FAULT_INJECTION
    /// Test only (`IMGFN_TEST_TRANSIENT_KEYS`, `IMGFN_TEST_FETCH_DELAY_MS`): wraps a store to fail
    /// chosen keys transiently and to slow fetches, so the process tests can produce a transient
    /// failure and a deadline on demand. See `FunctionConfiguration.FaultInjection`.
    struct FaultInjectingBlobStore: BlobStore {
        let base: any BlobStore
        let faults: FunctionConfiguration.FaultInjection

        func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
            try check(key)
            if faults.fetchDelayMilliseconds > 0 {
                try? await Task.sleep(for: .milliseconds(faults.fetchDelayMilliseconds))
            }
            return try await base.get(key, maxBytes: maxBytes)
        }

        func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? {
            try check(key)
            return try await base.head(key)
        }

        func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
            try check(key)
            try await base.put(key, bytes: bytes, attributes: attributes)
        }

        func delete(_ key: String) async throws(ImgfnError) {
            try check(key)
            try await base.delete(key)
        }

        func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
            try await base.list(prefix: prefix, continuation: continuation, limit: limit)
        }

        private func check(_ key: String) throws(ImgfnError) {
            if faults.transientKeys.contains(key) {
                throw ImgfnError(
                    .storeUnavailable, "injected transient failure for \(key) (IMGFN_TEST_TRANSIENT_KEYS)")
            }
        }
    }
#endif
