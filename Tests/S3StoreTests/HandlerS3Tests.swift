import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import S3Store
import TestSupport
import Testing

/// The handler end to end against a real S3-protocol server (moto), through the S3 store:
/// what the Lambda function does with an upload event.
@Suite(.serialized, .s3TestServers)
struct HandlerS3Tests {
    static let pipeline = try! Pipeline(
        json: Array(
            #"""
            {"derivatives": [{"name": "w64", "width": 64, "formats": ["jpeg", "webp"]}, {"name": "w32", "width": 32, "formats": ["png"]}]}
            """#.utf8))

    static func fixture(_ path: String) -> [UInt8] { Fixtures.array(path) }

    func event(_ key: String, size: Int) throws -> DecodedEvent {
        try EventDecoder.decode(Array(EventSamples.make(.sqs, bucket: S3TestServers.bucket, key: key, size: size).utf8))
    }

    @Test func anUploadEventBecomesDerivativesInTheBucketAndReDeliveryIsSkipped() async throws {
        let servers = try #require(S3TestServers.current)
        let store = try servers.store()
        let key = "uploads/trips 2024/red flower+1 café.jpg"
        let photo = Self.fixture("photos/storm.jpg")
        try await store.put(key, bytes: photo, attributes: BlobAttributes(contentType: "image/jpeg"))
        let handler = Handler(pipeline: Self.pipeline) { _ in store }

        let results = await handler.handle(try event(key, size: photo.count))
        #expect(results.map(\.messageId) == ["msg-1"])
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/trips 2024/red flower+1 café/manifest.json"))
        for name in ["w64.jpg", "w64.webp", "w32.png", "manifest.json"] {
            let info = try await store.head("derived/trips 2024/red flower+1 café/\(name)")
            #expect(info != nil, "\(name)")
            #expect(info?.attributes.metadata["derived-by"] == "imgfn")
            #expect(info?.attributes.metadata["source-key"] == key)
        }
        let webp = try #require(try await store.head("derived/trips 2024/red flower+1 café/w64.webp"))
        #expect(
            webp.attributes.contentType == "image/webp"
                && webp.attributes.cacheControl == "public, max-age=31536000, immutable")
        let manifestObject = try await store.get(
            "derived/trips 2024/red flower+1 café/manifest.json", maxBytes: 1 << 20)
        let manifest = try manifestObject.bytes.withUnsafeBytes {
            try JSONDecoder().decode(Manifest.self, from: Data($0))
        }
        let sourceHead = try await store.head(key)
        #expect(manifest.source.etag == sourceHead?.etag && manifest.configHash == Self.pipeline.configHash)

        let again = await handler.handle(try event(key, size: photo.count))
        #expect(
            again[0].outcome
                == .skipped(
                    reason:
                        "already derived for this version and configuration (derived/trips 2024/red flower+1 café/manifest.json)"
                ))
    }

    @Test func aBadImageGivesAFailureRecordAndNoDerivatives() async throws {
        let servers = try #require(S3TestServers.current)
        let store = try servers.store()
        let bad = Self.fixture("bad/truncated.jpg")
        try await store.put("uploads/broken.jpg", bytes: bad, attributes: BlobAttributes(contentType: "image/jpeg"))
        let results = await Handler(pipeline: Self.pipeline) { _ in store }.handle(
            try event("uploads/broken.jpg", size: bad.count))
        #expect(
            results[0].outcome
                == .failed(
                    transient: false, code: .corruptImage,
                    reason: "truncated JPEG: the data ends before the end-of-image marker"))
        #expect(try await store.head("derived/broken/manifest.json") == nil)
        #expect(try await store.head("derived/broken/w64.jpg") == nil)
        let record = try await store.get("derived/_failures/broken.json", maxBytes: 1 << 16)
        let json = try record.bytes.withUnsafeBytes {
            try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
        #expect(json?["code"] as? String == "corruptImage")
    }

    @Test func aMissingObjectIsAPermanentFailure() async throws {
        let servers = try #require(S3TestServers.current)
        let store = try servers.store()
        let results = await Handler(pipeline: Self.pipeline) { _ in store }.handle(
            try event("uploads/never-uploaded.jpg", size: 10))
        guard case .failed(let transient, let code, _) = results[0].outcome else {
            Issue.record("not a failure: \(results[0].outcome)")
            return
        }
        #expect(!transient && code == .notFound)
    }

    @Test func aStoreThatAnswers503TwiceIsRetriedAndTheSetIsMade() async throws {
        let servers = try #require(S3TestServers.current)
        let direct = try servers.store()
        let photo = Self.fixture("orientation/orientation-6.jpg")
        try await direct.put("uploads/flaky.jpg", bytes: photo, attributes: BlobAttributes(contentType: "image/jpeg"))
        try await servers.setProxyRules([["match": "uploads/flaky.jpg", "times": 2, "status": 503, "code": "SlowDown"]])
        let sleeps = RecordingSleeps()
        let flaky = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 4))
        let results = await Handler(pipeline: Self.pipeline) { _ in flaky }.handle(
            try event("uploads/flaky.jpg", size: photo.count))
        #expect(results[0].outcome == .ok(files: 3, manifestKey: "derived/flaky/manifest.json"))
        #expect(sleeps.delays.count == 2)
        let log = try await servers.proxyLog()
        #expect(log.filter { $0.rule != nil }.count == 2)
    }

    @Test func aStoreThatStaysDownIsATransientFailureWithoutARecord() async throws {
        let servers = try #require(S3TestServers.current)
        let direct = try servers.store()
        let photo = Self.fixture("orientation/orientation-1.jpg")
        try await direct.put("uploads/down.jpg", bytes: photo, attributes: BlobAttributes(contentType: "image/jpeg"))
        try await servers.setProxyRules([["match": "uploads/down.jpg", "times": -1, "status": 503, "code": "SlowDown"]])
        let down = try servers.store(throughProxy: true, retryPolicy: RecordingSleeps().policy(maxAttempts: 3))
        let results = await Handler(pipeline: Self.pipeline) { _ in down }.handle(
            try event("uploads/down.jpg", size: photo.count))
        #expect(results[0].isTransientFailure)
        #expect(try await direct.head("derived/_failures/down.json") == nil)
    }

    @Test func imgfnInvokeWorksAgainstTheS3Store() async throws {
        let servers = try #require(S3TestServers.current)
        let store = try servers.store()
        let photo = Self.fixture("formats/progressive.jpg")
        try await store.put(
            "uploads/cli/progressive.jpg", bytes: photo, attributes: BlobAttributes(contentType: "image/jpeg"))
        let event = EventSamples.make(
            .eventBridge, bucket: S3TestServers.bucket, key: "uploads/cli/progressive.jpg", size: photo.count)
        let imgfn = BuiltProducts.path(of: "imgfn")
        let credentials = S3TestServers.environment.map { "\($0.key)=\($0.value)" }
        let result = try ChildProcess.run(
            credentials + [
                imgfn, "invoke", "--event", "-", "--store", "s3://", "--endpoint", servers.motoEndpoint, "--path-style",
            ],
            input: Data(event.utf8))
        #expect(result.status == 0, "\(result.errors)")
        let line = String(decoding: result.output, as: UTF8.self)
        #expect(
            line.hasPrefix(
                "ok       \(S3TestServers.bucket)/uploads/cli/progressive.jpg: 7 files, manifest derived/cli/progressive/manifest.json"
            ))
        // 1200 px wide: w2048 is served by w1280's files.
        #expect(try await store.head("derived/cli/progressive/w1280.avif") != nil)
        #expect(try await store.head("derived/cli/progressive/w2048.avif") == nil)
    }
}
