import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

/// `Derivatives Created` / `Derivatives Removed` on the configured bus: after the manifest is
/// written, before it is removed, and again on the retry of a record whose publish failed.
@Suite struct AnnouncementTests {
    typealias Bucket = HandlerTests.Bucket

    func handler(_ bucket: Bucket, sink: CollectingSink) -> Handler {
        let store = bucket.store
        var handler = Handler(pipeline: HandlerTests.smallSet) { _ in store }
        handler.events = sink
        return handler
    }

    func event(_ shape: EventSamples.Shape, _ key: String) throws -> DecodedEvent {
        try EventDecoder.decode(Array(EventSamples.make(shape, bucket: "photos", key: key, size: 1000).utf8))
    }

    func detail(_ event: PublishedEvent) throws -> DerivativeEvents.Detail {
        try JSONDecoder().decode(DerivativeEvents.Detail.self, from: Data(event.detail.utf8))
    }

    @Test func aWrittenSetIsAnnouncedWithItsFiles() async throws {
        let bucket = try Bucket(["uploads/a b.jpg": "orientation/orientation-6.jpg"])
        let sink = CollectingSink()
        let handler = handler(bucket, sink: sink)
        let results = await handler.handle(try event(.s3Put, "uploads/a b.jpg"))
        #expect(results.first?.outcome == .ok(files: 3, manifestKey: "derived/a b/manifest.json"))
        let events = sink.drain()
        #expect(events.map(\.detailType) == ["Derivatives Created"])
        #expect(events.first?.resources == ["arn:aws:s3:::photos/uploads/a b.jpg"])
        let detail = try detail(try #require(events.first))
        let manifest = try #require(try await Manifest.read(from: bucket.store, key: "derived/a b/manifest.json"))
        #expect(detail.bucket == "photos" && detail.outputBucket == "photos" && detail.sourceKey == "uploads/a b.jpg")
        #expect(detail.manifestKey == "derived/a b/manifest.json" && detail.configHash == manifest.configHash)
        #expect(detail.sourceEtag == manifest.source.etag)
        #expect(detail.derivatives.map(\.key) == manifest.derivatives.map(\.key))
        #expect(detail.derivatives.map(\.bytes) == manifest.derivatives.map(\.bytes))
    }

    @Test func aFailedPublishFailsTheRecordTransientlyAndItsRetryPublishes() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let sink = CollectingSink()
        sink.failing.withLock { $0 = ImgfnError(.storeUnavailable, "bus down") }
        let handler = handler(bucket, sink: sink)
        let first = await handler.handle(try event(.sqs, "uploads/a.jpg"))
        #expect(first.first?.isTransientFailure == true, "\(first)")
        if case .failed(_, _, let reason) = first.first?.outcome {
            #expect(reason == "the work is done, but its event was not published: bus down")
        }
        #expect(bucket.exists("derived/a/manifest.json"), "the set stays")
        sink.failing.withLock { $0 = nil }
        let retry = await handler.handle(try event(.sqs, "uploads/a.jpg"))
        guard case .skipped = try #require(retry.first).outcome else {
            Issue.record("\(retry)")
            return
        }
        #expect(sink.drain().map(\.detailType) == ["Derivatives Created"])
    }

    @Test func aRemovalIsAnnouncedBeforeAnythingGoes() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let sink = CollectingSink()
        let handler = handler(bucket, sink: sink)
        _ = await handler.handle(try event(.s3Put, "uploads/a.jpg"))
        _ = sink.drain()
        try FileManager.default.removeItem(atPath: "\(bucket.root)/uploads/a.jpg")

        sink.failing.withLock { $0 = ImgfnError(.storeUnavailable, "bus down") }
        let failed = await handler.handle(try event(.s3Delete, "uploads/a.jpg"))
        #expect(failed.first?.isTransientFailure == true)
        #expect(
            bucket.keys(under: "derived/a") == ["manifest.json", "w32.png", "w64.jpg", "w64.webp"], "the set is whole")
        sink.failing.withLock { $0 = nil }
        let retry = await handler.handle(try event(.s3Delete, "uploads/a.jpg"))
        #expect(retry.first?.outcome == .removed(files: 3, manifestKey: "derived/a/manifest.json"))
        let events = sink.drain()
        #expect(events.map(\.detailType) == ["Derivatives Removed"])
        let detail = try detail(try #require(events.first))
        #expect(Set(detail.derivatives.map(\.key)) == ["derived/a/w64.jpg", "derived/a/w64.webp", "derived/a/w32.png"])
        #expect(!bucket.exists("derived/a/manifest.json"))
    }

    /// A bus that refuses (access denied, a bad name) is still only a transient failure: the
    /// set is complete, and no failure record is written beside it.
    @Test func aRefusingBusNeverWritesAFailureRecord() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let sink = CollectingSink()
        sink.failing.withLock { $0 = ImgfnError(.invalidOptions, "no such bus") }
        let results = await handler(bucket, sink: sink).handle(try event(.sqs, "uploads/a.jpg"))
        #expect(results.first?.isTransientFailure == true)
        #expect(bucket.exists("derived/a/manifest.json") && !bucket.exists("derived/_failures/a.json"))
    }

    @Test func withoutABusNothingIsPublishedAndNothingFails() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let store = bucket.store
        let results = await Handler(pipeline: HandlerTests.smallSet) { _ in store }.handle(
            try event(.s3Put, "uploads/a.jpg"))
        #expect(results.first?.outcome == .ok(files: 3, manifestKey: "derived/a/manifest.json"))
    }
}
