import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import Synchronization
import TestSupport
import Testing

@Suite struct HandlerTests {
    /// A fresh bucket directory holding `uploads/…` copies of fixtures.
    final class Bucket {
        let root: String
        init(_ files: [String: String]) throws {
            root =
                FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-bucket-\(UUID().uuidString)").path
            for (key, fixture) in files {
                let path = "\(root)/\(key)"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: path)
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }
        var store: FileSystemBlobStore { FileSystemBlobStore(root: root) }
        func exists(_ key: String) -> Bool { FileManager.default.fileExists(atPath: "\(root)/\(key)") }
        func keys(under prefix: String) -> [String] {
            (FileManager.default.enumerator(atPath: "\(root)/\(prefix)")?.allObjects as? [String] ?? []).filter {
                !$0.hasSuffix("/")
            }.sorted()
        }
    }

    static let smallSet = try! Pipeline(
        json: Array(
            #"""
            {"derivatives": [{"name": "w64", "width": 64, "formats": ["jpeg", "webp"]}, {"name": "w32", "width": 32, "formats": ["png"]}]}
            """#.utf8))

    func handler(_ bucket: Bucket, pipeline: Pipeline = HandlerTests.smallSet) -> Handler {
        let store = bucket.store
        return Handler(pipeline: pipeline) { _ in store }
    }

    func event(_ key: String, size: Int = 1000, shape: EventSamples.Shape = .s3Put) throws -> DecodedEvent {
        try EventDecoder.decode(Array(EventSamples.make(shape, bucket: "photos", key: key, size: size).utf8))
    }

    @Test func anUploadBecomesItsDerivativesAndAManifestThenReDeliveryIsSkipped() async throws {
        let bucket = try Bucket(["uploads/trips/red flower+1.jpg": "formats/exif-gps.jpg"])
        let handler = handler(bucket)
        let results = await handler.handle(try event("uploads/trips/red flower+1.jpg"))
        #expect(results.count == 1)
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/trips/red flower+1/manifest.json"))
        #expect(
            bucket.keys(under: "derived") == [
                "trips", "trips/red flower+1", "trips/red flower+1/manifest.json", "trips/red flower+1/w32.png",
                "trips/red flower+1/w64.jpg", "trips/red flower+1/w64.webp",
            ])
        let size =
            try FileManager.default.attributesOfItem(atPath: Fixtures.path("formats/exif-gps.jpg"))[.size] as? Int
        #expect(results[0].metrics.bytesIn == size)
        #expect(results[0].metrics.bytesOut > 0)
        let attributes = try #require(try bucket.store.attributes(of: "derived/trips/red flower+1/w64.webp"))
        #expect(
            attributes.metadata["derived-by"] == "imgfn"
                && attributes.metadata["source-key"] == "uploads/trips/red flower+1.jpg")
        #expect(
            attributes.metadata["config-hash"] == Self.smallSet.configHash && attributes.metadata["source-etag"] != nil)

        let again = await handler.handle(try event("uploads/trips/red flower+1.jpg"))
        #expect(
            again[0].outcome
                == .skipped(
                    reason:
                        "already derived for this version and configuration (derived/trips/red flower+1/manifest.json)")
        )
    }

    /// An 800-px upload under 640/1280/2048 widths: 1280 and 2048 are both the 800-px image,
    /// so the 2048 JPEG is the 1280 one (listed twice, stored once); its AVIF, which w1280
    /// lacks, is made from those same pixels.
    @Test func aSizeTheSourceCannotFillRepeatsNoFile() async throws {
        let pipeline = try Pipeline(
            json: Array(
                #"""
                {"derivatives": [{"name": "w640", "width": 640, "formats": ["jpeg", "webp"]},
                                 {"name": "w1280", "width": 1280, "formats": ["jpeg", "webp"]},
                                 {"name": "w2048", "width": 2048, "formats": ["jpeg", "avif"]}]}
                """#.utf8))
        let bucket = try Bucket(["uploads/a.jpg": "formats/exif-gps.jpg"])
        let results = await handler(bucket, pipeline: pipeline).handle(try event("uploads/a.jpg"))
        #expect(results[0].outcome == .ok(files: 5, manifestKey: "derived/a/manifest.json"))
        #expect(
            bucket.keys(under: "derived/a") == [
                "manifest.json", "w1280.jpg", "w1280.webp", "w2048.avif", "w640.jpg", "w640.webp",
            ])
        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(bucket.root)/derived/a/manifest.json")))
        #expect(
            manifest.derivatives.map { "\($0.name).\($0.format.fileExtension)" } == [
                "w640.jpg", "w640.webp", "w1280.jpg", "w1280.webp", "w2048.jpg", "w2048.avif",
            ])
        let repeated = try #require(manifest.derivatives.first { $0.name == "w2048" && $0.format == .jpeg })
        #expect(repeated.sameAs == "w1280" && repeated.key == "derived/a/w1280.jpg" && repeated.width == 800)
        #expect(manifest.derivatives.filter { $0.sameAs != nil }.count == 1)
        let avif = try #require(manifest.derivatives.first { $0.format == .avif })
        #expect(avif.sameAs == nil && avif.width == 800 && avif.key == "derived/a/w2048.avif")
        #expect(results[0].metrics.bytesOut == manifest.storedBytes)

        // Removing the upload removes each file once.
        try FileManager.default.removeItem(atPath: "\(bucket.root)/uploads/a.jpg")
        let removal = await handler(bucket, pipeline: pipeline).handle(
            try event("uploads/a.jpg", shape: .s3Delete))
        #expect(removal[0].outcome == .removed(files: 5, manifestKey: "derived/a/manifest.json"))
        #expect(bucket.keys(under: "derived/a") == [])
    }

    /// The invocation's time budget reaches the encoder, and the manifest says what it changed.
    @Test func aLoweredEffortIsRecordedInTheManifest() async throws {
        let pipeline = try Pipeline(
            json: Array(
                #"""
                {"derivatives": [{"name": "big", "width": 1920, "formats": ["jpeg", "avif"]}],
                 "encode": {"avif": {"effort": 6}}}
                """#.utf8))
        let bucket = try Bucket(["uploads/a.jpg": Fixtures.photo])
        let results = await handler(bucket, pipeline: pipeline).handle(
            try event("uploads/a.jpg"), budget: EncodeBudget(cpus: 1) { .seconds(1) })
        #expect(results[0].outcome == .ok(files: 2, manifestKey: "derived/a/manifest.json"))
        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(bucket.root)/derived/a/manifest.json")))
        #expect(manifest.derivatives.first { $0.format == .avif }?.effort.map { $0 < 6 } == true)
        #expect(manifest.derivatives.first { $0.format == .jpeg }?.effort == nil)

        // Such a set is not current: a backfill finds it stale, and the next delivery (here
        // without a budget) makes it again in full.
        let source = try #require(try await bucket.store.head("uploads/a.jpg"))
        #expect(
            try await SourceComparer(pipeline: pipeline, output: bucket.store).state(of: source)
                == .stale(.reducedByBudget))
        let again = await handler(bucket, pipeline: pipeline).handle(try event("uploads/a.jpg"))
        #expect(again[0].outcome == .ok(files: 2, manifestKey: "derived/a/manifest.json"))
        let full = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(bucket.root)/derived/a/manifest.json")))
        #expect(full.derivatives.allSatisfy { $0.effort == nil } && !full.reducedByBudget)
        let settled = try #require(try await bucket.store.head("uploads/a.jpg"))
        #expect(try await SourceComparer(pipeline: pipeline, output: bucket.store).state(of: settled) == .current)
    }

    /// `"quality": "auto"`: the manifest records each file's chosen quality and score.
    @Test func anAutoQualityIsRecordedInTheManifest() async throws {
        let pipeline = try Pipeline(
            json: Array(
                #"""
                {"derivatives": [{"name": "w320", "width": 320, "formats": ["jpeg", "webp"]}],
                 "encode": {"jpeg": {"quality": "auto"}}}
                """#.utf8))
        let bucket = try Bucket(["uploads/a.jpg": Fixtures.photo])
        let results = await handler(bucket, pipeline: pipeline).handle(try event("uploads/a.jpg"))
        #expect(results[0].outcome == .ok(files: 2, manifestKey: "derived/a/manifest.json"))
        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(bucket.root)/derived/a/manifest.json")))
        let jpeg = try #require(manifest.derivatives.first { $0.format == .jpeg })
        #expect(jpeg.quality.map { (20...95).contains($0) } == true)
        #expect(jpeg.score.map { $0 >= EncodeOptions.autoTarget } == true)
        let webp = try #require(manifest.derivatives.first { $0.format == .webp })
        #expect(webp.quality == nil && webp.score == nil)
    }

    @Test func aChangedConfigurationDerivesAgain() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        _ = await handler(bucket).handle(try event("uploads/a.jpg"))
        let other = try Pipeline(
            json: Array(#"{"derivatives": [{"name": "w64", "width": 65, "formats": ["jpeg"]}]}"#.utf8))
        let results = await handler(bucket, pipeline: other).handle(try event("uploads/a.jpg"))
        // The new set is written, then the old files it no longer makes are removed.
        #expect(results[0].outcome == .ok(files: 1, manifestKey: "derived/a/manifest.json", removed: 2))
        #expect(bucket.keys(under: "derived/a") == ["manifest.json", "w64.jpg"])
    }

    @Test func aBadImageGivesAFailureRecordAndNoDerivatives() async throws {
        let bucket = try Bucket(["uploads/broken.jpg": "bad/truncated.jpg"])
        let results = await handler(bucket).handle(try event("uploads/broken.jpg"))
        #expect(
            results[0].outcome
                == .failed(
                    transient: false, code: .corruptImage,
                    reason: "truncated JPEG: the data ends before the end-of-image marker"))
        #expect(bucket.keys(under: "derived") == ["_failures", "_failures/broken.json"])
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(bucket.root)/derived/_failures/broken.json")))
            as? [String: Any]
        #expect(record?["code"] as? String == "corruptImage" && record?["key"] as? String == "uploads/broken.jpg")
    }

    @Test func filtersAndTheRecursionGuard() async throws {
        let bucket = try Bucket([
            "uploads/a.jpg": "photos/storm.jpg", "elsewhere/b.jpg": "photos/storm.jpg", "uploads/c.txt": "bad/text.jpg",
        ])
        let handler = handler(bucket)
        func outcome(_ key: String) async throws -> RecordResult.Outcome {
            await handler.handle(try event(key))[0].outcome
        }
        #expect(try await outcome("elsewhere/b.jpg") == .skipped(reason: "not under the source prefix \"uploads/\""))
        #expect(
            try await outcome("uploads/c.txt")
                == .skipped(reason: "suffix not one of .jpg .jpeg .png .webp .gif .tif .tiff .heic .heif .avif .jxl"))
        // An object we wrote (derived-by metadata) is never an input, wherever it is.
        try await bucket.store.put(
            "uploads/made.jpg",
            bytes: [UInt8](FileManager.default.contents(atPath: Fixtures.path("photos/storm.jpg"))!),
            attributes: BlobAttributes(contentType: "image/jpeg", metadata: ["derived-by": "imgfn"]))
        #expect(try await outcome("uploads/made.jpg") == .skipped(reason: "made by imgfn (derived-by metadata)"))
    }

    @Test(arguments: [
        (#"{"source": {"prefix": ""}}"#, "source.prefix: must not be empty when output.bucket is null"),
        (
            #"{"source": {"prefix": "img/"}, "output": {"prefix": "img/small/"}}"#,
            "output.key: keys starting \"img/small/\" can fall under source.prefix \"img/\""
        ),
        (#"{"source": {"prefix": "img/in/"}, "output": {"prefix": "img/"}}"#, "can fall under source.prefix"),
        (#"{"output": {"prefix": "out/", "failureKey": "uploads/failed/{stem}.json"}}"#, "output.failureKey"),
    ])
    func recursionProneConfigurationsAreRefusedAtLoad(_ json: String, _ message: String) {
        let error = #expect(throws: ImgfnError.self) { try Pipeline(json: Array(json.utf8)) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        // With an output bucket of its own the same prefixes are fine.
        let separate = json.replacingOccurrences(of: #"{"source""#, with: #"{"output": {"bucket": "out"}, "source""#)
        if separate != json { #expect(throws: Never.self) { try Pipeline(json: Array(separate.utf8)) } }
    }

    @Test func limitsAreCheckedFromTheEventBeforeFetching() async throws {
        let bucket = try Bucket([:])
        let results = await handler(bucket).handle(try event("uploads/huge.jpg", size: 60 << 20))
        #expect(
            results[0].outcome
                == .failed(
                    transient: false, code: .overLimit,
                    reason: "object is 62914560 bytes, over the byte limit of 52428800"))
    }

    @Test func aMissingObjectIsPermanentAStoreOutageTransient() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        let missing = await handler(bucket).handle(try event("uploads/gone.jpg"))
        #expect(
            missing[0].outcome
                == .failed(transient: false, code: .notFound, reason: "no object uploads/gone.jpg in photos"))
        // (no record of a source that is not there: nothing would ever remove it)
        #expect(!bucket.exists("derived/_failures/gone.json"))
        let down = FaultyStore(
            inner: bucket.store, failing: "uploads/a.jpg",
            with: ImgfnError(.storeUnavailable, "503 SlowDown after 4 attempts"))
        let results = await Handler(pipeline: Self.smallSet) { _ in down }.handle(try event("uploads/a.jpg"))
        #expect(results[0].isTransientFailure)
        #expect(!bucket.exists("derived/_failures/a.json"))  // transient failures leave no record
    }

    @Test func anSQSBatchReportsEachMessage() async throws {
        let bucket = try Bucket(["uploads/good.jpg": "photos/storm.jpg", "uploads/bad.jpg": "bad/truncated.jpg"])
        let bodies = [
            EventSamples.make(.s3Put, bucket: "photos", key: "uploads/good.jpg", size: 1),
            EventSamples.make(.s3Put, bucket: "photos", key: "uploads/bad.jpg", size: 1),
            EventSamples.make(.s3Test, bucket: "photos", key: "", size: 0),
            "garbage",
        ]
        let event = try EventDecoder.decode(Array(EventSamples.sqs(bodies).utf8))
        let results = await handler(bucket).handle(event)
        #expect(results.map(\.messageId) == ["msg-1", "msg-2", "msg-3", "msg-4"])
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/good/manifest.json"))
        #expect(results[1].isFailure && !results[1].isTransientFailure)
        #expect(results[2].outcome == .skipped(reason: "s3:TestEvent"))
        #expect(results[3].isFailure && !results[3].isTransientFailure)
    }

    @Test func recordsAfterTheDeadlineAreNotStarted() async throws {
        let bucket = try Bucket(["uploads/a.jpg": "photos/storm.jpg"])
        let bodies = [
            EventSamples.make(.s3Put, bucket: "p", key: "uploads/a.jpg", size: 1),
            EventSamples.make(.s3Put, bucket: "p", key: "uploads/b.jpg", size: 1),
        ]
        let calls = Counter()
        let results = await handler(bucket).handle(try EventDecoder.decode(Array(EventSamples.sqs(bodies).utf8))) {
            calls.next() < 1
        }
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/a/manifest.json"))
        #expect(results[1].isTransientFailure && results[1].messageId == "msg-2")
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { v in
            defer { v += 1 }
            return v
        }
    }
}
