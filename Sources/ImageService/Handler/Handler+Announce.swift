import FoundationEssentials
import ImagePipeline
import ImgfnBase

/// The events imgfn puts on the configured bus (`Handler.events`), for whatever comes next (a
/// CDN purge, a search index, a notification): `Derivatives Created` after a manifest is
/// written, `Derivatives Removed` when a source's set is about to go (published before anything
/// is deleted). Delivery is at least once: a failure to publish fails the record transiently,
/// and its retry (which finds the work done, or the set still whole) publishes again.
public enum DerivativeEvents {
    public static let created = "Derivatives Created"
    public static let removed = "Derivatives Removed"

    /// `detail` of both: the source, the manifest and the files (for a removal, those removed).
    public struct Detail: Sendable, Equatable, Codable {
        public struct File: Sendable, Equatable, Codable {
            public var key: String
            public var name: String?
            public var format: String?
            public var width: Int?
            public var height: Int?
            public var bytes: Int?
        }
        /// The source's bucket.
        public var bucket: String
        /// The bucket of the manifest and derivatives.
        public var outputBucket: String
        public var sourceKey: String
        public var sourceVersionId: String?
        public var sourceEtag: String?
        public var manifestKey: String
        public var configHash: String?
        public var derivatives: [File]
    }

    static func event(_ type: String, _ detail: Detail) -> PublishedEvent {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(detail)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return PublishedEvent(
            detailType: type, detail: json, resources: ["arn:aws:s3:::\(detail.bucket)/\(detail.sourceKey)"])
    }

    static func created(bucket: String, output: String, manifestKey: String, manifest: Manifest) -> PublishedEvent {
        event(
            created,
            Detail(
                bucket: bucket, outputBucket: output, sourceKey: manifest.source.key,
                sourceVersionId: manifest.source.versionId,
                sourceEtag: manifest.source.etag, manifestKey: manifestKey, configHash: manifest.configHash,
                derivatives: manifest.derivatives.map {
                    Detail.File(
                        key: $0.key, name: $0.name, format: $0.format.rawValue, width: $0.width, height: $0.height,
                        bytes: $0.bytes)
                }))
    }

    static func removed(output: String, object: ObjectRemoved, manifestKey: String, files: [String]) -> PublishedEvent {
        event(
            removed,
            Detail(
                bucket: object.bucket, outputBucket: output, sourceKey: object.key, sourceVersionId: object.versionId,
                sourceEtag: nil,
                manifestKey: manifestKey, configHash: nil, derivatives: files.map { Detail.File(key: $0) }))
    }
}

extension Handler {
    /// Publishes `event` when a bus is configured. Any failure is the record's transient
    /// failure, never a permanent one: the derivatives are fine (no failure record is written
    /// beside them), and the retry finds them and publishes again; one that never passes ends
    /// in the dead-letter queue with the reason.
    func announce(_ event: @autoclosure () -> PublishedEvent) async throws(ImgfnError) {
        guard let events else { return }
        do {
            try await events.publish([event()])
        } catch {
            throw ImgfnError(.storeUnavailable, "the work is done, but its event was not published: \(error.message)")
        }
    }
}
