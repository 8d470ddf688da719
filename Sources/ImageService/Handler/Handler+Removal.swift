import ImagePipeline
import ImgfnBase

extension Handler {
    /// Handles one removed source: its derivatives go, then its manifest, then any failure
    /// record. Never throws: every problem is an outcome.
    ///
    /// - The source is HEADed first. If it is still there (a delete of an older version in a
    ///   versioned bucket, or a re-upload that overtook the event), nothing is removed; the
    ///   source is handled as a creation instead, so a manifest that no longer matches the
    ///   current version is put right and a matching one is left alone.
    /// - A manifest that names another source key (two sources sharing output keys), or, for a
    ///   permanent delete of one version, another version, is left alone.
    /// - Derivatives are removed before the manifest, so an interrupted removal is finished by
    ///   a retry; a re-delivered removal finds nothing and succeeds.
    /// - Results made on demand for the source (`OutputKeys.requestResultsPrefix`) are removed
    ///   too (one listing), with or without a manifest.
    public func handle(_ object: ObjectRemoved) async -> RecordResult {
        var metrics = RecordResult.Metrics()
        func result(_ outcome: RecordResult.Outcome) -> RecordResult {
            RecordResult(messageId: nil, bucket: object.bucket, key: object.key, outcome: outcome, metrics: metrics)
        }
        let config = pipeline.config
        if let reason = filterReason(bucket: object.bucket, key: object.key) {
            return result(.skipped(reason: reason))
        }
        let source = store(object.bucket)
        let output = store(config.output.bucket ?? object.bucket)
        let keys = OutputKeys(sourceKey: object.key, sourcePrefix: config.source.prefix, output: config.output)
        let clock = ContinuousClock()
        let start = clock.now
        do throws(ImgfnError) {
            if let current = try await source.head(object.key) {
                var recheck = await handle(
                    ObjectCreated(
                        bucket: object.bucket, key: object.key, size: current.size, etag: current.etag,
                        versionId: current.versionId, eventTime: object.eventTime, eventName: object.eventName))
                if case .skipped(let reason) = recheck.outcome {
                    recheck.outcome = .skipped(reason: "the source is still there (\(object.eventName)): \(reason)")
                }
                return recheck
            }
            guard let manifest = try await Manifest.read(from: output, key: keys.manifestKey) else {
                try await removeRequestResults(keys, in: output)
                try await output.delete(keys.failureKey)
                metrics.storeMilliseconds = (clock.now - start).milliseconds
                return result(.removed(files: 0, manifestKey: nil))
            }
            if manifest.source.key != object.key {
                return result(
                    .skipped(reason: "\(keys.manifestKey) belongs to another source, \(manifest.source.key)"))
            }
            if !object.isDeleteMarker, let removed = object.versionId, let named = manifest.source.versionId,
                removed != named
            {
                return result(
                    .skipped(reason: "\(keys.manifestKey) names version \(named), not the removed version \(removed)"))
            }
            let removable = RemovalGuard(
                output: config.output, sourceKey: object.key, sourcePrefix: config.source.prefix)
            // Its files, and those of a replaced set it had not finished removing.
            let files = (manifest.fileKeys + (manifest.replaced ?? [])).filter(removable.mayRemove)
            // Announced before anything goes: a failure to publish is retried with the set whole.
            try await announce(
                DerivativeEvents.removed(
                    output: config.output.bucket ?? object.bucket, object: object, manifestKey: keys.manifestKey,
                    files: files))
            try await output.deleteAll(files)
            try await removeRequestResults(keys, in: output)
            try await output.delete(keys.manifestKey)
            try await output.delete(keys.failureKey)
            metrics.storeMilliseconds = (clock.now - start).milliseconds
            return result(.removed(files: files.count, manifestKey: keys.manifestKey))
        } catch {
            return result(.failed(transient: error.code.isTransient, code: error.code, reason: error.message))
        }
    }

    /// Deletes every result the pull side stored for the source, page by page.
    private func removeRequestResults(_ keys: OutputKeys, in output: any BlobStore) async throws(ImgfnError) {
        let prefix = keys.requestResultsPrefix
        guard !prefix.isEmpty else { return }
        var found: [String] = []
        try await output.forEachPage(prefix: prefix) { (page) throws(ImgfnError) in
            found += page.objects.map(\.key)
            return true
        }
        try await output.deleteAll(found)
    }
}
