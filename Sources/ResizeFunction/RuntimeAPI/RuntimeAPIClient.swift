import FoundationEssentials
import ImgfnBase
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Lambda Runtime API (`2018-06-01`) over one HTTP/1.1 keep-alive connection.
///
/// Requests go one at a time. `/next` has no read timeout: Lambda freezes the process between
/// invocations and the answer comes whenever the next event does. When the connection was
/// dropped meanwhile (the server closed it, or the first request on a stale connection fails),
/// the client reconnects and sends the request again; only `/next` keeps trying (with backoff,
/// for a few seconds) when the server cannot be reached at all, after which the process should
/// exit: the sandbox is going away.
actor RuntimeAPIClient {
    static let version = "2018-06-01"
    /// Connection attempts for `/next` before giving up (backoff 50 ms doubling, capped at 1 s).
    static let patientAttempts = 8

    let host: String
    let port: Int
    private let group: any EventLoopGroup
    private var channel: (any Channel)?

    /// - Parameter endpoint: `host:port`, as `AWS_LAMBDA_RUNTIME_API` gives it.
    /// - Throws: `.runtimeAPIUnavailable` when `endpoint` is not `host:port`.
    init(endpoint: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(FunctionError) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
            (1...65535).contains(port), colon != endpoint.startIndex
        else {
            throw FunctionError(.runtimeAPIUnavailable, "AWS_LAMBDA_RUNTIME_API \"\(endpoint)\" is not host:port")
        }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        self.port = port
        self.group = group
    }

    /// Waits for the next invocation (`GET /runtime/invocation/next`).
    /// - Throws: `.runtimeAPIUnavailable` when the Runtime API cannot be reached or answers
    ///   with anything but an invocation.
    func next() async throws(FunctionError) -> Invocation {
        let path = "/\(Self.version)/runtime/invocation/next"
        let response = try await exchange(.GET, path, body: [], patient: true)
        guard response.status == .ok else {
            throw FunctionError(
                .runtimeAPIUnavailable, "GET \(path): HTTP \(response.status.code) \(String(buffer: response.body))")
        }
        return try Invocation(headers: response.headers, body: response.body)
    }

    /// Posts an invocation's result (`POST /runtime/invocation/{id}/response`).
    func respond(to requestId: String, body: ByteBuffer) async throws(FunctionError) {
        try await post("/\(Self.version)/runtime/invocation/\(Self.pathSegment(requestId))/response", body: body)
    }

    /// Posts an HTTP invocation's answer in Lambda's streaming mode
    /// (`Lambda-Runtime-Function-Response-Mode: streaming`, chunked): the prelude with its eight
    /// zero bytes, then the body in pieces of `chunkSize`, as a Function URL with
    /// `InvokeMode: RESPONSE_STREAM` expects (`application/vnd.awslambda.http-integration-response`).
    func respondStreaming(to requestId: String, prelude: [UInt8], body: [UInt8], chunkSize: Int = 64 << 10)
        async throws(FunctionError)
    {
        var parts = [ByteBuffer(bytes: prelude)]
        var offset = 0
        while offset < body.count {
            let end = min(offset + chunkSize, body.count)
            parts.append(ByteBuffer(bytes: body[offset..<end]))
            offset = end
        }
        let headers = HTTPHeaders([
            ("Content-Type", "application/vnd.awslambda.http-integration-response"),
            ("Lambda-Runtime-Function-Response-Mode", "streaming"),
            ("Transfer-Encoding", "chunked"),
        ])
        let path = "/\(Self.version)/runtime/invocation/\(Self.pathSegment(requestId))/response"
        let response = try await exchange(.POST, path, headers: headers, body: parts, patient: false)
        guard response.status.code / 100 == 2 else {
            throw FunctionError(
                .runtimeAPIUnavailable, "POST \(path): HTTP \(response.status.code) \(String(buffer: response.body))")
        }
    }

    /// Posts an invocation's failure (`POST /runtime/invocation/{id}/error`).
    func reportError(_ error: FunctionError, requestId: String) async throws(FunctionError) {
        try await post(
            "/\(Self.version)/runtime/invocation/\(Self.pathSegment(requestId))/error", body: Self.errorBody(error),
            errorType: error.errorType)
    }

    /// Posts a start-up failure (`POST /runtime/init/error`); the process should exit next.
    func reportInitError(_ error: FunctionError) async throws(FunctionError) {
        try await post("/\(Self.version)/runtime/init/error", body: Self.errorBody(error), errorType: error.errorType)
    }

    /// Closes the connection.
    func close() async {
        let channel = self.channel
        self.channel = nil
        try? await channel?.close()
    }

    private func post(_ path: String, body: ByteBuffer, errorType: String? = nil) async throws(FunctionError) {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if let errorType { headers.add(name: "Lambda-Runtime-Function-Error-Type", value: errorType) }
        let response = try await exchange(.POST, path, headers: headers, body: [body], patient: false)
        guard response.status.code / 100 == 2 else {
            throw FunctionError(
                .runtimeAPIUnavailable, "POST \(path): HTTP \(response.status.code) \(String(buffer: response.body))")
        }
    }

    /// Sends one request and reads its whole response, reconnecting once when a kept-alive
    /// connection turns out to be closed; `patient` requests also wait for the server to
    /// come back.
    private func exchange(
        _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: [ByteBuffer], patient: Bool
    ) async throws(FunctionError) -> RuntimeAPIResponse {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        head.headers.replaceOrAdd(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        head.headers.replaceOrAdd(name: "User-Agent", value: "imgfn-bootstrap")
        if method != .GET && !head.headers.contains(name: "Transfer-Encoding") {
            head.headers.replaceOrAdd(name: "Content-Length", value: "\(body.reduce(0) { $0 + $1.readableBytes })")
        }
        var failures = 0
        while true {
            let reused = channel?.isActive == true
            do {
                let channel = try await connectedChannel()
                let promise = channel.eventLoop.makePromise(of: RuntimeAPIResponse.self)
                // A write that never reaches the handler (the channel closed first) fails here.
                channel.writeAndFlush(RuntimeAPIExchange(head: head, body: body, response: promise))
                    .whenFailure { promise.fail($0) }
                let response = try await promise.futureResult.get()
                if !response.keepAlive { await close() }
                return response
            } catch {
                await close()
                failures += 1
                if reused && failures == 1 { continue }
                guard patient, failures < Self.patientAttempts else {
                    throw FunctionError(
                        .runtimeAPIUnavailable, "\(method) \(path) to \(host):\(port) failed: \(error)",
                        underlying: error)
                }
                let delay = min(50 << (failures - 1), 1000)
                try? await Task.sleep(for: .milliseconds(delay))
            }
        }
    }

    /// The open connection, or a new one.
    private func connectedChannel() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        await close()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(RuntimeAPIChannelHandler())
                }
            }
            .connect(host: host, port: port).get()
        self.channel = channel
        return channel
    }

    static func errorBody(_ error: FunctionError) -> ByteBuffer {
        struct Body: Encodable {
            var errorMessage: String
            var errorType: String
        }
        let json = (try? JSONEncoder().encode(Body(errorMessage: error.message, errorType: error.errorType))) ?? Data()
        return ByteBuffer(bytes: json)
    }

    /// Request IDs are UUIDs; anything outside the unreserved set is percent-encoded anyway.
    static func pathSegment(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
