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
    /// removed.
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
            let key = keys.key(name: file.name, format: image.format, width: image.width, height: image.height)
            try await store.put(
                key, bytes: image.bytes,
                attributes: BlobAttributes(
                    contentType: image.format.contentType, cacheControl: config.output.cacheControl, metadata: metadata)
            )
            derivatives.append(
                Manifest.Derivative(
                    name: file.name, format: image.format, key: key, width: image.width, height: image.height,
                    bytes: image.bytes.count, contentType: image.format.contentType))
        }
        let manifest = Manifest(
            source: Manifest.Source(
                key: sourceKey, bytes: source.bytes, etag: etag, versionId: versionId, format: source.format,
                width: source.orientedWidth, height: source.orientedHeight),
            configHash: pipeline.configHash, placeholder: placeholder, dominantColour: dominantColour,
            derivatives: derivatives, omitted: omitted.isEmpty ? nil : omitted)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json: [UInt8]
        do { json = [UInt8](try encoder.encode(manifest)) } catch {
            throw ImgfnError(.encodeFailed, "cannot encode the manifest: \(error)")
        }
        // The manifest may be cached briefly, never immutably: a new upload replaces it.
        try await store.put(
            keys.manifestKey, bytes: json,
            attributes: BlobAttributes(contentType: "application/json", cacheControl: "no-cache", metadata: metadata))
        if let previous {
            let removable = RemovalGuard(output: config.output, sourceKey: sourceKey)
            try await store.deleteAll(previous.keysNotListed(in: manifest).filter(removable.mayRemove))
        }
        return manifest
    }
}
