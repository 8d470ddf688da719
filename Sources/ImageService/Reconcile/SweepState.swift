import FoundationEssentials
import ImgfnBase

/// Where a reconcile sweep of one bucket stands, stored as JSON beside the derivatives
/// (`{output.prefix}_reconcile/{bucket}.json`).
///
/// It is what keeps sweeps single: a start is refused while a sweep is running and has moved
/// recently, and a step runs only when it is the one the state expects, so a duplicated SQS
/// message (at-least-once delivery) or a step of an abandoned sweep does nothing.
public struct SweepState: Sendable, Equatable, Codable {
    public var sweep: String
    /// The step whose message is in the queue, expected next.
    public var step: Int
    public var running: Bool
    /// Seconds since 1970.
    public var started: Double
    public var updated: Double
    /// Totals over the steps so far.
    public var listed = 0
    public var stale = 0
    public var enqueued = 0
    public var failed = 0
    public var configHash: String

    /// The state's key for `bucket` under `output`.
    public static func key(bucket: String, output prefix: String) -> String {
        "\(prefix)_reconcile/\(bucket).json"
    }

    /// The stored state, or nil when there is none (or it is not a state: written over).
    public static func read(from store: some BlobStore, key: String) async throws(ImgfnError) -> SweepState? {
        let stored: StoredObject
        do { stored = try await store.get(key, maxBytes: 1 << 16) } catch  where error.code == .notFound {
            return nil
        }
        return stored.bytes.withUnsafeBytes { try? JSONDecoder().decode(SweepState.self, from: Data($0)) }
    }

    public func write(to store: some BlobStore, key: String) async throws(ImgfnError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: [UInt8]
        do { json = [UInt8](try encoder.encode(self)) } catch {
            throw ImgfnError(.encodeFailed, "cannot encode the sweep state: \(error)")
        }
        try await store.put(
            key, bytes: json,
            attributes: BlobAttributes(
                contentType: "application/json", cacheControl: "no-cache", metadata: DerivedBy.metadata))
    }
}

/// How the scheduled reconcile steps through a bucket.
public struct ReconcileSettings: Sendable {
    /// Listing pages per step (one invocation).
    public var pagesPerStep: Int
    /// Objects per page (S3's maximum is 1000).
    public var pageSize: Int
    /// A running sweep whose last step is older than this is taken for dead (its message lost
    /// or sent to the dead-letter queue), and the next start begins a new one.
    public var staleAfter: Duration
    /// The time, in seconds since 1970 (tests pass their own).
    public var now: @Sendable () -> Double

    public init(
        pagesPerStep: Int = 1, pageSize: Int = 1000, staleAfter: Duration = .seconds(3600),
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.pagesPerStep = max(1, pagesPerStep)
        self.pageSize = max(1, min(pageSize, 1000))
        self.staleAfter = staleAfter
        self.now = now
    }
}
