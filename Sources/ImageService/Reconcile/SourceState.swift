import ImagePipeline
import ImgfnBase

/// Where one listed source stands against what was derived from it.
public enum SourceState: Sendable, Equatable {
    /// A manifest for this source's ETag and the current configuration, its set complete.
    case current
    /// A failure record for this source's ETag and the current configuration: the upload was
    /// refused before (damaged, over a limit) and is not tried again until it changes.
    case failedBefore
    /// Needs the handler.
    case stale(Staleness)
}

/// Why a source needs the handler (`SourceState.stale`).
public enum Staleness: String, Sendable, Codable, CaseIterable {
    /// Neither a manifest nor a failure record.
    case missing
    /// The manifest was written under another configuration.
    case otherConfiguration = "other-configuration"
    /// The manifest describes other bytes (another ETag: the source was replaced), or another
    /// source whose keys this one shares.
    case otherSource = "other-source"
    /// A failure record of another version of the source or another configuration.
    case outdatedFailure = "outdated-failure"
    /// The manifest replaced an older set whose leftover files are not all removed yet.
    case cleanupPending = "cleanup-pending"
    /// The invocation's time budget cut the set short (an AVIF at a lowered effort, or left out).
    case reducedByBudget = "reduced-by-budget"
}

/// Compares listed sources with their manifests and failure records, by HEAD only: one
/// request per current source (two when the manifest is missing or stale), no GET, no write.
///
/// What a HEAD reads is the metadata every manifest and failure record carries
/// (`config-hash`, `source-etag`, `cleanup: pending` while a replaced set's files are
/// being removed, `budget: reduced` when the time budget cut the set short). The handler decides again from the manifest itself before it writes, so a
/// state that changed since the check costs a little work, never a wrong set.
public struct SourceComparer: Sendable {
    public let pipeline: Pipeline
    /// Where manifests and failure records are.
    public let output: any BlobStore

    public init(pipeline: Pipeline, output: any BlobStore) {
        self.pipeline = pipeline
        self.output = output
    }

    /// The state of the source `object` (as a listing describes it: key, size, ETag).
    public func state(of object: ObjectInfo) async throws(ImgfnError) -> SourceState {
        let config = pipeline.config
        let keys = OutputKeys(sourceKey: object.key, sourcePrefix: config.source.prefix, output: config.output)
        let manifest = try await output.head(keys.manifestKey)
        var staleness = Staleness.missing
        if let metadata = manifest?.attributes.metadata, metadata["source-key"] == object.key {
            if metadata["config-hash"] != pipeline.configHash {
                staleness = .otherConfiguration
            } else if !describes(object, metadata) {
                staleness = .otherSource
            } else {
                if metadata["cleanup"] == "pending" { return .stale(.cleanupPending) }
                return metadata["budget"] == "reduced" ? .stale(.reducedByBudget) : .current
            }
        } else if manifest != nil {
            // One of another source sharing the keys (which refuses this one).
            staleness = .otherSource
        }
        // The current bytes may have been refused since (an older set stays until they pass).
        guard let failure = try await output.head(keys.failureKey) else { return .stale(staleness) }
        let metadata = failure.attributes.metadata
        if metadata["config-hash"] == pipeline.configHash && describes(object, metadata) { return .failedBefore }
        return .stale(manifest == nil ? .outdatedFailure : staleness)
    }

    /// Whether `metadata` (of a manifest or failure record) names `object`'s key and ETag.
    private func describes(_ object: ObjectInfo, _ metadata: [String: String]) -> Bool {
        guard metadata["source-key"] == object.key, let etag = object.etag else { return false }
        return metadata["source-etag"].map(ETag.unquoted) == etag
    }
}
