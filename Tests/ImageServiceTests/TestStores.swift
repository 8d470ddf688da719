import ImagePipeline
import ImgfnBase
import Synchronization
import TestSupport

/// Fails reads of one key with a given error (a store that is down, or refuses).
final class FaultyStore<Inner: BlobStore>: BlobStore {
    let inner: Inner
    let failingKey: String
    let error: ImgfnError
    init(inner: Inner, failing key: String, with error: ImgfnError) {
        self.inner = inner
        self.failingKey = key
        self.error = error
    }

    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
        if key == failingKey { throw error }
        return try await inner.get(key, maxBytes: maxBytes)
    }

    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { try await inner.head(key) }

    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
        try await inner.put(key, bytes: bytes, attributes: attributes)
    }

    func delete(_ key: String) async throws(ImgfnError) {
        if key == failingKey { throw error }
        try await inner.delete(key)
    }

    func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        try await inner.list(prefix: prefix, continuation: continuation, limit: limit)
    }
}

/// A work queue that keeps what is sent, in order; `failing` makes every send throw.
final class CollectingQueue: MessageQueue {
    let sent = Mutex<[String]>([])
    let failing = Mutex<ImgfnError?>(nil)

    func send(_ bodies: [String]) async throws(ImgfnError) {
        if let error = failing.withLock({ $0 }) { throw error }
        sent.withLock { $0 += bodies }
    }

    /// Takes what was sent so far.
    func drain() -> [String] {
        sent.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}

/// An event sink that keeps what is published; `failing` makes every publish throw.
final class CollectingSink: EventSink {
    let published = Mutex<[PublishedEvent]>([])
    let failing = Mutex<ImgfnError?>(nil)

    func publish(_ events: [PublishedEvent]) async throws(ImgfnError) {
        if let error = failing.withLock({ $0 }) { throw error }
        published.withLock { $0 += events }
    }

    func drain() -> [PublishedEvent] {
        published.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }
}

/// Deletes `key` from the store the first time a manifest is written: a source removed while
/// its upload was being derived.
final class DeletingOnManifestStore<Inner: BlobStore>: BlobStore {
    let inner: Inner
    let key: String
    let done = Mutex(false)
    init(inner: Inner, deleting key: String) {
        self.inner = inner
        self.key = key
    }

    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
        try await inner.get(key, maxBytes: maxBytes)
    }
    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { try await inner.head(key) }
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
        try await inner.put(key, bytes: bytes, attributes: attributes)
        if key.hasSuffix("manifest.json"),
            done.withLock({ done in
                defer { done = true }
                return !done
            })
        {
            try await inner.delete(self.key)
        }
    }
    func delete(_ key: String) async throws(ImgfnError) { try await inner.delete(key) }
    func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        try await inner.list(prefix: prefix, continuation: continuation, limit: limit)
    }
}
