import FoundationEssentials
import ImagePipeline
import ImgfnBase

extension Manifest {
    /// The manifest stored under `key`, or nil when there is none. A file there that is not a
    /// manifest (damaged, another program's) is nil too: it is written over, not trusted.
    public static func read(from store: some BlobStore, key: String) async throws(ImgfnError) -> Manifest? {
        try await readStored(from: store, key: key)?.manifest
    }

    /// `read`, with the stored object's description (its metadata, which a HEAD compares).
    public static func readStored(
        from store: some BlobStore, key: String
    ) async throws(ImgfnError) -> (manifest: Manifest, info: ObjectInfo)? {
        let stored: StoredObject
        do {
            stored = try await store.get(key, maxBytes: 4 << 20)
        } catch  where error.code == .notFound {
            return nil
        }
        let manifest = stored.bytes.withUnsafeBytes { try? JSONDecoder().decode(Manifest.self, from: Data($0)) }
        return manifest.map { ($0, stored.info) }
    }

    /// Whether `stored` (a stored manifest's metadata) says what this manifest does, so a HEAD
    /// (`SourceComparer`) reaches the same verdict as reading it.
    public func isDescribed(by stored: [String: String]) -> Bool {
        metadata.allSatisfy { stored[$0.key] == $0.value } && (stored["cleanup"] != nil) == (metadata["cleanup"] != nil)
    }

    /// Whether this manifest describes `source` (its key, its ETag, and version ID when the
    /// store gives one) as derived under the configuration hashed `configHash`.
    /// A set the time budget cut short (an AVIF at a lowered effort, or left out) is not: the
    /// next look at the source makes it again in full.
    public func isCurrent(for source: ObjectInfo, configHash: String) -> Bool {
        self.source.key == source.key && self.configHash == configHash && !reducedByBudget
            // (manifests written before tags were kept unquoted still hold the quotes)
            && self.source.etag.map(ETag.unquoted) == source.etag
            && (source.versionId == nil || self.source.versionId == source.versionId)
    }

    /// The keys this manifest lists (its files, and files it was still removing) that `newer`
    /// does not: what a replaced set leaves behind.
    public func keysNotListed(in newer: Manifest) -> [String] {
        var seen = Set(newer.derivatives.map(\.key))
        return (derivatives.map(\.key) + (replaced ?? [])).filter { seen.insert($0).inserted }
    }

    /// Whether the invocation's time budget lowered an effort or left a file out.
    public var reducedByBudget: Bool {
        derivatives.contains { $0.effort != nil }
            || (omitted ?? []).contains { $0.reason.hasPrefix(DerivativeSet.Omission.budgetReason) }
    }

    /// The files this manifest lists, each once (a derivative `sameAs` another lists its file).
    public var fileKeys: [String] {
        var seen: Set<String> = []
        return derivatives.map(\.key).filter { seen.insert($0).inserted }
    }

    /// The bytes of the files it lists, each file once.
    public var storedBytes: Int { derivatives.filter { $0.sameAs == nil }.reduce(0) { $0 + $1.bytes } }
}

/// Which keys a set's lifecycle may remove: only derivative keys, never a source.
///
/// A manifest is read from the store, so what it lists is checked before anything is deleted:
/// the key must lie under the output prefix (when there is one) and must not be the source.
public struct RemovalGuard: Sendable {
    public let output: OutputConfig
    public let sourceKey: String
    /// The configuration's `source.prefix`.
    public let sourcePrefix: String

    public init(output: OutputConfig, sourceKey: String, sourcePrefix: String) {
        self.output = output
        self.sourceKey = sourceKey
        self.sourcePrefix = sourcePrefix
    }

    /// Also never a key under the source prefix when derivatives share the sources' bucket
    /// and have no prefix of their own (a damaged manifest must not name another upload).
    public func mayRemove(_ key: String) -> Bool {
        guard key != sourceKey else { return false }
        if output.prefix.isEmpty {
            return output.bucket != nil || sourcePrefix.isEmpty || !key.hasPrefix(sourcePrefix)
        }
        return key.hasPrefix(output.prefix)
    }
}

extension BlobStore {
    /// Deletes `keys`, up to eight at a time; the first failure is thrown once all have run
    /// (a retry deletes what is left: deleting a missing key succeeds).
    public func deleteAll(_ keys: [String]) async throws(ImgfnError) {
        guard !keys.isEmpty else { return }
        let failure: ImgfnError? = await withTaskGroup(of: ImgfnError?.self) { group in
            var pending = keys[...]
            var first: ImgfnError?
            for _ in 0..<min(8, pending.count) {
                let key = pending.removeFirst()
                group.addTask { await Self.deleteResult(self, key) }
            }
            for await result in group {
                if first == nil, let result { first = result }
                if let key = pending.popFirst() {
                    group.addTask { await Self.deleteResult(self, key) }
                }
            }
            return first
        }
        if let failure { throw failure }
    }

    private static func deleteResult(_ store: Self, _ key: String) async -> ImgfnError? {
        do { try await store.delete(key) } catch { return error }
        return nil
    }
}
