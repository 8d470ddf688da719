import FoundationEssentials
import ImagePipeline
import ImgfnBase

extension DerivativeSet {
    /// Writes every file, then the manifest, to `store`, then removes the files of `previous`
    /// (the manifest this one replaces) that the new manifest no longer lists; returns the
    /// manifest.
    ///
    /// Each object carries `Cache-Control` and metadata naming its source and the configuration
    /// (`derived-by: imgfn`, which also keeps the handler from treating it as a new upload).
    /// The manifest goes last, so its presence means the set is complete; old files go only
    /// after it, so no manifest ever names a missing file. Only keys `RemovalGuard` allows are
    /// removed. When there are old files, the manifest is written first listing them
    /// (`replaced`, metadata `cleanup: pending`) and again without them once they are gone, so
    /// a removal that fails halfway is finished later rather than leaving files no manifest
    /// knows.
    public func store(
        in store: some BlobStore, sourceKey: String, etag: String? = nil, versionId: String? = nil, pipeline: Pipeline,
        replacing previous: Manifest? = nil
    ) async throws(ImgfnError) -> Manifest {
        let config = pipeline.config
        let keys = OutputKeys(sourceKey: sourceKey, sourcePrefix: config.source.prefix, output: config.output)
        var metadata = DerivedBy.metadata.merging(["source-key": sourceKey, "config-hash": pipeline.configHash]) {
            a, _ in a
        }
        if let etag { metadata["source-etag"] = etag }
        if let versionId { metadata["source-version-id"] = versionId }
        var derivatives: [Manifest.Derivative] = []
        for file in files {
            let image = file.image
            if let twin = file.sameAs,
                let stored = derivatives.first(where: { $0.name == twin && $0.format == image.format })
            {
                // The same pixels as an earlier derivative's file: listed again, stored once.
                var entry = stored
                entry.name = file.name
                entry.sameAs = twin
                derivatives.append(entry)
                continue
            }
            let key = keys.key(name: file.name, format: image.format, width: image.width, height: image.height)
            try await store.put(
                key, bytes: image.bytes,
                attributes: BlobAttributes(
                    contentType: image.format.contentType, cacheControl: config.output.cacheControl, metadata: metadata)
            )
            derivatives.append(
                Manifest.Derivative(
                    name: file.name, format: image.format, key: key, width: image.width, height: image.height,
                    bytes: image.bytes.count, contentType: image.format.contentType, effort: file.loweredEffort,
                    quality: image.chosenQuality, score: image.score.map { ($0 * 100).rounded() / 100 }))
        }
        var manifest = Manifest(
            source: Manifest.Source(
                key: sourceKey, bytes: source.bytes, etag: etag, versionId: versionId, format: source.format,
                width: source.orientedWidth, height: source.orientedHeight),
            configHash: pipeline.configHash, placeholder: placeholder, dominantColour: dominantColour,
            derivatives: derivatives, omitted: omitted.isEmpty ? nil : omitted)
        let removable = RemovalGuard(output: config.output, sourceKey: sourceKey, sourcePrefix: config.source.prefix)
        let leftovers = previous?.keysNotListed(in: manifest).filter(removable.mayRemove) ?? []
        if !leftovers.isEmpty {
            // Written first with the files to remove, so a removal that fails or is cut short
            // is finished by the next look at this source (`finishRemovingReplaced`).
            manifest.replaced = leftovers
        }
        try await manifest.write(to: store, key: keys.manifestKey)
        if !leftovers.isEmpty {
            manifest = try await manifest.finishRemovingReplaced(in: store, key: keys.manifestKey, config: config)
        }
        return manifest
    }
}

extension Manifest {
    /// Writes the manifest under `key` with the metadata a HEAD compares (`SourceComparer`):
    /// `derived-by`, `source-key`, `config-hash`, `source-etag`, `source-version-id`, and
    /// `cleanup: pending` while `replaced` lists files.
    public func write(to store: some BlobStore, key: String) async throws(ImgfnError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json: [UInt8]
        do { json = [UInt8](try encoder.encode(self)) } catch {
            throw ImgfnError(.encodeFailed, "cannot encode the manifest: \(error)")
        }
        // The manifest may be cached briefly, never immutably: a new upload replaces it.
        try await store.put(
            key, bytes: json,
            attributes: BlobAttributes(contentType: "application/json", cacheControl: "no-cache", metadata: metadata))
    }

    /// The metadata `write` stores with the manifest.
    public var metadata: [String: String] {
        var metadata = DerivedBy.metadata
        metadata["source-key"] = source.key
        metadata["config-hash"] = configHash
        if let etag = source.etag { metadata["source-etag"] = etag }
        if let versionId = source.versionId { metadata["source-version-id"] = versionId }
        if !(replaced ?? []).isEmpty { metadata["cleanup"] = "pending" }
        if reducedByBudget { metadata["budget"] = "reduced" }
        return metadata
    }

    /// Removes the files `replaced` lists (those `RemovalGuard` allows), then writes the
    /// manifest again without them; returns that manifest. Does nothing without `replaced`.
    /// A failure leaves the manifest as it was, so the next try removes what is left.
    public func finishRemovingReplaced(
        in store: some BlobStore, key: String, config: PipelineConfig
    ) async throws(ImgfnError) -> Manifest {
        guard let replaced, !replaced.isEmpty else { return self }
        let removable = RemovalGuard(output: config.output, sourceKey: source.key, sourcePrefix: config.source.prefix)
        try await store.deleteAll(replaced.filter(removable.mayRemove))
        var finished = self
        finished.replaced = nil
        try await finished.write(to: store, key: key)
        return finished
    }
}
