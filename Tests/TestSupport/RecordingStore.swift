import ImgfnBase
import Synchronization

/// Passes calls through and records the order of writes (`keys`), of deletes (`deleted`), of
/// both (`operations`: "put KEY" and "delete KEY"), and of reads (`reads`: "get KEY",
/// "head KEY", "list PREFIX").
public final class RecordingStore<Inner: BlobStore>: BlobStore {
    public let inner: Inner
    public let keys = Mutex<[String]>([])
    public let deleted = Mutex<[String]>([])
    public let operations = Mutex<[String]>([])
    public let reads = Mutex<[String]>([])
    public init(inner: Inner) { self.inner = inner }

    /// Forgets everything recorded so far.
    public func reset() {
        keys.withLock { $0.removeAll() }
        deleted.withLock { $0.removeAll() }
        operations.withLock { $0.removeAll() }
        reads.withLock { $0.removeAll() }
    }

    public func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
        reads.withLock { $0.append("get \(key)") }
        return try await inner.get(key, maxBytes: maxBytes)
    }

    public func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? {
        reads.withLock { $0.append("head \(key)") }
        return try await inner.head(key)
    }

    public func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
        try await inner.put(key, bytes: bytes, attributes: attributes)
        keys.withLock { $0.append(key) }
        operations.withLock { $0.append("put \(key)") }
    }

    public func delete(_ key: String) async throws(ImgfnError) {
        try await inner.delete(key)
        deleted.withLock { $0.append(key) }
        operations.withLock { $0.append("delete \(key)") }
    }

    public func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        reads.withLock { $0.append("list \(prefix)") }
        return try await inner.list(prefix: prefix, continuation: continuation, limit: limit)
    }
}
