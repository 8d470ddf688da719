// ImageService — the service layer (layer 3). Events in (Events/), one handler that turns each
// record into a stored derivative set (Handler/), and where and how sets are stored: output
// keys, the manifest, the filesystem store (Storage/). It knows nothing of which shell runs it.

import FoundationEssentials
import ImagePipeline
import ImgfnBase

/// Turns events into derivative sets: the one piece of logic behind the Lambda function and
/// `imgfn invoke`.
///
/// For each `ObjectCreated`: filter (source prefix and suffixes; never our own outputs) →
/// size check from the event → HEAD the source (a `derived-by: imgfn` object is skipped) →
/// skip if a manifest for the same source version and configuration exists → GET → derive
/// (one decode) → PUT every file, manifest last → HEAD the source again (deleted meanwhile: the
/// set goes again) → remove the files of the manifest it replaced
/// (another configuration) that it no longer lists, and a failure record of an earlier try. A
/// current manifest whose replaced files are not all removed yet (`Manifest.replaced`) has
/// that removal finished.
/// A permanent failure writes a failure record (`output.failureKey`) so bad uploads can be
/// found; a transient one writes nothing and is reported for retry.
///
/// For each `ObjectRemoved` see `handle(_:)` of `ObjectRemoved` (Handler+Removal.swift).
public struct Handler: Sendable {
    public let pipeline: Pipeline
    /// The store of a bucket by name (one directory for the filesystem store).
    public let store: @Sendable (String) -> any BlobStore
    /// Derivatives made at once within one image (nil: the number of cores).
    public var jobs: Int?
    /// The function's own queue, where the scheduled reconcile sends stale sources and its next
    /// step; nil when there is none (a reconcile then fails, permanently, saying so).
    public var queue: (any MessageQueue)?
    /// How the scheduled reconcile steps through a bucket.
    public var reconcile = ReconcileSettings()
    /// Where `Derivatives Created` / `Derivatives Removed` go (`DerivativeEvents`); nil: off.
    public var events: (any EventSink)?

    public init(pipeline: Pipeline, jobs: Int? = nil, store: @escaping @Sendable (String) -> any BlobStore) {
        self.pipeline = pipeline
        self.jobs = jobs
        self.store = store
    }

    /// Handles every record of an event in order; `shouldContinue` is asked before each record
    /// (a Lambda deadline), and records not started are reported as transient failures.
    ///
    /// `budget` bounds each derivation's encodes by the time left (`EncodeBudget`).
    public func handle(
        _ event: DecodedEvent, shouldContinue: @Sendable () -> Bool = { true }, budget: EncodeBudget? = nil
    ) async -> [RecordResult] {
        var results: [RecordResult] = []
        for record in event.records {
            guard shouldContinue() else {
                results.append(
                    RecordResult(
                        messageId: record.messageId, bucket: nil, key: nil,
                        outcome: .failed(
                            transient: true, code: .deadline, reason: "not started: the invocation deadline is near"),
                        metrics: .init()))
                continue
            }
            switch record.content {
            case .created(let object):
                var result = await handle(object, budget: budget)
                result.messageId = record.messageId
                results.append(result)
            case .removed(let object):
                var result = await handle(object)
                result.messageId = record.messageId
                results.append(result)
            case .reconcile(let request):
                var result = await handle(request, shouldContinue: shouldContinue)
                result.messageId = record.messageId
                results.append(result)
            case .skipped(let reason):
                results.append(
                    RecordResult(messageId: record.messageId, outcome: .skipped(reason: reason), metrics: .init()))
            case .invalid(let reason):
                results.append(
                    RecordResult(
                        messageId: record.messageId,
                        outcome: .failed(transient: false, code: .invalidEvent, reason: reason),
                        metrics: .init()))
            }
        }
        return results
    }

    /// Handles one new object. Never throws: every problem is an outcome.
    public func handle(_ object: ObjectCreated, budget: EncodeBudget? = nil) async -> RecordResult {
        var metrics = RecordResult.Metrics()
        func result(_ outcome: RecordResult.Outcome) -> RecordResult {
            RecordResult(messageId: nil, bucket: object.bucket, key: object.key, outcome: outcome, metrics: metrics)
        }
        let config = pipeline.config
        if let reason = filterReason(bucket: object.bucket, key: object.key) { return result(.skipped(reason: reason)) }
        let source = store(object.bucket)
        let outputBucket = config.output.bucket ?? object.bucket
        let output = store(outputBucket)
        let keys = OutputKeys(sourceKey: object.key, sourcePrefix: config.source.prefix, output: config.output)
        let clock = ContinuousClock()
        // What the failure record names: the event's description until the HEAD gives the store's.
        var described = (etag: object.etag, versionId: object.versionId)
        do throws(ImgfnError) {
            if let size = object.size, size > config.source.limits.maxBytes {
                throw ImgfnError(
                    .overLimit, "object is \(size) bytes, over the byte limit of \(config.source.limits.maxBytes)")
            }
            let start = clock.now
            guard let head = try await source.head(object.key) else {
                throw ImgfnError(.notFound, "no object \(object.key) in \(object.bucket)")
            }
            described = (head.etag ?? object.etag, head.versionId ?? object.versionId)
            if DerivedBy.marks(head.attributes.metadata) {
                return result(.skipped(reason: "made by imgfn (derived-by metadata)"))
            }
            let stored = try await Manifest.readStored(from: output, key: keys.manifestKey)
            let previous = stored?.manifest
            if let other = previous?.source.key, other != object.key {
                // Two sources whose keys differ only in the extension share `{stem}` templates.
                // The first keeps the keys; a set whose source is gone is replaced.
                if try await source.head(other) != nil {
                    throw ImgfnError(
                        .outputUnwritable,
                        "its output keys are those of \(other) (\(keys.manifestKey)); use {file} in the output key templates to tell them apart"
                    )
                }
            }
            if let previous, previous.isCurrent(for: head, configHash: pipeline.configHash) {
                guard let leftovers = previous.replaced, !leftovers.isEmpty else {
                    if let info = stored?.info, !previous.isDescribed(by: info.attributes.metadata) {
                        // Its metadata was lost or is another write's (a crash between a
                        // filesystem store's file and its attributes): written again, so that
                        // a HEAD compares it as current too.
                        try await previous.write(to: output, key: keys.manifestKey)
                        try await announce(
                            DerivativeEvents.created(
                                bucket: object.bucket, output: outputBucket, manifestKey: keys.manifestKey,
                                manifest: previous))
                        return result(.ok(files: previous.fileKeys.count, manifestKey: keys.manifestKey))
                    }
                    // Published again: an earlier try may have written the set and failed to.
                    try await announce(
                        DerivativeEvents.created(
                            bucket: object.bucket, output: outputBucket, manifestKey: keys.manifestKey,
                            manifest: previous))
                    return result(
                        .skipped(reason: "already derived for this version and configuration (\(keys.manifestKey))"))
                }
                // An earlier try wrote the set but did not finish removing the one it replaced.
                let finished = try await previous.finishRemovingReplaced(
                    in: output, key: keys.manifestKey, config: config)
                try await announce(
                    DerivativeEvents.created(
                        bucket: object.bucket, output: outputBucket, manifestKey: keys.manifestKey, manifest: finished))
                return result(
                    .ok(
                        files: previous.fileKeys.count, manifestKey: keys.manifestKey,
                        removed: removable(keys: leftovers, source: object.key)))
            }
            let fetched = try await source.get(object.key, maxBytes: config.source.limits.maxBytes)
            let fetchEnd = clock.now
            metrics.fetchMilliseconds = (fetchEnd - start).milliseconds
            let (bytes, fetchedInfo) = (fetched.bytes, fetched.info)
            _ = consume fetched
            metrics.bytesIn = bytes.count
            // The last reference: the pipeline frees the source once it is decoded.
            let set = try await pipeline.derive(
                detaching: consume bytes, jobs: jobs, budget: budget, deadline: budget?.stopDeadline())
            metrics.decodeMilliseconds = set.decodeMilliseconds
            metrics.deriveMilliseconds = set.resizeMilliseconds
            metrics.encodeMilliseconds = set.encodeMilliseconds
            let storeStart = clock.now
            let manifest = try await set.store(
                in: output, sourceKey: object.key, etag: fetchedInfo.etag ?? head.etag,
                versionId: fetchedInfo.versionId ?? object.versionId, pipeline: pipeline, replacing: previous)
            // Deleted while it was derived (an upload removed at once): its removal may have found
            // no manifest yet and removed nothing, so the set just written goes again.
            if try await source.head(object.key) == nil {
                let guarded = RemovalGuard(
                    output: config.output, sourceKey: object.key, sourcePrefix: config.source.prefix)
                let files = manifest.fileKeys.filter(guarded.mayRemove)
                try await output.deleteAll(files)
                try await output.delete(keys.manifestKey)
                metrics.storeMilliseconds = (clock.now - storeStart).milliseconds
                return result(.removed(files: files.count, manifestKey: keys.manifestKey))
            }
            // An earlier try's failure record no longer holds (S3 answers a delete of a missing
            // key with success, and does not charge for it). Best effort: the set is complete,
            // and a stale record next to a current manifest is not taken for a failure.
            try? await output.delete(keys.failureKey)
            metrics.storeMilliseconds = (clock.now - storeStart).milliseconds
            try await announce(
                DerivativeEvents.created(
                    bucket: object.bucket, output: outputBucket, manifestKey: keys.manifestKey, manifest: manifest))
            metrics.bytesOut = manifest.storedBytes
            return result(
                .ok(
                    files: manifest.fileKeys.count, manifestKey: keys.manifestKey,
                    omitted: set.omitted.map(\.summary),
                    removed: previous.map { removable(keys: $0.keysNotListed(in: manifest), source: object.key) } ?? 0))
        } catch {
            let transient = error.code.isTransient
            // A record of a source that is not there (deleted before its event was handled)
            // would outlive it: nothing removes it.
            if !transient && error.code != .notFound {
                var failed = object
                (failed.etag, failed.versionId) = described
                await recordFailure(error, object: failed, key: keys.failureKey, in: output)
            }
            return result(.failed(transient: transient, code: error.code, reason: error.message))
        }
    }

    /// Why the object `key` of `bucket` is not an input, or nil when it is.
    public func filterReason(bucket: String, key: String) -> String? {
        let config = pipeline.config
        if !key.hasPrefix(config.source.prefix) {
            return "not under the source prefix \"\(config.source.prefix)\""
        }
        let sameBucket = config.output.bucket == nil || config.output.bucket == bucket
        if sameBucket && !config.output.prefix.isEmpty && key.hasPrefix(config.output.prefix) {
            return "under the output prefix \"\(config.output.prefix)\": a derivative"
        }
        let lowered = key.lowercased()
        if !config.source.suffixes.isEmpty && !config.source.suffixes.contains(where: lowered.hasSuffix) {
            return "suffix not one of \(config.source.suffixes.joined(separator: " "))"
        }
        return nil
    }

    /// How many of `keys` the removal guard lets go (what a replaced set removed).
    func removable(keys: [String], source: String) -> Int {
        let config = pipeline.config
        let guarded = RemovalGuard(output: config.output, sourceKey: source, sourcePrefix: config.source.prefix)
        return keys.filter(guarded.mayRemove).count
    }

    /// Writes a small JSON record of a permanent failure; a failure to write it is ignored
    /// (the result still reports the original failure). Its metadata names the source's ETag
    /// and the configuration, so a listing can tell (by a HEAD) whether it still holds.
    func recordFailure(_ error: ImgfnError, object: ObjectCreated, key: String, in store: any BlobStore) async {
        struct Record: Encodable {
            var bucket: String, key: String, etag: String?, versionId: String?, code: String, reason: String
            var configHash: String, eventTime: String?
        }
        let record = Record(
            bucket: object.bucket, key: object.key, etag: object.etag, versionId: object.versionId,
            code: "\(error.code)",
            reason: error.message, configHash: pipeline.configHash, eventTime: object.eventTime)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(record) else { return }
        var metadata = DerivedBy.metadata
        metadata["source-key"] = object.key
        metadata["config-hash"] = pipeline.configHash
        if let etag = object.etag { metadata["source-etag"] = etag }
        if let versionId = object.versionId { metadata["source-version-id"] = versionId }
        try? await store.put(
            key, bytes: [UInt8](json),
            attributes: BlobAttributes(contentType: "application/json", cacheControl: "no-cache", metadata: metadata))
    }
}
