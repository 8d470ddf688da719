import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import Synchronization
import TestSupport
import Testing

/// Backfill on the filesystem store: what compares as stale and why, what a run does with it,
/// and that a run after completion only reads.
@Suite struct BackfillTests {
    typealias Bucket = HandlerTests.Bucket

    static let sources = [
        "uploads/a.jpg": "orientation/orientation-1.jpg",
        "uploads/trips/b c+d.jpg": "orientation/orientation-6.jpg",
        "uploads/x/y.webp": "formats/photo.webp",
        "uploads/broken.jpg": "bad/truncated.jpg",
        "uploads/notes.txt": "README.md",
        "elsewhere/z.jpg": "orientation/orientation-1.jpg",
    ]

    func backfill(
        _ store: some BlobStore, pipeline: Pipeline = HandlerTests.smallSet, pageSize: Int = 1000, jobs: Int = 2
    ) -> Backfill {
        Backfill(handler: Handler(pipeline: pipeline) { _ in store }, bucket: "photos", jobs: jobs, pageSize: pageSize)
    }

    /// Another configuration than `HandlerTests.smallSet`: one 48 px JPEG.
    static let w48 = try! Pipeline(
        json: Array(#"{"derivatives": [{"name": "w48", "width": 48, "formats": ["jpeg"]}]}"#.utf8))

    /// Derives `uploads/a.jpg` of `bucket`, then again under `w48` with the removal of the
    /// replaced `w32.png` failing: the new set is complete, the old files not all gone.
    func replaceWithACutRemoval(_ bucket: Bucket) async throws -> (tally: Backfill.Tally, continuation: String?) {
        _ = try await backfill(bucket.store).run(.derive)
        let failing = FaultyStore(
            inner: bucket.store, failing: "derived/a/w32.png", with: ImgfnError(.storeUnavailable, "injected"))
        return try await backfill(failing, pipeline: Self.w48).run(.derive)
    }

    @Test func aFirstRunDerivesEverySourceAndASecondOnlyReads() async throws {
        let bucket = try Bucket(Self.sources)
        let recorder = RecordingStore(inner: bucket.store)
        let first = try await backfill(recorder).run(.derive)
        #expect(first.continuation == nil)
        var expected = Backfill.Tally()
        expected.listed = 5  // under uploads/
        expected.notInputs = 1  // notes.txt
        expected.stale = ["missing": 4]
        expected.derived = 3
        expected.failed = 1  // the truncated JPEG, recorded
        #expect(first.tally == expected)
        #expect(bucket.exists("derived/trips/b c+d/manifest.json"))
        #expect(bucket.exists("derived/_failures/broken.json"))
        #expect(!bucket.exists("derived/z/manifest.json"))

        recorder.reset()
        let second = try await backfill(recorder).run(.derive)
        var settled = Backfill.Tally()
        settled.listed = 5
        settled.notInputs = 1
        settled.upToDate = 3
        settled.failedBefore = 1
        #expect(second.tally == settled)
        #expect(recorder.operations.withLock { $0 } == [])
        // One listing, a HEAD of each manifest and one of the failure record where there is
        // no manifest: nothing is read whole.
        let reads = recorder.reads.withLock { $0 }
        #expect(reads.filter { $0.hasPrefix("list ") } == ["list uploads/"])
        #expect(reads.filter { $0.hasPrefix("get ") } == [])
        #expect(reads.filter { $0.hasPrefix("head ") }.count == 5)
    }

    @Test func eachKindOfStalenessIsFoundAndPutRight() async throws {
        let bucket = try Bucket(Self.sources)
        _ = try await backfill(bucket.store).run(.derive)
        // Replaced bytes, a failure record for older bytes, and a manifest that is gone.
        try FileManager.default.removeItem(atPath: "\(bucket.root)/uploads/a.jpg")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("orientation/orientation-3.jpg"), toPath: "\(bucket.root)/uploads/a.jpg")
        try FileManager.default.removeItem(atPath: "\(bucket.root)/uploads/broken.jpg")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("orientation/orientation-2.jpg"), toPath: "\(bucket.root)/uploads/broken.jpg")
        try await bucket.store.delete("derived/x/y/manifest.json")

        let stale = Mutex<[String: Staleness]>([:])
        let handOff = try await backfill(bucket.store).run(
            .handOff { page in stale.withLock { for item in page { $0[item.object.key] = item.staleness } } })
        #expect(
            stale.withLock { $0 } == [
                "uploads/a.jpg": .otherSource, "uploads/broken.jpg": .outdatedFailure, "uploads/x/y.webp": .missing,
            ])
        #expect(handOff.tally.handedOff == 3 && handOff.tally.upToDate == 1)

        // Another configuration: every source is stale, and deriving removes the old sizes.
        let other = Self.w48
        let run = try await backfill(bucket.store, pipeline: other).run(.derive)
        // (the configuration is compared first)
        #expect(run.tally.stale == ["other-configuration": 2, "missing": 1, "outdated-failure": 1])
        #expect(run.tally.derived == 4 && run.tally.failed == 0)
        #expect(bucket.keys(under: "derived/trips/b c+d") == ["manifest.json", "w48.jpg"])
        #expect(!bucket.exists("derived/_failures/broken.json"))
        let again = try await backfill(bucket.store, pipeline: other).run(.derive)
        #expect(again.tally.upToDate == 4 && again.tally.staleTotal == 0)
    }

    @Test func aRemovalOfReplacedFilesThatFailsIsFinishedByTheNextRun() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let other = Self.w48
        let cut = try await replaceWithACutRemoval(bucket)
        #expect(cut.tally.failed == 1 && cut.tally.transient == 1)
        // The new set is complete and its manifest says what is left to remove.
        let manifest = try #require(try await Manifest.read(from: bucket.store, key: "derived/a/manifest.json"))
        #expect(manifest.derivatives.map(\.key) == ["derived/a/w48.jpg"])
        #expect(manifest.replaced == ["derived/a/w64.jpg", "derived/a/w64.webp", "derived/a/w32.png"])
        #expect(try await bucket.store.head("derived/a/manifest.json")?.attributes.metadata["cleanup"] == "pending")
        #expect(!bucket.exists("derived/a/w64.jpg") && bucket.exists("derived/a/w32.png"))

        let stale = Mutex<[Staleness]>([])
        _ = try await backfill(bucket.store, pipeline: other).run(
            .handOff { page in stale.withLock { $0 += page.map(\.staleness) } })
        #expect(stale.withLock { $0 } == [.cleanupPending])
        let finished = try await backfill(bucket.store, pipeline: other).run(.derive)
        #expect(finished.tally.derived == 1)
        #expect(bucket.keys(under: "derived/a") == ["manifest.json", "w48.jpg"])
        let clean = try #require(try await Manifest.read(from: bucket.store, key: "derived/a/manifest.json"))
        #expect(clean.replaced == nil && clean.derivatives == manifest.derivatives)
        let settled = try await backfill(bucket.store, pipeline: other).run(.derive)
        #expect(settled.tally.upToDate == 1)
    }

    /// A crash between a filesystem store's file and its attributes (or any copy that lost the
    /// metadata) leaves a current manifest a HEAD cannot vouch for: the handler writes it again
    /// rather than skipping it forever.
    @Test func aManifestWhoseMetadataWasLostIsWrittenAgainOnce() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        _ = try await backfill(bucket.store).run(.derive)
        try FileManager.default.removeItem(atPath: "\(bucket.root)/.imgfn-attributes/derived/a/manifest.json.json")
        let recorder = RecordingStore(inner: bucket.store)
        let repair = try await backfill(recorder).run(.derive)
        #expect(repair.tally.stale == ["other-source": 1] && repair.tally.derived == 1)
        #expect(recorder.keys.withLock { $0 } == ["derived/a/manifest.json"], "only the manifest is written")
        recorder.reset()
        let settled = try await backfill(recorder).run(.derive)
        #expect(settled.tally.upToDate == 1 && recorder.operations.withLock { $0 } == [])
    }

    /// Replaced by bytes that cannot be decoded: the old set stays (the last good one), the
    /// refusal is recorded, and from then on the source is refused before, not retried.
    @Test func aSourceReplacedByABadFileIsRefusedOnceNotOnEveryRun() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        _ = try await backfill(bucket.store).run(.derive)
        try FileManager.default.removeItem(atPath: "\(bucket.root)/uploads/a.jpg")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("bad/truncated.jpg"), toPath: "\(bucket.root)/uploads/a.jpg")
        let refused = try await backfill(bucket.store).run(.derive)
        #expect(refused.tally.stale == ["other-source": 1] && refused.tally.failed == 1)
        let recorder = RecordingStore(inner: bucket.store)
        let settled = try await backfill(recorder).run(.derive)
        #expect(settled.tally.failedBefore == 1 && settled.tally.staleTotal == 0)
        #expect(recorder.operations.withLock { $0 } == [])
    }

    /// A source deleted while its manifest still lists replaced files takes those files too.
    @Test func aRemovalTakesTheFilesAnUnfinishedReplacementLeft() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "orientation/orientation-1.jpg"])
        let other = Self.w48
        _ = try await replaceWithACutRemoval(bucket)
        #expect(bucket.exists("derived/a/w32.png"))
        try FileManager.default.removeItem(atPath: "\(bucket.root)/uploads/a.jpg")
        let store = bucket.store
        let removal = await Handler(pipeline: other) { _ in store }.handle(
            try EventDecoder.decode(
                Array(EventSamples.make(.s3Delete, bucket: "photos", key: "uploads/a.jpg", size: 0).utf8)))
        // (its own file and the three it had replaced, one of them still there)
        #expect(removal.first?.outcome == .removed(files: 4, manifestKey: "derived/a/manifest.json"))
        #expect(bucket.keys(under: "derived").isEmpty, "\(bucket.keys(under: "derived"))")
    }

    @Test func withoutAnOutputPrefixNoSourceCanBeRemoved() {
        var output = HandlerTests.smallSet.config.output
        output.prefix = ""
        let guarded = RemovalGuard(output: output, sourceKey: "uploads/a.jpg", sourcePrefix: "uploads/")
        #expect(!guarded.mayRemove("uploads/a.jpg") && !guarded.mayRemove("uploads/b.jpg"))
        #expect(guarded.mayRemove("a/w64.jpg"))
        output.prefix = "derived/"
        let prefixed = RemovalGuard(output: output, sourceKey: "uploads/a.jpg", sourcePrefix: "uploads/")
        #expect(prefixed.mayRemove("derived/a/w64.jpg") && !prefixed.mayRemove("elsewhere/a.jpg"))
    }

    @Test func sourcesSharingOutputKeysKeepTheFirstAndRefuseTheOther() async throws {
        let bucket = try Bucket([
            "uploads/p.jpg": "orientation/orientation-1.jpg", "uploads/p.webp": "formats/photo.webp",
        ])
        let recorder = RecordingStore(inner: bucket.store)
        // One at a time: two sources sharing keys derived at the same moment race (README).
        let first = try await backfill(recorder, jobs: 1).run(.derive)
        let manifest = try #require(try await Manifest.read(from: bucket.store, key: "derived/p/manifest.json"))
        let kept = manifest.source.key
        let refused = kept == "uploads/p.jpg" ? "uploads/p.webp" : "uploads/p.jpg"
        #expect(first.tally.derived == 1 && first.tally.failed == 1)
        let record = try await bucket.store.get("derived/_failures/p.json", maxBytes: 1 << 16)
        #expect(String(decoding: record.bytes.withUnsafeBytes { Array($0) }, as: UTF8.self).contains(refused))

        // Settled: the refusal is not retried, and nothing is written.
        recorder.reset()
        let second = try await backfill(recorder).run(.derive)
        #expect(second.tally.upToDate == 1 && second.tally.failedBefore == 1)
        #expect(recorder.operations.withLock { $0 } == [])

        // With {file} in the templates the two sources have their own sets.
        let distinct = try Pipeline(
            json: Array(
                #"""
                {"output": {"key": "{prefix}{dir}{file}/{name}.{ext}", "manifestKey": "{prefix}{dir}{file}/manifest.json",
                            "failureKey": "{prefix}_failures/{dir}{file}.json"},
                 "derivatives": [{"name": "w48", "width": 48, "formats": ["jpeg"]}]}
                """#.utf8))
        let third = try await backfill(bucket.store, pipeline: distinct).run(.derive)
        #expect(third.tally.derived == 2 && third.tally.failed == 0)
        #expect(bucket.exists("derived/p.jpg/manifest.json") && bucket.exists("derived/p.webp/manifest.json"))
    }

    @Test func aRunStopsAfterItsPagesAndTheNextStartsWhereItEnded() async throws {
        var files: [String: String] = [:]
        for index in 0..<5 { files["uploads/\(index).jpg"] = "orientation/orientation-1.jpg" }
        let bucket = try Bucket(files)
        let pages = Mutex<[[String]]>([])
        let handOff = Backfill.Work.handOff { page in pages.withLock { $0.append(page.map(\.object.key)) } }
        let first = try await backfill(bucket.store, pageSize: 2).run(handOff, maxPages: 2)
        #expect(first.tally.listed == 4)
        let continuation = try #require(first.continuation)
        let rest = try await backfill(bucket.store, pageSize: 2).run(handOff, startingAfter: continuation)
        #expect(rest.continuation == nil && rest.tally.listed == 1)
        #expect(
            pages.withLock { $0 } == [
                ["uploads/0.jpg", "uploads/1.jpg"], ["uploads/2.jpg", "uploads/3.jpg"], ["uploads/4.jpg"],
            ])
    }

    @Test func aBatchManifestLinePercentEncodesTheKey() {
        #expect(
            BatchManifest.line(bucket: "photos", key: "uploads/a b+c/é.jpg") == "photos,uploads/a%20b%2Bc/%C3%A9.jpg")
        #expect(BatchManifest.line(bucket: "photos", key: "k.jpg", versionId: "v1") == "photos,k.jpg,v1")
        #expect(KeyEncoding.decode("uploads/a%20b%2Bc/%C3%A9.jpg", plusAsSpace: false) == "uploads/a b+c/é.jpg")
    }

    @Test func aWorkMessageIsTheNotificationTheFunctionAlreadyTakes() throws {
        let object = ObjectInfo(
            key: "uploads/a b+c.jpg", size: 1234, etag: "abc", attributes: BlobAttributes(contentType: ""))
        let body = WorkMessage.body(bucket: "photos", object: object)
        let decoded = try EventDecoder.decode(Array(EventSamples.sqs([body]).utf8))
        guard case .created(let created) = try #require(decoded.records.first).content else {
            Issue.record("not a creation: \(decoded)")
            return
        }
        #expect(created.bucket == "photos" && created.key == "uploads/a b+c.jpg")
        #expect(created.size == 1234 && created.etag == "abc")
        #expect(body.contains(WorkMessage.configurationId))
    }
}
