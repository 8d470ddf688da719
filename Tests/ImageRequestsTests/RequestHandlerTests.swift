import Foundation
import ImagePipeline
import ImageRequests
import ImageService
import ImgfnBase
import TestSupport
import Testing

/// The request handler in-process, on the filesystem store: routes, negotiation, caching,
/// statuses. `ServeTests` runs the same handler behind `imgfn serve` over real sockets.
@Suite struct RequestHandlerTests {
    static let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
    static let phone = "large/matrix/phone-12mp-orientation-6-baseline.jpg"

    /// A store directory with sources under `uploads/`, and a handler over it.
    struct Served {
        let root: String
        let store: RecordingStore<FileSystemBlobStore>
        let handler: RequestHandler
        let pipeline: Pipeline

        init(
            config: PipelineConfig = .default, files: [String: String] = ["storm.jpg": Fixtures.photo],
            configure: (inout RequestSettings) -> Void = { $0.allowUnsigned = true },
            wrap: (@Sendable (any BlobStore) -> any BlobStore)? = nil
        ) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-req-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root + "/uploads", withIntermediateDirectories: true)
            for (name, fixture) in files {
                try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: "\(root)/uploads/\(name)")
            }
            let store = RecordingStore(inner: FileSystemBlobStore(root: root))
            self.store = store
            pipeline = try Pipeline(config)
            var settings = RequestSettings(cores: 2)
            configure(&settings)
            let backing: any BlobStore = wrap?(store) ?? store
            handler = RequestHandler(pipeline: pipeline, stores: { _ in backing }, settings: settings)
        }

        func get(_ path: String, _ headers: [(name: String, value: String)] = [], method: String = "GET") async
            -> HTTPResponse
        {
            await handler.handle(HTTPRequest(method: method, target: path, headers: headers))
        }

        /// Every file under `derived/`.
        var derivedFiles: [String] {
            let base = root + "/derived"
            let found = FileManager.default.enumerator(atPath: base)?.allObjects as? [String] ?? []
            return found.filter { !$0.hasPrefix(".") && !(isDirectory(base + "/" + $0)) }.sorted()
        }

        private func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    static func info(_ response: HTTPResponse) throws -> ImageInfo {
        try ImageResizer.info(of: SourceBytes(response.body))
    }

    @Test func presetsNegotiateAmongTheDerivativesFormats() async throws {
        let served = try Served()
        defer { served.remove() }
        // AVIF is made at 1280, not at 640: WebP there.
        let avif = await served.get("/w1280/uploads/storm.jpg", [("Accept", Self.chrome)])
        #expect(avif.status == 200)
        #expect(avif.header("Content-Type") == "image/avif")
        #expect(avif.header("Vary") == "Accept")
        let avifInfo = try Self.info(avif)
        #expect((avifInfo.format, avifInfo.width, avifInfo.height) == (.avif, 1280, 853))
        let webp = await served.get("/w640/uploads/storm.jpg", [("Accept", Self.chrome)])
        #expect(try Self.info(webp).format == .webp)
        let jpeg = await served.get("/w640/uploads/storm.jpg")
        #expect(try Self.info(jpeg).format == .jpeg)
        #expect(jpeg.header("ETag") != webp.header("ETag"))
        // An explicit format is not negotiated: no Vary.
        let explicit = await served.get("/w640/uploads/storm.jpg.webp", [("Accept", "image/jpeg")])
        #expect(try Self.info(explicit).format == .webp)
        #expect(explicit.header("Vary") == nil)
        #expect(explicit.header("Cache-Control") == "public, max-age=86400")
    }

    @Test func aRepeatIsAStoredFileAndNotARender() async throws {
        let served = try Served()
        defer { served.remove() }
        let first = await served.get("/_/rs:fill:200:200/g:sm/plain/local:///uploads/storm.jpg@webp")
        #expect(first.status == 200)
        #expect(first.header("X-Imgfn-Result") == "rendered")
        #expect(first.header("X-Imgfn-Source-Size") == "1920x1280")
        #expect(served.store.keys.withLock { $0.count } == 1)
        let key = try #require(served.store.keys.withLock { $0.first })
        #expect(key.hasPrefix("derived/_requests/storm.jpg/"))
        served.store.reset()
        // The same request spelt another way: the same normalised options, the same result.
        let again = await served.get("/_/w:200/h:200/rt:fill/g:sm/plain/local:///uploads/storm.jpg@webp")
        #expect(again.header("X-Imgfn-Result") == "stored")
        #expect(again.body == first.body)
        #expect(again.header("ETag") == first.header("ETag"))
        #expect(served.store.keys.withLock { $0.isEmpty })
        #expect(served.store.reads.withLock { $0 } == ["head uploads/storm.jpg", "get \(key)"])
    }

    /// What imgproxy URL builders add beside the size, through the handler: dpr scales the
    /// answer, blur and sharpen change its pixels, `sm:0` keeps the camera EXIF the default
    /// policy drops, `att`/`fn` name the file (on a stored repeat too), an expired URL is a 404
    /// without touching the store.
    @Test func retinaFiltersMetadataExpiryAndAttachments() async throws {
        let served = try Served(files: ["storm.jpg": Fixtures.photo, "camera.jpg": "formats/exif-gps.jpg"])
        defer { served.remove() }
        let retina = await served.get("/_/w:100/dpr:2/plain/local:///uploads/storm.jpg@png")
        #expect(retina.status == 200)
        #expect(try (Self.info(retina).width, Self.info(retina).height) == (200, 133))

        let plain = try PixelBuffer.decode(
            SourceBytes(await served.get("/_/w:200/plain/local:///uploads/storm.jpg@png").body))
        for filter in ["bl:3", "sh:2"] {
            let answer = await served.get("/_/w:200/\(filter)/plain/local:///uploads/storm.jpg@png")
            #expect(answer.status == 200, "\(filter)")
            let filtered = try PixelBuffer.decode(SourceBytes(answer.body))
            #expect((filtered.width, filtered.height) == (plain.width, plain.height))
            #expect(filtered.meanAbsoluteDifference(plain) > 1.5, "\(filter) changed nothing")
        }

        func has(_ text: String, _ bytes: [UInt8]) -> Bool { bytes.firstRange(of: Array(text.utf8)) != nil }
        let stripped = await served.get("/_/w:200/plain/local:///uploads/camera.jpg@jpg")
        let kept = await served.get("/_/w:200/sm:0/plain/local:///uploads/camera.jpg@jpg")
        #expect(stripped.status == 200 && kept.status == 200)
        #expect(!has("Canon", stripped.body) && has("Canon", kept.body))

        let path = "/_/w:120/att:1/fn:%C3%A9t%C3%A9/plain/local:///uploads/storm.jpg@webp"
        let expected = #"attachment; filename="_t_.webp"; filename*=UTF-8''%C3%A9t%C3%A9.webp"#
        let first = await served.get(path)
        let repeated = await served.get(path)
        #expect(first.header("X-Imgfn-Result") == "rendered" && repeated.header("X-Imgfn-Result") == "stored")
        #expect(first.header("Content-Disposition") == expected && repeated.header("Content-Disposition") == expected)
        #expect(await served.get("/_/w:120/plain/local:///uploads/storm.jpg@webp").header("Content-Disposition") == nil)

        served.store.reset()
        let expired = await served.get("/_/w:120/exp:1700000000/plain/local:///uploads/storm.jpg@webp")
        #expect(expired.status == 404)
        #expect(String(decoding: expired.body, as: UTF8.self).contains("expired at 2023-11-14T22:13:20Z"))
        #expect(served.store.reads.withLock { $0 }.isEmpty)
        let later = Int(Date().timeIntervalSince1970) + 3600
        #expect(await served.get("/_/w:120/exp:\(later)/plain/local:///uploads/storm.jpg@webp").status == 200)
    }

    /// A render over `renderTimeout`, or past the request's own deadline (a Lambda
    /// invocation's), is stopped: 504 with the reason, the slot given back, nothing stored.
    @Test func aRenderOverItsTimeLimitIs504() async throws {
        let served = try Served(files: ["phone.jpg": Self.phone]) {
            $0.allowUnsigned = true
            $0.renderTimeout = .milliseconds(1)
        }
        defer { served.remove() }
        let path = "/_/rs:fit:2000:0/plain/local:///uploads/phone.jpg@webp"
        let stopped = await served.get(path)
        #expect(stopped.status == 504)
        #expect(String(decoding: stopped.body, as: UTF8.self) == "the render was stopped at its time limit of 1 ms\n")
        #expect(await served.handler.load == (0, 0))
        #expect(served.derivedFiles.isEmpty)

        let lambda = try Served(files: ["phone.jpg": Self.phone])
        defer { lambda.remove() }
        var request = HTTPRequest(method: "GET", target: path)
        request.deadline = .now - .seconds(1)
        let late = await lambda.handler.handle(request)
        #expect(late.status == 504)
        #expect(
            String(decoding: late.body, as: UTF8.self)
                == "the render was stopped at the invocation's deadline (less its margin)\n")
        request.deadline = .now + .seconds(600)
        #expect(await lambda.handler.handle(request).status == 200)
    }

    @Test func ifNoneMatchIsAnsweredFromAHeadAlone() async throws {
        let served = try Served()
        defer { served.remove() }
        let path = "/w320/uploads/storm.jpg"
        let first = await served.get(path, [("Accept", Self.chrome)])
        let tag = try #require(first.header("ETag"))
        served.store.reset()
        for header in [tag, "\"other\", \(tag)", "*", tag.replacing("W/", with: "")] {
            let response = await served.get(path, [("Accept", Self.chrome), ("If-None-Match", header)])
            #expect(response.status == 304, "If-None-Match: \(header)")
            #expect(response.body.isEmpty)
            #expect(response.header("ETag") == tag)
            #expect(response.header("Vary") == "Accept")
        }
        #expect(Set(served.store.reads.withLock { $0 }) == ["head uploads/storm.jpg"])
        // Another format is another entity.
        let jpeg = await served.get(path, [("If-None-Match", tag)])
        #expect(jpeg.status == 200)
        // A replaced source is another version: the old tag no longer matches.
        try Data(Fixtures.array("formats/progressive.jpg")).write(
            to: URL(fileURLWithPath: served.root + "/uploads/storm.jpg"))
        let replaced = await served.get(path, [("Accept", Self.chrome), ("If-None-Match", tag)])
        #expect(replaced.status == 200)
        #expect(replaced.header("X-Imgfn-Result") == "rendered")
        #expect(try Self.info(replaced).height == 213)  // progressive.jpg is 1200×800
    }

    @Test func aPushedSetIsServedAsItIs() async throws {
        let served = try Served(files: ["storm.jpg": Fixtures.photo, "small.webp": "formats/photo.webp"])
        defer { served.remove() }
        let push = Handler(pipeline: served.pipeline) { _ in FileSystemBlobStore(root: served.root) }
        for key in ["uploads/storm.jpg", "uploads/small.webp"] {
            let result = await push.handle(ObjectCreated(bucket: "b", key: key))
            #expect(!result.isFailure, "\(result)")
        }
        served.store.reset()
        let response = await served.get("/w320/uploads/storm.jpg.webp")
        #expect(response.header("X-Imgfn-Result") == "stored")
        let file = try Data(contentsOf: URL(fileURLWithPath: served.root + "/derived/storm/w320.webp"))
        #expect(response.body == [UInt8](file))
        #expect(served.store.keys.withLock { $0.isEmpty })
        // 800 px wide: w2048's JPEG is w1280's file (`sameAs` in the manifest), found through it.
        let repeated = await served.get("/w2048/uploads/small.webp.jpg")
        #expect(repeated.header("X-Imgfn-Result") == "stored")
        let twin = try Data(contentsOf: URL(fileURLWithPath: served.root + "/derived/small/w1280.jpg"))
        #expect(repeated.body == [UInt8](twin))
        #expect(!FileManager.default.fileExists(atPath: served.root + "/derived/small/w2048.jpg"))
    }

    @Test func aDeletedSourceTakesItsResultsWithIt() async throws {
        let served = try Served(files: ["storm.jpg": Fixtures.photo, "other.jpg": Fixtures.photo])
        defer { served.remove() }
        for source in ["storm.jpg", "other.jpg"] {
            for size in [100, 200] {
                #expect(await served.get("/_/w:\(size)/plain/local:///uploads/\(source)@webp").status == 200)
            }
        }
        #expect(served.derivedFiles.count == 4)
        try FileManager.default.removeItem(atPath: served.root + "/uploads/storm.jpg")
        let removal = Handler(pipeline: served.pipeline) { _ in FileSystemBlobStore(root: served.root) }
        let result = await removal.handle(ObjectRemoved(bucket: "b", key: "uploads/storm.jpg"))
        #expect(!result.isFailure, "\(result)")
        // The other source's results stay.
        #expect(
            served.derivedFiles.count == 2 && served.derivedFiles.allSatisfy { $0.hasPrefix("_requests/other.jpg/") })
    }

    @Test func signaturesAreRequiredByDefault() async throws {
        let path = "/rs:fit:100:100/plain/local:///uploads/storm.jpg@jpg"
        let unsigned = try Served(configure: { _ in })
        defer { unsigned.remove() }
        let refused = await unsigned.get("/anything\(path)")
        #expect(refused.status == 403)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("signed URLs are required"))
        // Presets need no signature: they name only what the configuration makes.
        #expect(await unsigned.get("/w320/uploads/storm.jpg").status == 200)

        let signing = try URLSigning(keys: "736563726574", salts: "68656c6c6f")
        let signed = try Served(configure: { $0.signing = signing })
        defer { signed.remove() }
        let ok = await signed.get("/\(signing.sign(path))\(path)")
        #expect(ok.status == 200)
        #expect(try Self.info(ok).width == 100)
        let tampered = await signed.get("/\(signing.sign(path))\(path.replacing("100:100", with: "2000:2000"))")
        #expect(tampered.status == 403)
        #expect(await signed.get("/insecure\(path)").status == 403)
        // No render happened for a refused signature: nothing was read.
        #expect(signed.store.reads.withLock { $0.filter { $0.contains("2000") }.isEmpty })
    }

    @Test func sidewaysPhoneThroughEveryRoute() async throws {
        let served = try Served(files: ["phone.jpg": Self.phone])
        defer { served.remove() }
        let processed = await served.get("/_/rs:fit:320:320/plain/local:///uploads/phone.jpg@jpg")
        #expect(processed.header("X-Imgfn-Source-Size") == "4272x2848")
        let fromURL = try Self.info(processed)
        let preset = try Self.info(await served.get("/w320/uploads/phone.jpg"))
        let direct = try ImageResizer.info(
            of: SourceBytes(
                ImageResizer.resize(
                    Fixtures.bytes(Self.phone), ResizeOptions(width: 320, height: 320),
                    encode: EncodeOptions(format: .jpeg)
                ).bytes))
        #expect((fromURL.width, fromURL.height) == (320, 213))
        #expect((preset.width, preset.height) == (direct.width, direct.height))
        #expect(fromURL.orientation == 1 && preset.orientation == 1)
    }

    @Test func refusalsHaveAStatusAndOneLine() async throws {
        var config = PipelineConfig.default
        config.source.limits.maxPixels = 20_000_000
        let served = try Served(
            config: config,
            files: [
                "storm.jpg": Fixtures.photo, "text.jpg": "bad/text.jpg", "cut.jpg": "bad/truncated.jpg",
                "crc.png": "large/matrix/damaged-png-crc.png", "bomb.png": "bad/bomb.png",
            ],
            configure: {
                $0.allowUnsigned = true
                $0.maxOutputPixels = 40_000_000
            })
        defer { served.remove() }
        try FileManager.default.createDirectory(atPath: served.root + "/secret", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: served.root + "/secret/a.jpg"))
        let cases: [(String, Int)] = [
            ("/w320/uploads/missing.jpg", 404),
            ("/_/w:100/plain/local:///uploads/missing.jpg", 404),
            ("/w320/uploads/text.jpg", 415),
            ("/w320/uploads/cut.jpg", 422),
            ("/_/w:100/plain/local:///uploads/crc.png", 422),
            ("/w320/uploads/bomb.png", 413),
            ("/w320/secret/a.jpg", 403),
            ("/w320/uploads/../secret/a.jpg", 403),
            ("/w320/uploads/%2e%2e/secret/a.jpg", 403),
            ("/w320/uploads/%2E%2E%2Fsecret%2Fa.jpg", 403),
            ("/w320/uploads//storm.jpg", 403),
            ("/_/w:100/plain/local:///uploads/%2e%2e/secret/a.jpg", 403),
            ("/_/w:100/plain/local:////etc/passwd", 403),
            ("/_/w:100/plain/s3://other-bucket/uploads/storm.jpg", 403),
            ("/_/w:100/plain/http://127.0.0.1:1/uploads/storm.jpg", 403),
            ("/_/w:9000/plain/local:///uploads/storm.jpg", 400),
            // Enlarged past the output limit: 8192 wide from 1920×1280 is 8192×5461, 44.7 MP.
            ("/_/w:8192/el:1/plain/local:///uploads/storm.jpg", 413),
            ("/_/crop:100:100/plain/local:///uploads/storm.jpg", 400),
            ("/nothing", 404),
        ]
        for (path, status) in cases {
            let response = await served.get(path)
            let reason = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == status, "\(path): \(response.status) \(reason)")
            #expect(reason.hasSuffix("\n") && reason.dropLast().split(separator: "\n").count == 1, "\(path): \(reason)")
            #expect(response.header("Cache-Control") == "no-store")
        }
        let post = await served.get("/w320/uploads/storm.jpg", method: "POST")
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD")
        // Nothing was written for any refusal.
        #expect(served.derivedFiles.isEmpty, "\(served.derivedFiles)")
    }

    @Test func storeFaultsAre502Or503() async throws {
        for (code, status) in [(ImgfnError.Code.storeUnavailable, 503), (.accessDenied, 502)] {
            let served = try Served(wrap: { BrokenStore(inner: $0, error: ImgfnError(code, "injected")) })
            defer { served.remove() }
            let response = await served.get("/w320/uploads/storm.jpg")
            #expect(response.status == status)
            if status == 503 { #expect(response.header("Retry-After") == "1") }
        }
    }

    @Test func overloadIsTurnedAwayWithRetryAfter() async throws {
        let served = try Served(
            files: ["phone.jpg": Self.phone],
            configure: {
                $0.allowUnsigned = true
                $0.concurrency = 1
                $0.queueLength = 1
            })
        defer { served.remove() }
        // Eight different renders of a 12 MP photo at once, for one render slot and one place
        // in the queue: the others are refused at once, not queued without bound.
        let statuses = await withTaskGroup(of: HTTPResponse.self) { group in
            for i in 0..<8 {
                group.addTask { await served.get("/_/rs:fit:\(1000 + i):0/plain/local:///uploads/phone.jpg@jpg") }
            }
            return await group.reduce(into: [HTTPResponse]()) { $0.append($1) }
        }
        let ok = statuses.filter { $0.status == 200 }
        let refused = statuses.filter { $0.status == 503 }
        #expect(ok.count >= 1 && refused.count >= 1, "\(statuses.map(\.status))")
        #expect(ok.count + refused.count == 8, "\(statuses.map(\.status))")
        #expect(refused.allSatisfy { $0.header("Retry-After") == "1" })
        // Served again once the load is gone.
        #expect(await served.get("/_/rs:fit:1000:0/plain/local:///uploads/phone.jpg@jpg").status == 200)
    }

    /// Requests for the same answer at the same time (a CDN's misses for a new image) share one
    /// render: one source read, one render slot, one stored result; the others are `joined`,
    /// with the same bytes and ETag. With one slot and one place in the queue, eight separate
    /// renders would mostly be refused (the test above). Another answer renders on its own.
    @Test func simultaneousRequestsForOneAnswerShareItsRender() async throws {
        let served = try Served(
            configure: {
                $0.allowUnsigned = true
                $0.concurrency = 1
                $0.queueLength = 1
            },
            wrap: { SlowSourceStore(inner: $0, delay: .milliseconds(400)) })
        defer { served.remove() }
        let path = "/_/w:200/plain/local:///uploads/storm.jpg@webp"
        let answers = await withTaskGroup(of: HTTPResponse.self) { group in
            for _ in 0..<8 { group.addTask { await served.get(path) } }
            return await group.reduce(into: [HTTPResponse]()) { $0.append($1) }
        }
        #expect(answers.map(\.status) == Array(repeating: 200, count: 8))
        let results = answers.map { $0.header("X-Imgfn-Result") ?? "" }
        #expect(results.filter { $0 == "rendered" }.count == 1 && results.filter { $0 == "joined" }.count == 7)
        #expect(Set(answers.map(\.body)).count == 1 && Set(answers.map { $0.header("ETag") ?? "" }).count == 1)
        #expect(served.store.reads.withLock { $0 }.filter { $0 == "get uploads/storm.jpg" }.count == 1)
        #expect(served.store.keys.withLock { $0.count } == 1, "one stored result")
        // Over: the next request is the stored result, and another format is a render of its own.
        #expect(await served.get(path).header("X-Imgfn-Result") == "stored")
        let other = await served.get("/_/w:200/plain/local:///uploads/storm.jpg@jpg")
        #expect(other.status == 200 && other.header("X-Imgfn-Result") == "rendered")
    }

    @Test func aRequestThatWaitsTooLongIsRefused() async throws {
        let served = try Served(
            files: ["phone.jpg": Self.phone],
            configure: {
                $0.allowUnsigned = true
                $0.concurrency = 1
                $0.queueLength = 8
                $0.queueTimeout = .milliseconds(1)
            })
        defer { served.remove() }
        let statuses = await withTaskGroup(of: Int.self) { group in
            for i in 0..<4 {
                group.addTask {
                    await served.get("/_/rs:fit:\(2000 + i):0/plain/local:///uploads/phone.jpg@jpg").status
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.contains(503) && statuses.contains(200), "\(statuses)")
    }

    @Test func healthAndHead() async throws {
        let served = try Served()
        defer { served.remove() }
        let health = await served.get("/health")
        #expect(health.status == 200)
        #expect(String(decoding: health.body, as: UTF8.self).contains(#""status":"ok""#))
        let head = await served.get("/w320/uploads/storm.jpg", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "image/jpeg")
    }
}

/// Every call fails with `error`.
/// Reads of sources (`uploads/…`) take `delay` longer; everything else passes through.
struct SlowSourceStore: BlobStore {
    let inner: any BlobStore
    let delay: Duration
    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
        if key.hasPrefix("uploads/") { try? await Task.sleep(for: delay) }
        return try await inner.get(key, maxBytes: maxBytes)
    }
    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { try await inner.head(key) }
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
        try await inner.put(key, bytes: bytes, attributes: attributes)
    }
    func delete(_ key: String) async throws(ImgfnError) { try await inner.delete(key) }
    func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        try await inner.list(prefix: prefix, continuation: continuation, limit: limit)
    }
}

struct BrokenStore: BlobStore {
    let inner: any BlobStore
    let error: ImgfnError
    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject { throw error }
    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { throw error }
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) { throw error }
    func delete(_ key: String) async throws(ImgfnError) { throw error }
    func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage { throw error }
}
