import FoundationEssentials
import ImageRequests
import NIOCore
import NIOHTTP1
import NIOPosix

/// `imgfn serve`'s HTTP/1.1 server: SwiftNIO's HTTP codec around `RequestHandler.handle`, with
/// keep-alive, HEAD (headers only) and one JSON access-log line per request. Everything else —
/// routing, signatures, limits, statuses — is the handler's, shared with the Lambda function.
///
/// SwiftNIO directly rather than an HTTP framework: there is one handler function and no
/// routing to do, NIOHTTP1 is already built for the Lambda bootstrap, and the binary gains no
/// dependency.
struct HTTPServer {
    let handler: RequestHandler
    let log: @Sendable (AccessLogLine) -> Void
    let metrics = ServeMetrics()
    /// Request bodies are not read (GET and HEAD only); one larger than this closes the connection.
    static let maxRequestBody = 64 << 10
    /// A connection with no request for this long is closed.
    static let idleTimeout = TimeAmount.seconds(60)

    /// Binds and serves until the process ends; `ready` gets the bound address first.
    func run(host: String, port: Int, ready: @Sendable (SocketAddress) -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleCloser())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        if let address = server.channel.localAddress { ready(address) }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let clock = ContinuousClock()
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var bodyBytes = 0
                var started = clock.now
                for try await part in inbound {
                    switch part {
                    case .head(let received):
                        head = received
                        bodyBytes = 0
                        started = clock.now
                    case .body(let chunk):
                        bodyBytes += chunk.readableBytes
                        if bodyBytes > Self.maxRequestBody { return }
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        let response = await answer(request)
                        let keepAlive = request.isKeepAlive
                        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
                        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
                        if !keepAlive {
                            headers.replaceOrAdd(name: "Connection", value: "close")
                        } else if request.version.minor == 0 {
                            headers.replaceOrAdd(name: "Connection", value: "keep-alive")  // HTTP/1.0 asks
                        }
                        // Logged and counted before the answer goes out: a client that has its answer
                        // finds it in the log and the metrics, even if it hangs up at once (the last
                        // write may then fail).
                        log(
                            AccessLogLine(
                                time: Date().timeIntervalSince1970, method: request.method.rawValue, path: request.uri,
                                status: response.status, bytes: request.method == .HEAD ? 0 : response.body.count,
                                ms: ((clock.now - started) / .microseconds(1)).rounded() / 1000,
                                type: response.status == 200 ? response.header("Content-Type") : nil,
                                result: response.header("X-Imgfn-Result"),
                                reason: response.status >= 400
                                    ? String(decoding: response.body.prefix(300), as: UTF8.self)
                                        .trimmingCharacters(in: .newlines) : nil))
                        metrics.record(
                            status: response.status, result: response.header("X-Imgfn-Result"),
                            seconds: (clock.now - started) / .seconds(1),
                            bytes: request.method == .HEAD ? 0 : response.body.count)
                        let status = HTTPResponseStatus(statusCode: response.status)
                        try await outbound.write(
                            .head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                        if request.method != .HEAD && !response.body.isEmpty {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
                        }
                        try await outbound.write(.end(nil))
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            // A client that went away or sent garbage: its connection is closed, nothing else.
        }
    }
}

extension HTTPServer {
    /// `/metrics` here (the server's own), everything else from the request handler.
    func answer(_ request: HTTPRequestHead) async -> HTTPResponse {
        if request.uri == "/metrics" && (request.method == .GET || request.method == .HEAD) {
            let load = await handler.load
            return HTTPResponse(
                status: 200,
                headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), ("Cache-Control", "no-store")],
                body: Array(metrics.text(running: load.running, waiting: load.waiting).utf8))
        }
        return await handler.handle(
            HTTPRequest(
                method: request.method.rawValue, target: request.uri,
                headers: request.headers.map { ($0.name, $0.value) }))
    }
}

/// Closes a connection that stayed idle past `HTTPServer.idleTimeout`.
private final class IdleCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// One access-log line (JSON, on standard output).
struct AccessLogLine: Encodable, Sendable {
    var time: Double
    var method: String
    var path: String
    var status: Int
    var bytes: Int
    var ms: Double
    /// The image's (or page's) content type, on 200s.
    var type: String?
    var result: String?
    var reason: String?
}
