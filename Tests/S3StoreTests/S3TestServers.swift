import AsyncHTTPClient
import Foundation
import ImagePipeline
import ImgfnBase
import NIOCore
import S3Store
import Synchronization
import Testing

/// The servers the integration tests talk to: a real `moto_server` with the test bucket made,
/// and `fault_proxy.py` in front of it. Started once for the suite that has the
/// `.s3TestServers` trait, stopped after it whether its tests pass or fail.
struct S3TestServers: Sendable {
    @TaskLocal static var current: S3TestServers?

    static let bucket = "imgfn-tests"
    /// Dummy credentials, as moto's documentation suggests; moto does not check signatures.
    static let environment = [
        "AWS_ACCESS_KEY_ID": "testing-key-id",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
        "AWS_SESSION_TOKEN": "testing-session-token",
        "AWS_REGION": "us-east-1",
    ]

    var motoEndpoint: String
    var proxyEndpoint: String

    /// A store on the test bucket, directly on moto or through the proxy.
    func store(
        throughProxy: Bool = false, retryPolicy: S3RetryPolicy = S3RetryPolicy(maxAttempts: 1),
        requestTimeout: Duration = .seconds(20), bucket: String = S3TestServers.bucket
    ) throws -> S3BlobStore {
        let configuration = try S3Configuration(
            bucket: bucket, endpoint: throughProxy ? proxyEndpoint : motoEndpoint, retryPolicy: retryPolicy,
            requestTimeout: requestTimeout, environment: Self.environment)
        return S3BlobStore(configuration: configuration)
    }

    /// Replaces the proxy's rules (see fault_proxy.py) and clears its log.
    func setProxyRules(_ rules: [[String: any Sendable]]) async throws {
        _ = try await proxyControl("reset")
        let data = try JSONSerialization.data(withJSONObject: rules)
        _ = try await proxyControl("rules", body: [UInt8](data))
    }

    /// The requests the proxy has seen since the last `setProxyRules`.
    func proxyLog() async throws -> [ProxyLogEntry] {
        try JSONDecoder().decode([ProxyLogEntry].self, from: Data(try await proxyControl("log")))
    }

    /// How many requests the proxy has seen since the last `setProxyRules`: in all, faulted,
    /// and by method (a long run's whole log is too large to fetch).
    func proxyCounts() async throws -> ProxyCounts {
        try JSONDecoder().decode(ProxyCounts.self, from: Data(try await proxyControl("counts")))
    }

    private func proxyControl(_ command: String, body: [UInt8] = []) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: "\(proxyEndpoint)/__proxy/\(command)")
        request.method = command == "log" || command == "counts" ? .GET : .POST
        request.body = .bytes(body)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Array(buffer.readableBytesView)
    }
}

/// `fault_proxy.py`'s counts of the requests it has seen.
struct ProxyCounts: Decodable, Sendable {
    var total: Int
    var faulted: Int
    var methods: [String: Int]
}

/// One request as `fault_proxy.py` logged it.
struct ProxyLogEntry: Decodable, Sendable {
    var method: String
    var path: String
    var headers: [String: String]
    var rule: String?
}

/// Starts moto and the proxy around a suite, creates the test bucket, stops both afterwards.
struct S3TestServersTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let motoPort = try ChildProcess.freePort()
        let moto = try await ChildProcess.startServer(
            ["moto_server", "-H", "127.0.0.1", "-p", String(motoPort)], port: motoPort,
            environment: S3TestServers.environment)
        defer { moto.stop() }
        let proxyPort = try ChildProcess.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "fault_proxy.py")
        let proxy = try await ChildProcess.startServer(
            ["python3", script.path, "--port", String(proxyPort), "--upstream", "http://127.0.0.1:\(motoPort)"],
            port: proxyPort)
        defer { proxy.stop() }
        let servers = S3TestServers(
            motoEndpoint: "http://127.0.0.1:\(motoPort)", proxyEndpoint: "http://127.0.0.1:\(proxyPort)")
        try await servers.store().createBucket()
        try await S3TestServers.$current.withValue(servers) {
            try await function()
        }
    }
}

extension Trait where Self == S3TestServersTrait {
    /// Runs the suite with `S3TestServers.current` set.
    static var s3TestServers: Self { Self() }
}

/// A retry policy that does not wait, and remembers the waits it was asked for.
final class RecordingSleeps: Sendable {
    private let recorded = Mutex<[Duration]>([])

    var delays: [Duration] { recorded.withLock { $0 } }

    func policy(maxAttempts: Int) -> S3RetryPolicy {
        S3RetryPolicy(maxAttempts: maxAttempts) { [self] delay in
            recorded.withLock { $0.append(delay) }
        }
    }
}
