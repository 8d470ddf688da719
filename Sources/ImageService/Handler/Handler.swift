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
/// (one decode) → PUT every file, manifest last. A permanent failure writes a failure record
/// (`output.failureKey`) so bad uploads can be found; a transient one writes nothing and is
/// reported for retry.
public struct Handler: Sendable {
    public let pipeline: Pipeline
    /// The store of a bucket by name (one directory for the filesystem store).
    public let store: @Sendable (String) -> any BlobStore
    /// Derivatives made at once within one image (nil: the number of cores).
    public var jobs: Int?

    public init(pipeline: Pipeline, jobs: Int? = nil, store: @escaping @Sendable (String) -> any BlobStore) {
        self.pipeline = pipeline
        self.jobs = jobs
        self.store = store
    }

    /// Handles every record of an event in order; `shouldContinue` is asked before each record
    /// (a Lambda deadline), and records not started are reported as transient failures.
    public func handle(_ event: DecodedEvent, shouldContinue: @Sendable () -> Bool = { true }) async -> [RecordResult] {
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
                var result = await handle(object)
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
    public func handle(_ object: ObjectCreated) async -> RecordResult {
        var metrics = RecordResult.Metrics()
        func result(_ outcome: RecordResult.Outcome) -> RecordResult {
            RecordResult(messageId: nil, bucket: object.bucket, key: object.key, outcome: outcome, metrics: metrics)
        }
        let config = pipeline.config
        if let reason = filterReason(object) { return result(.skipped(reason: reason)) }
        let source = store(object.bucket)
        let output = store(config.output.bucket ?? object.bucket)
        let keys = OutputKeys(sourceKey: object.key, sourcePrefix: config.source.prefix, output: config.output)
        let clock = ContinuousClock()
        do throws(ImgfnError) {
            if let size = object.size, size > config.source.limits.maxBytes {
                throw ImgfnError(
                    .overLimit, "object is \(size) bytes, over the byte limit of \(config.source.limits.maxBytes)")
            }
            let start = clock.now
            guard let head = try await source.head(object.key) else {
                throw ImgfnError(.notFound, "no object \(object.key) in \(object.bucket)")
            }
            if DerivedBy.marks(head.attributes.metadata) {
                return result(.skipped(reason: "made by imgfn (derived-by metadata)"))
            }
            if try await alreadyDerived(head, manifestKey: keys.manifestKey, in: output) {
                return result(
                    .skipped(reason: "already derived for this version and configuration (\(keys.manifestKey))"))
            }
            let fetched = try await source.get(object.key, maxBytes: config.source.limits.maxBytes)
            let fetchEnd = clock.now
            metrics.fetchMilliseconds = (fetchEnd - start).milliseconds
            let (bytes, fetchedInfo) = (fetched.bytes, fetched.info)
            _ = consume fetched
            metrics.bytesIn = bytes.count
            // The last reference: the pipeline frees the source once it is decoded.
            let set = try await pipeline.derive(detaching: consume bytes, jobs: jobs)
            metrics.decodeMilliseconds = set.decodeMilliseconds
            metrics.deriveMilliseconds = set.resizeMilliseconds
            metrics.encodeMilliseconds = set.encodeMilliseconds
            let storeStart = clock.now
            let manifest = try await set.store(
                in: output, sourceKey: object.key, etag: fetchedInfo.etag ?? head.etag,
                versionId: fetchedInfo.versionId ?? object.versionId, pipeline: pipeline)
            metrics.storeMilliseconds = (clock.now - storeStart).milliseconds
            metrics.bytesOut = manifest.derivatives.reduce(0) { $0 + $1.bytes }
            return result(
                .ok(
                    files: manifest.derivatives.count, manifestKey: keys.manifestKey,
                    omitted: set.omitted.map(\.summary)))
        } catch {
            let transient = error.code.isTransient
            if !transient { await recordFailure(error, object: object, key: keys.failureKey, in: output) }
            return result(.failed(transient: transient, code: error.code, reason: error.message))
        }
    }

    /// Why `object` is not an input, or nil when it is.
    func filterReason(_ object: ObjectCreated) -> String? {
        let config = pipeline.config
        if !object.key.hasPrefix(config.source.prefix) {
            return "not under the source prefix \"\(config.source.prefix)\""
        }
        let sameBucket = config.output.bucket == nil || config.output.bucket == object.bucket
        if sameBucket && !config.output.prefix.isEmpty && object.key.hasPrefix(config.output.prefix) {
            return "under the output prefix \"\(config.output.prefix)\": a derivative"
        }
        let lowered = object.key.lowercased()
        if !config.source.suffixes.isEmpty && !config.source.suffixes.contains(where: lowered.hasSuffix) {
            return "suffix not one of \(config.source.suffixes.joined(separator: " "))"
        }
        return nil
    }

    /// A manifest for the same source version (ETag, and version ID when known) and the same
    /// configuration already exists.
    func alreadyDerived(_ head: ObjectInfo, manifestKey: String, in store: any BlobStore) async throws(ImgfnError)
        -> Bool
    {
        guard try await store.head(manifestKey) != nil else { return false }
        let stored = try await store.get(manifestKey, maxBytes: 1 << 20)
        guard let manifest = stored.bytes.withUnsafeBytes({ try? JSONDecoder().decode(Manifest.self, from: Data($0)) })
        else {
            return false
        }
        return manifest.configHash == pipeline.configHash
            // (manifests written before tags were kept unquoted still hold the quotes)
            && manifest.source.etag.map(ETag.unquoted) == head.etag
            && (head.versionId == nil || manifest.source.versionId == head.versionId)
    }

    /// Writes a small JSON record of a permanent failure; a failure to write it is ignored
    /// (the result still reports the original failure).
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
        try? await store.put(
            key, bytes: [UInt8](json),
            attributes: BlobAttributes(
                contentType: "application/json", cacheControl: "no-cache", metadata: DerivedBy.metadata))
    }
}
