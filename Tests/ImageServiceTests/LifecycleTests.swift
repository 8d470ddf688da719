import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

/// Keeping a store true: removals and replaced configurations, on the filesystem store.
@Suite struct LifecycleTests {
    typealias Bucket = HandlerTests.Bucket

    func handler(_ store: some BlobStore, pipeline: Pipeline = HandlerTests.smallSet) -> Handler {
        Handler(pipeline: pipeline) { _ in store }
    }

    func event(_ shape: EventSamples.Shape, _ key: String, versionId: String? = nil) throws -> DecodedEvent {
        try EventDecoder.decode(
            Array(EventSamples.make(shape, bucket: "photos", key: key, size: 1000, versionId: versionId).utf8))
    }

    func removeSource(_ bucket: Bucket, _ key: String) throws {
        try FileManager.default.removeItem(atPath: "\(bucket.root)/\(key)")
    }

    @Test(arguments: [EventSamples.Shape.s3Delete, .s3DeleteMarker, .sqsDelete, .eventBridgeDelete])
    func aDeletedSourceTakesItsDerivativesAndManifestWithIt(_ shape: EventSamples.Shape) async throws {
        let bucket = try Bucket(["uploads/trips/a b+c.jpg": "photos/storm.jpg", "uploads/keep.jpg": "photos/storm.jpg"])
        let recorder = RecordingStore(inner: bucket.store)
        let handler = handler(recorder)
        _ = await handler.handle(try event(.s3Put, "uploads/trips/a b+c.jpg"))
        _ = await handler.handle(try event(.s3Put, "uploads/keep.jpg"))
        try removeSource(bucket, "uploads/trips/a b+c.jpg")
        recorder.deleted.withLock { $0.removeAll() }

        let results = await handler.handle(try event(shape, "uploads/trips/a b+c.jpg"))
        #expect(results.map(\.outcome) == [.removed(files: 3, manifestKey: "derived/trips/a b+c/manifest.json")])
        #expect(results[0].messageId == (shape == .sqsDelete ? "msg-1" : nil))
        // Derivatives first, then the manifest, then any failure record; nothing else.
        let deleted = recorder.deleted.withLock { $0 }
        #expect(deleted.count == 5)
        #expect(
            Set(deleted.prefix(3)) == [
                "derived/trips/a b+c/w64.jpg", "derived/trips/a b+c/w64.webp", "derived/trips/a b+c/w32.png",
            ])
        #expect(
            Array(deleted.suffix(2)) == ["derived/trips/a b+c/manifest.json", "derived/_failures/trips/a b+c.json"])
        #expect(
            bucket.keys(under: "derived") == [
                "keep", "keep/manifest.json", "keep/w32.png", "keep/w64.jpg", "keep/w64.webp",
            ])
        #expect(bucket.exists("uploads/keep.jpg"))

        // Re-delivered: nothing left, and that is a success.
        let again = await handler.handle(try event(shape, "uploads/trips/a b+c.jpg"))
        #expect(again.map(\.outcome) == [.removed(files: 0, manifestKey: nil)])
    }

    /// Uploaded and deleted at once: the removal ran while the upload was being derived and
    /// found nothing; the upload's handler sees the source gone after writing, and takes the
    /// set away again.
    @Test func anUploadDeletedWhileItWasDerivedLeavesNothing() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let store = DeletingOnManifestStore(inner: bucket.store, deleting: "uploads/a.jpg")
        let results = await handler(store).handle(try event(.s3Put, "uploads/a.jpg"))
        #expect(results.map(\.outcome) == [.removed(files: 3, manifestKey: "derived/a/manifest.json")])
        #expect(bucket.keys(under: "derived").isEmpty, "\(bucket.keys(under: "derived"))")
    }

    @Test func aRemovalOfASourceThatIsStillThereRemovesNothing() async throws {
        // An older version was deleted, or the source was uploaded again after the delete.
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        let handler = handler(bucket.store)
        _ = await handler.handle(try event(.s3Put, "uploads/a.jpg"))
        let results = await handler.handle(try event(.s3Delete, "uploads/a.jpg", versionId: "old"))
        guard case .skipped(let reason) = results[0].outcome else {
            Issue.record("not skipped: \(results[0].outcome)")
            return
        }
        #expect(reason.hasPrefix("the source is still there (ObjectRemoved:Delete): already derived"))
        #expect(bucket.keys(under: "derived/a") == ["manifest.json", "w32.png", "w64.jpg", "w64.webp"])
    }

    @Test func aRemovalWhileTheSourceChangedUnderItDerivesTheCurrentVersion() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        let handler = handler(bucket.store)
        _ = await handler.handle(try event(.s3Put, "uploads/a.jpg"))
        // The object was replaced (a new ETag) and the delete of the old one arrives late.
        try removeSource(bucket, "uploads/a.jpg")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("formats/exif-gps.jpg"), toPath: "\(bucket.root)/uploads/a.jpg")
        let results = await handler.handle(try event(.s3Delete, "uploads/a.jpg"))
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/a/manifest.json"))
        let manifest = try #require(try await Manifest.read(from: bucket.store, key: "derived/a/manifest.json"))
        #expect(manifest.source.etag == (try await bucket.store.head("uploads/a.jpg"))?.etag)
    }

    @Test func aPermanentDeleteOfAnotherVersionLeavesTheManifestAlone() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        let handler = handler(bucket.store)
        _ = await handler.handle(try event(.s3Put, "uploads/a.jpg", versionId: "v2"))
        try removeSource(bucket, "uploads/a.jpg")
        let old = await handler.handle(try event(.s3Delete, "uploads/a.jpg", versionId: "v1"))
        #expect(
            old[0].outcome
                == .skipped(reason: "derived/a/manifest.json names version v2, not the removed version v1"))
        #expect(bucket.exists("derived/a/w64.jpg"))
        // The delete marker that hid v2 (its own version ID is the marker's) removes the set.
        let marker = await handler.handle(try event(.s3DeleteMarker, "uploads/a.jpg", versionId: "marker-1"))
        #expect(marker[0].outcome == .removed(files: 3, manifestKey: "derived/a/manifest.json"))
        #expect(bucket.keys(under: "derived") == [])
    }

    @Test func aManifestOfAnotherSourceWithTheSameStemIsLeftAlone() async throws {
        // a.jpg and a.png share the output keys of the default template ({stem}).
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        let handler = handler(bucket.store)
        _ = await handler.handle(try event(.s3Put, "uploads/a.jpg"))
        let results = await handler.handle(try event(.s3Delete, "uploads/a.png"))
        #expect(
            results[0].outcome == .skipped(reason: "derived/a/manifest.json belongs to another source, uploads/a.jpg"))
        #expect(bucket.exists("derived/a/manifest.json"))
    }

    @Test func aRemovalRemovesAFailureRecord() async throws {
        let bucket = try Bucket(["uploads/broken.jpg": "bad/truncated.jpg"])
        let handler = handler(bucket.store)
        _ = await handler.handle(try event(.s3Put, "uploads/broken.jpg"))
        #expect(bucket.exists("derived/_failures/broken.json"))
        try removeSource(bucket, "uploads/broken.jpg")
        let results = await handler.handle(try event(.s3Delete, "uploads/broken.jpg"))
        #expect(results[0].outcome == .removed(files: 0, manifestKey: nil))
        #expect(bucket.keys(under: "derived") == [])
    }

    @Test func aSuccessAfterAFailureRemovesTheFailureRecord() async throws {
        let bucket = try Bucket(["uploads/x.jpg": "bad/truncated.jpg"])
        let handler = handler(bucket.store)
        _ = await handler.handle(try event(.s3Put, "uploads/x.jpg"))
        let record = try #require(try await bucket.store.head("derived/_failures/x.json"))
        #expect(record.attributes.metadata["config-hash"] == HandlerTests.smallSet.configHash)
        #expect(record.attributes.metadata["source-etag"] == (try await bucket.store.head("uploads/x.jpg"))?.etag)
        try removeSource(bucket, "uploads/x.jpg")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("photos/storm.jpg"), toPath: "\(bucket.root)/uploads/x.jpg")
        let results = await handler.handle(try event(.s3Put, "uploads/x.jpg"))
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/x/manifest.json"))
        #expect(!bucket.exists("derived/_failures/x.json"))
    }

    @Test func aNewConfigurationWritesTheNewSetThenItsManifestThenRemovesWhatItNoLongerLists() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        _ = await handler(bucket.store).handle(try event(.s3Put, "uploads/a.jpg"))
        let other = try Pipeline(
            json: Array(
                #"{"derivatives": [{"name": "w64", "width": 60, "formats": ["jpeg", "avif"]}, {"name": "w16", "width": 16, "formats": ["png"]}]}"#
                    .utf8))
        let recorder = RecordingStore(inner: bucket.store)
        let results = await handler(recorder, pipeline: other).handle(try event(.s3Put, "uploads/a.jpg"))
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/a/manifest.json", removed: 2))
        let operations = recorder.operations.withLock { $0 }
        let manifestAt = try #require(operations.firstIndex(of: "put derived/a/manifest.json"))
        #expect(operations[..<manifestAt].allSatisfy { $0.hasPrefix("put ") }, "\(operations)")
        // The manifest first names the files it replaced, then they go, then it is written
        // again without them, then the failure record goes.
        let after = Array(operations[(manifestAt + 1)...])
        #expect(after.count == 4, "\(after)")
        #expect(Set(after.prefix(2)) == ["delete derived/a/w64.webp", "delete derived/a/w32.png"])
        #expect(Array(after.suffix(2)) == ["put derived/a/manifest.json", "delete derived/_failures/a.json"])
        #expect(bucket.keys(under: "derived/a") == ["manifest.json", "w16.png", "w64.avif", "w64.jpg"])
        let manifest = try #require(try await Manifest.read(from: bucket.store, key: "derived/a/manifest.json"))
        #expect(manifest.configHash == other.configHash && manifest.replaced == nil)
        #expect(try await bucket.store.head("derived/a/manifest.json")?.attributes.metadata["cleanup"] == nil)
        #expect(
            Set(manifest.derivatives.map(\.key)) == ["derived/a/w16.png", "derived/a/w64.avif", "derived/a/w64.jpg"])
    }

    @Test func aManifestThatListsKeysOutsideTheOutputPrefixCannotRemoveThem() async throws {
        // A manifest is read back from the store: what it lists is checked before anything goes.
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg", "uploads/other.jpg": "photos/storm.jpg"])
        let store = bucket.store
        _ = await handler(store).handle(try event(.s3Put, "uploads/a.jpg"))
        var manifest = try #require(try await Manifest.read(from: store, key: "derived/a/manifest.json"))
        manifest.derivatives[0].key = "uploads/other.jpg"
        manifest.derivatives[1].key = "uploads/a.jpg"
        try await store.put(
            "derived/a/manifest.json", bytes: Array(try JSONEncoder().encode(manifest)),
            attributes: BlobAttributes(contentType: "application/json"))
        try removeSource(bucket, "uploads/a.jpg")
        let results = await handler(store).handle(try event(.s3Delete, "uploads/a.jpg"))
        #expect(results[0].outcome == .removed(files: 1, manifestKey: "derived/a/manifest.json"))
        #expect(bucket.exists("uploads/other.jpg"))
    }

    @Test func removalEventsDecodeFromEveryShape() throws {
        for (shape, marker) in [(EventSamples.Shape.s3Delete, false), (.s3DeleteMarker, true), (.sqsDelete, false)] {
            let decoded = try event(shape, "uploads/a b+c.jpg", versionId: "v9")
            #expect(
                decoded.records.map(\.content) == [
                    .removed(
                        ObjectRemoved(
                            bucket: "photos", key: "uploads/a b+c.jpg", versionId: "v9", isDeleteMarker: marker,
                            sequencer: "0A1B2C3D4E5F678901", eventTime: "2026-11-25T10:00:00.000Z",
                            eventName: marker ? "ObjectRemoved:DeleteMarkerCreated" : "ObjectRemoved:Delete"))
                ], "\(shape)")
        }
        let bridge = try event(.eventBridgeDelete, "uploads/a b+c.jpg")
        guard case .removed(let removed) = bridge.records.first?.content else {
            Issue.record("EventBridge Object Deleted is not a removal")
            return
        }
        #expect(removed.key == "uploads/a b+c.jpg" && !removed.isDeleteMarker && removed.eventName == "Object Deleted")
        // Lifecycle expirations are removals too; other event kinds are skipped with their name.
        let expired = EventSamples.make(.s3Delete, bucket: "b", key: "k.jpg", size: 0)
            .replacing("ObjectRemoved:Delete", with: "LifecycleExpiration:DeleteMarkerCreated")
        guard case .removed(let lifecycle) = try EventDecoder.decode(Array(expired.utf8)).records.first?.content else {
            Issue.record("a lifecycle expiration is not a removal")
            return
        }
        #expect(lifecycle.isDeleteMarker)
        let restore = EventSamples.make(.s3Delete, bucket: "b", key: "k.jpg", size: 0)
            .replacing("ObjectRemoved:Delete", with: "ObjectRestore:Completed")
        #expect(
            try EventDecoder.decode(Array(restore.utf8)).records.first?.content
                == .skipped("event ObjectRestore:Completed is not an object creation or removal"))
    }
}
