import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import NIOHTTP1
import TestSupport
import Testing

@testable import S3Store

/// Listing, deleting, and the handler's removals against a real S3-protocol server (moto),
/// a versioned bucket included.
@Suite(.serialized, .s3TestServers)
struct S3LifecycleTests {
    let servers: S3TestServers

    init() throws {
        servers = try #require(S3TestServers.current, "the .s3TestServers trait sets this")
    }

    @Test func aListingPagesThroughEveryKeyInS3Order() async throws {
        let store = try servers.store()
        let prefix = "list-\(UUID().uuidString.prefix(8))/"
        let names = ["a b.jpg", "a+b.jpg", "a/c.jpg", "a-b.jpg", "100%.jpg", "café/é.jpg", "日本/写真.jpg", "&<>\"'.jpg"]
        for name in names {
            try await store.put(prefix + name, bytes: Array(name.utf8), attributes: BlobAttributes(contentType: "x/y"))
        }
        try await store.put(
            "\(prefix.dropLast())-sibling.jpg", bytes: [1], attributes: BlobAttributes(contentType: "x/y"))
        var listed: [ObjectInfo] = []
        var pages = 0
        try await store.forEachPage(prefix: prefix, pageSize: 3) { page in
            pages += 1
            listed += page.objects
            return true
        }
        let expected = names.map { prefix + $0 }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(listed.map(\.key) == expected)
        #expect(pages == 3)
        let head = try #require(try await store.head(prefix + "a b.jpg"))
        let entry = try #require(listed.first { $0.key == prefix + "a b.jpg" })
        #expect(entry.etag == head.etag && entry.size == "a b.jpg".utf8.count)
    }

    @Test func aDeleteRemovesTheObjectAndMayBeRepeated() async throws {
        let store = try servers.store()
        try await store.put("delete/me.jpg", bytes: [1, 2], attributes: BlobAttributes(contentType: "x/y"))
        try await store.delete("delete/me.jpg")
        #expect(try await store.head("delete/me.jpg") == nil)
        try await store.delete("delete/me.jpg")
        try await store.delete("delete/never-was.jpg")
        let missing = try servers.store(bucket: "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())")
        let error = await #expect(throws: ImgfnError.self) { try await missing.delete("x.jpg") }
        #expect(error?.code == .notFound)
    }

    @Test func aTransientFailureOfADeleteIsRetried() async throws {
        try await servers.setProxyRules([
            ["match": "flaky/delete.jpg", "method": "DELETE", "status": 503, "code": "SlowDown", "times": 1]
        ])
        let sleeps = RecordingSleeps()
        let store = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 3))
        try await store.put("flaky/delete.jpg", bytes: [1], attributes: BlobAttributes(contentType: "x/y"))
        try await store.delete("flaky/delete.jpg")
        #expect(try await store.head("flaky/delete.jpg") == nil)
        #expect(sleeps.delays.count == 1)
    }

    /// A versioned bucket: S3 events carry version IDs, deletes leave markers.
    func versionedBucket() async throws -> S3BlobStore {
        let store = try servers.store(bucket: "imgfn-versioned-\(UUID().uuidString.prefix(8).lowercased())")
        try await store.createBucket()
        let body = Array(
            #"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#
                .utf8)
        let response = try await store.send(
            .PUT, key: nil, query: [("versioning", "")], body: body, payloadHash: SigV4Signer.payloadHash(body),
            what: "enable versioning")
        #expect(response.status == .ok)
        return store
    }

    func event(_ shape: EventSamples.Shape, _ store: S3BlobStore, _ key: String, versionId: String?) throws
        -> DecodedEvent
    {
        try EventDecoder.decode(
            Array(
                EventSamples.make(shape, bucket: store.configuration.bucket, key: key, size: 1, versionId: versionId)
                    .utf8))
    }

    @Test func inAVersionedBucketOnlyTheLossOfTheCurrentVersionRemovesTheSet() async throws {
        let store = try await versionedBucket()
        let handler = Handler(pipeline: HandlerS3Tests.pipeline) { _ in store }
        let key = "uploads/v.jpg"
        let photo = Fixtures.array("photos/storm.jpg")
        try await store.put(key, bytes: photo, attributes: BlobAttributes(contentType: "image/jpeg"))
        let v1 = try #require(try await store.head(key)?.versionId)
        try await store.put(
            key, bytes: Fixtures.array("formats/exif-gps.jpg"), attributes: BlobAttributes(contentType: "image/jpeg"))
        let v2 = try #require(try await store.head(key)?.versionId)
        #expect(v1 != v2)
        let created = await handler.handle(try event(.sqs, store, key, versionId: v2))
        #expect(created[0].outcome == .ok(files: 3, manifestKey: "derived/v/manifest.json"))
        let manifest = try #require(try await Manifest.read(from: store, key: "derived/v/manifest.json"))
        #expect(manifest.source.versionId == v2)

        // The old version is deleted for good: the current one is untouched, so is its set.
        let response = try await store.send(.DELETE, key: key, query: [("versionId", v1)], what: "delete v1")
        #expect(response.status.code == 204)
        let old = await handler.handle(try event(.s3Delete, store, key, versionId: v1))
        guard case .skipped(let reason) = old[0].outcome else {
            Issue.record("an old version's delete did \(old[0].outcome)")
            return
        }
        #expect(reason.contains("the source is still there"))
        #expect(try await store.head("derived/v/w64.jpg") != nil)

        // A plain delete hides the current version under a marker: the set goes.
        try await store.delete(key)
        #expect(try await store.head(key) == nil)
        let removed = await handler.handle(try event(.s3DeleteMarker, store, key, versionId: "marker"))
        #expect(removed[0].outcome == .removed(files: 3, manifestKey: "derived/v/manifest.json"))
        for name in ["w64.jpg", "w64.webp", "w32.png", "manifest.json"] {
            #expect(try await store.head("derived/v/\(name)") == nil, "\(name)")
        }
        let again = await handler.handle(try event(.s3DeleteMarker, store, key, versionId: "marker"))
        #expect(again[0].outcome == .removed(files: 0, manifestKey: nil))
    }
}
