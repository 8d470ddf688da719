import AsyncHTTPClient
import Foundation
import ImagePipeline
import ImgfnBase
import NIOCore
import Testing

@testable import S3Store

#if canImport(Glibc)
    import Glibc
#endif

/// The store against a real moto_server (started by the `.s3TestServers` trait), and through
/// fault_proxy.py for failures S3 would only produce under load.
@Suite(.serialized, .s3TestServers)
struct S3BlobStoreTests {
    let servers: S3TestServers

    init() throws {
        servers = try #require(S3TestServers.current, "the .s3TestServers trait sets this")
    }

    static let attributes = BlobAttributes(
        contentType: "image/webp", cacheControl: "public, max-age=31536000, immutable",
        metadata: ["derived-by": "imgfn", "source-key": "uploads/café 1.jpg", "config-hash": "abc123"])

    @Test func putHeadGetRoundTrip() async throws {
        let store = try servers.store()
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await store.put("derived/photo/w320.webp", bytes: bytes, attributes: Self.attributes)

        let info = try #require(try await store.head("derived/photo/w320.webp"))
        #expect(info.key == "derived/photo/w320.webp")
        #expect(info.size == 5000)
        #expect(info.attributes == Self.attributes)
        let etag = try #require(info.etag)
        #expect(etag.count == 32 && etag.allSatisfy(\.isHexDigit), "the MD5 of a single PUT, without quotes: \(etag)")

        let object = try await store.get("derived/photo/w320.webp", maxBytes: 5000)
        #expect(object.info == info)
        #expect(object.bytes.withUnsafeBytes { Array($0) } == bytes)
    }

    @Test func putReplacesTheObject() async throws {
        let store = try servers.store()
        try await store.put(
            "replace/me.txt", bytes: Array("one".utf8), attributes: BlobAttributes(contentType: "text/plain"))
        try await store.put(
            "replace/me.txt", bytes: Array("two!".utf8), attributes: BlobAttributes(contentType: "text/x-two"))
        let object = try await store.get("replace/me.txt", maxBytes: 100)
        #expect(object.bytes.withUnsafeBytes { Array($0) } == Array("two!".utf8))
        #expect(object.info.attributes == BlobAttributes(contentType: "text/x-two"))
    }

    @Test(arguments: [
        "with space.jpg", "plus+sign.jpg", "percent%25.jpg", "100%.jpg", "café/é.jpg", "日本/写真.jpg", "a/b/c.jpg",
        "deep/x y/z+w/%20~!'()*&=;:@,$.jpg", "trailing-dot./..x/.hidden",
    ])
    func keysSurviveTheRoundTrip(_ key: String) async throws {
        let store = try servers.store()
        let bytes = Array("object at \(key)".utf8)
        try await store.put(key, bytes: bytes, attributes: BlobAttributes(contentType: "text/plain"))
        let object = try await store.get(key, maxBytes: 1000)
        #expect(object.bytes.withUnsafeBytes { Array($0) } == bytes)
        #expect(object.info.key == key)
        #expect(try await store.head(key)?.size == bytes.count)
        // moto lists the key exactly as given: the path encoding lost or added nothing.
        #expect(try await listKeys(store, prefix: key) == [key])
    }

    @Test func headOfAMissingKeyIsNil() async throws {
        #expect(try await servers.store().head("no/such/key.jpg") == nil)
    }

    @Test func getOfAMissingKeyIsNotFound() async throws {
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await servers.store().get("no/such/key.jpg", maxBytes: 100)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("NoSuchKey") == true)
        #expect(error?.message.contains("s3://imgfn-tests/no/such/key.jpg") == true)
    }

    @Test func getInAMissingBucketIsNotFound() async throws {
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await servers.store(bucket: "no-such-bucket").get("k.jpg", maxBytes: 100)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("NoSuchBucket") == true)
    }

    @Test func getOverMaxBytesIsRefusedByContentLength() async throws {
        let store = try servers.store()
        try await store.put(
            "big/one.bin", bytes: [UInt8](repeating: 7, count: 10_000),
            attributes: BlobAttributes(contentType: "application/octet-stream"))
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await store.get("big/one.bin", maxBytes: 9_999)
        }
        #expect(error?.code == .overLimit)
        #expect(error?.message.contains("10000 bytes") == true)
        #expect(try await store.get("big/one.bin", maxBytes: 10_000).bytes.count == 10_000)
    }

    /// Without Content-Length (a chunked response) the limit is enforced while reading.
    @Test func getOverMaxBytesIsRefusedWhileStreaming() async throws {
        try await servers.store().put(
            "big/chunked.bin", bytes: [UInt8](repeating: 1, count: 10_000),
            attributes: BlobAttributes(contentType: "application/octet-stream"))
        try await servers.setProxyRules([["match": "big/chunked", "times": -1, "action": "chunked"]])
        let store = try servers.store(throughProxy: true)
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await store.get("big/chunked.bin", maxBytes: 4_000)
        }
        #expect(error?.code == .overLimit)
        #expect(try await store.get("big/chunked.bin", maxBytes: 10_000).bytes.count == 10_000)
    }

    @Test func transientErrorsAreRetriedUntilTheRequestSucceeds() async throws {
        try await servers.setProxyRules([["match": "retry/twice", "times": 2, "status": 503, "code": "SlowDown"]])
        let sleeps = RecordingSleeps()
        let store = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 4))
        try await store.put(
            "retry/twice.txt", bytes: Array("ok".utf8), attributes: BlobAttributes(contentType: "text/plain"))
        let attempts = try await servers.proxyLog().filter { $0.path.contains("retry/twice") }
        #expect(attempts.count == 3)
        #expect(attempts.map(\.rule) == ["retry/twice", "retry/twice", nil])
        #expect(sleeps.delays.count == 2)
        #expect(
            zip(sleeps.delays, [Duration.milliseconds(100), .milliseconds(200)]).allSatisfy { $0 >= .zero && $0 <= $1 })
        #expect(try await servers.store().get("retry/twice.txt", maxBytes: 10).bytes.count == 2)
    }

    @Test(arguments: [(503, "ServiceUnavailable"), (500, "InternalError"), (429, nil), (400, "RequestTimeout")])
    func persistentTransientErrorsBecomeStoreUnavailable(_ status: Int, _ code: String?) async throws {
        var rule: [String: any Sendable] = ["match": "always/failing", "times": -1, "status": status]
        if let code { rule["code"] = code }
        try await servers.setProxyRules([rule])
        let sleeps = RecordingSleeps()
        let store = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 4))
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await store.get("always/failing.jpg", maxBytes: 100)
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("after 4 attempts") == true)
        #expect(error?.message.contains("HTTP \(status)") == true)
        if let code { #expect(error?.message.contains(code) == true) }
        #expect(try await servers.proxyLog().count == 4)
        #expect(sleeps.delays.count == 3)
    }

    @Test func headRetriesTooAndHasNoBodyToRead() async throws {
        try await servers.setProxyRules([["match": "head/failing", "times": -1, "status": 502]])
        let sleeps = RecordingSleeps()
        let store = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 3))
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await store.head("head/failing.jpg")
        }
        #expect(error?.code == .storeUnavailable)
        #expect(try await servers.proxyLog().count == 3)
    }

    @Test func accessDeniedIsNotRetried() async throws {
        try await servers.setProxyRules([["match": "forbidden", "times": -1, "status": 403, "code": "AccessDenied"]])
        let sleeps = RecordingSleeps()
        let store = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 4))
        let error = await #expect(throws: ImgfnError.self) {
            try await store.put(
                "forbidden/x.jpg", bytes: [1, 2, 3], attributes: BlobAttributes(contentType: "image/jpeg"))
        }
        #expect(error?.code == .accessDenied)
        #expect(error?.message.contains("AccessDenied") == true)
        #expect(error?.message.contains("s3://imgfn-tests/forbidden/x.jpg") == true)
        #expect(try await servers.proxyLog().count == 1)
        #expect(sleeps.delays.isEmpty)
        // A 403 on HEAD has no body, the status alone decides.
        let headError = await #expect(throws: ImgfnError.self) { _ = try await store.head("forbidden/y.jpg") }
        #expect(headError?.code == .accessDenied)
    }

    @Test func otherClientErrorsArePermanentAndNameTheS3Code() async throws {
        try await servers.setProxyRules([
            ["match": "bad/request", "times": -1, "status": 400, "code": "InvalidArgument"]
        ])
        let sleeps = RecordingSleeps()
        let store = try servers.store(throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 4))
        let putError = await #expect(throws: ImgfnError.self) {
            try await store.put("bad/request.jpg", bytes: [1], attributes: BlobAttributes(contentType: "image/jpeg"))
        }
        #expect(putError?.code == .outputUnwritable)
        #expect(
            putError?.message
                == "PUT s3://imgfn-tests/bad/request.jpg: HTTP 400 InvalidArgument: injected by fault_proxy.py")
        let getError = await #expect(throws: ImgfnError.self) {
            _ = try await store.get("bad/request.jpg", maxBytes: 10)
        }
        #expect(getError?.code == .inputUnreadable)
        #expect(try await servers.proxyLog().count == 2)
        #expect(sleeps.delays.isEmpty)
    }

    /// With `HTTPClient.shared` a refused connection is retried inside AsyncHTTPClient until the
    /// request's deadline, so each attempt lasts `requestTimeout`; a client that does not retry
    /// connecting fails each attempt at once. Either way the store retries, then gives up.
    @Test(arguments: [false, true])
    func connectionFailuresAreRetriedThenStoreUnavailable(ownClient: Bool) async throws {
        let port = try ChildProcess.freePort()  // nothing listens there
        let sleeps = RecordingSleeps()
        let configuration = try S3Configuration(
            bucket: S3TestServers.bucket, endpoint: "http://127.0.0.1:\(port)",
            retryPolicy: sleeps.policy(maxAttempts: 3), requestTimeout: .milliseconds(ownClient ? 10_000 : 300),
            environment: S3TestServers.environment)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = ownClient ? HTTPClient(configuration: clientConfiguration) : HTTPClient.shared
        let started = ContinuousClock.now
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await S3BlobStore(configuration: configuration, httpClient: client).head("any.jpg")
        }
        if ownClient {
            try await client.shutdown()
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("after 3 attempts") == true)
        #expect(sleeps.delays.count == 2)
    }

    @Test func timeoutsAreRetriedThenStoreUnavailable() async throws {
        try await servers.setProxyRules([["match": "slow/", "times": -1, "action": "hang", "seconds": 2]])
        let sleeps = RecordingSleeps()
        let store = try servers.store(
            throughProxy: true, retryPolicy: sleeps.policy(maxAttempts: 2), requestTimeout: .milliseconds(300))
        let error = await #expect(throws: ImgfnError.self) {
            _ = try await store.get("slow/answer.jpg", maxBytes: 100)
        }
        #expect(error?.code == .storeUnavailable)
        #expect(try await servers.proxyLog().count == 2)
    }

    @Test func errorMessagesNeverContainCredentials() async throws {
        try await servers.setProxyRules([
            ["match": "secret/", "times": -1, "status": 403, "code": "SignatureDoesNotMatch"],
            ["match": "unavailable/", "times": -1, "status": 503],
        ])
        let store = try servers.store(throughProxy: true, retryPolicy: RecordingSleeps().policy(maxAttempts: 2))
        var messages: [String] = []
        for key in ["secret/a.jpg", "unavailable/b.jpg"] {
            do {
                _ = try await store.get(key, maxBytes: 10)
            } catch {
                messages.append(error.message)
            }
        }
        #expect(messages.count == 2)
        for message in messages {
            #expect(!message.contains("testing-secret-key"))
            #expect(!message.contains("testing-session-token"))
            #expect(!message.contains("\n"))
        }
        #expect(!"\(store.configuration)".contains("testing-secret-key"))
        #expect(!"\(store.configuration)".contains("testing-session-token"))
    }

    /// The bootstrap sets the invocation's trace (`TraceContext`) around its work; every request
    /// carries the trace of the work it belongs to.
    @Test func requestsCarryTheLambdaTraceHeader() async throws {
        try await servers.setProxyRules([])
        let store = try servers.store(throughProxy: true)
        try await TraceContext.$traceID.withValue(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ) {
            try await store.put("trace/a.txt", bytes: [1], attributes: BlobAttributes(contentType: "text/plain"))
        }
        _ = try await TraceContext.$traceID.withValue("Root=1-67891233-abcdef012345678912345678;Parent=1234;Sampled=0")
        {
            try await store.get("trace/a.txt", maxBytes: 10)
        }
        _ = try await store.head("trace/a.txt")
        let log = try await servers.proxyLog()
        #expect(log.count == 3)
        #expect(
            log.map { $0.headers["x-amzn-trace-id"] } == [
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                "Root=1-67891233-abcdef012345678912345678;Parent=1234;Sampled=0",
                nil,
            ])
        // The trace header is sent but not signed; the session token is both.
        for entry in log {
            let authorization = try #require(entry.headers["authorization"])
            #expect(!authorization.contains("x-amzn-trace-id"))
            #expect(authorization.contains("x-amz-security-token"))
            #expect(entry.headers["x-amz-security-token"] == "testing-session-token")
        }
        #expect(log[0].headers["x-amz-content-sha256"] == SigV4Signer.payloadHash([1]))
        #expect(log[1].headers["x-amz-content-sha256"] == SigV4Signer.emptyPayloadHash)
    }

    @Test func createBucketIsIdempotent() async throws {
        let store = try servers.store(bucket: "second-bucket")
        try await store.createBucket()
        try await store.createBucket()
        try await store.put("x", bytes: [1], attributes: BlobAttributes(contentType: "application/octet-stream"))
        #expect(try await store.head("x")?.size == 1)
    }

    @Test func invalidRequestsAreRefusedBeforeSending() async throws {
        try await servers.setProxyRules([])
        let store = try servers.store(throughProxy: true)
        let badName = await #expect(throws: ImgfnError.self) {
            try await store.put(
                "meta/bad.txt", bytes: [1],
                attributes: BlobAttributes(contentType: "text/plain", metadata: ["Bad Name": "x"]))
        }
        #expect(badName?.code == .invalidOptions)
        let controlCharacter = await #expect(throws: ImgfnError.self) {
            try await store.put(
                "meta/bad.txt", bytes: [1], attributes: BlobAttributes(contentType: "text/plain\r\nX-Evil: 1"))
        }
        #expect(controlCharacter?.code == .invalidOptions)
        for key in ["", String(repeating: "k", count: 1025)] {
            let badKey = await #expect(throws: ImgfnError.self) { _ = try await store.get(key, maxBytes: 1) }
            #expect(badKey?.code == .invalidOptions)
        }
        #expect(try await servers.proxyLog().isEmpty)
    }

    /// ListObjectsV2 for `prefix`, signed like every other request: the keys moto holds.
    func listKeys(_ store: S3BlobStore, prefix: String) async throws -> [String] {
        let request = store.makeRequest(
            .GET, key: nil, query: [("list-type", "2"), ("prefix", prefix)], payloadHash: SigV4Signer.emptyPayloadHash,
            date: Date())
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
        let xml = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return xml.components(separatedBy: "<Key>").dropFirst().compactMap {
            $0.components(separatedBy: "</Key>").first
        }
        .map { S3ErrorResponse.decodeEntities($0) }
    }
}
