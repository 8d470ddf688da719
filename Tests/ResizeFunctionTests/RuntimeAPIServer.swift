import Foundation
import ImgfnBase
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A Lambda Runtime API (`2018-06-01`) on 127.0.0.1, on NIO, for running the real `bootstrap`.
///
/// `/next` is answered with the queued invocations in order, waiting (without timeout) while
/// the queue is empty, as Lambda does. Every request is recorded with its headers, body and
/// connection. It can close connections between invocations to test reconnection.
///
/// Requests outside the Runtime API's paths get a minimal S3 stand-in, so the bootstrap's S3
/// store can point here (`IMGFN_S3_ENDPOINT`): HEAD and GET answer 404 (no such key), PUT 200.
final class RuntimeAPIServer: Sendable {
    /// An invocation to hand out.
    struct QueuedInvocation: Sendable {
        var requestId: String
        var payload: String
        /// The deadline, counted from the moment `/next` is answered; nil sends no deadline.
        var deadlineIn: Duration? = .seconds(60)
        var traceId = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    }

    /// A request the server received.
    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var headers: HTTPHeaders
        var body: String
        /// The body's bytes as received (a streamed response's are binary after its prelude).
        var bytes: [UInt8] = []
        /// Trailer fields after a chunked body.
        var trailers: HTTPHeaders?
        /// Which connection it came on (1, 2, …).
        var connection: Int
        var received: ContinuousClock.Instant

        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct State {
        var queue: [QueuedInvocation] = []
        /// `/next` requests waiting for an invocation: resumed with it, or nil to close.
        var waiters: [CheckedContinuation<QueuedInvocation?, Never>] = []
        var requests: [Request] = []
        var connections: [any Channel] = []
        var stopped = false
        /// Close the connection after answering each `…/response` or `…/error` post.
        var closeAfterResult = false
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let port: Int
    private let state = Mutex(State())
    private let listener: NIOAsyncChannel<Connection, Never>
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)

    private init(listener: NIOAsyncChannel<Connection, Never>) {
        self.listener = listener
        self.port = listener.channel.localAddress?.port ?? 0
    }

    /// Starts listening on 127.0.0.1 on a free port (`port`).
    static func start() async throws -> RuntimeAPIServer {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let server = RuntimeAPIServer(listener: listener)
        let task = Task<Void, Never> {
            try? await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    var number = 0
                    for try await connection in inbound {
                        number += 1
                        let id = number
                        group.addTask { await server.serve(connection, number: id) }
                    }
                }
            }
        }
        server.acceptTask.withLock { $0 = task }
        return server
    }

    /// Stops listening, closes every connection and ends waiting `/next` requests.
    func stop() async {
        let (waiters, connections) = state.withLock { state in
            state.stopped = true
            defer { state.waiters = [] }
            return (state.waiters, state.connections)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        for connection in connections { try? await connection.close() }
        try? await listener.channel.close()
        await acceptTask.withLock { $0 }?.value
    }

    /// Queues an invocation for `/next`.
    func enqueue(_ invocation: QueuedInvocation) {
        let waiter = state.withLock { state -> CheckedContinuation<QueuedInvocation?, Never>? in
            if state.waiters.isEmpty {
                state.queue.append(invocation)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: invocation)
    }

    func closeConnectionsAfterResults(_ close: Bool) {
        state.withLock { $0.closeAfterResult = close }
    }

    /// Closes the connections of the `/next` requests waiting now, without an answer (what a
    /// process frozen between invocations finds when it thaws).
    func dropWaitingNextRequests() {
        let waiters = state.withLock { state in
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The number of `/next` requests waiting for an invocation.
    var waitingNextRequests: Int { state.withLock { $0.waiters.count } }

    var requests: [Request] { state.withLock { $0.requests } }

    /// Waits until a request matching `predicate` has arrived.
    func waitForRequest(
        timeout: Duration = .seconds(60), _ description: String, where predicate: (Request) -> Bool
    ) async throws -> Request {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let match = requests.first(where: predicate) { return match }
            guard ContinuousClock.now < deadline else {
                let seen = requests.map { "\($0.method) \($0.path)" }.joined(separator: ", ")
                throw Failure(description: "timed out waiting for \(description); requests: \(seen)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the function's answer (response or error) to `requestId`.
    func waitForResult(of requestId: String, timeout: Duration = .seconds(60)) async throws -> Request {
        try await waitForRequest(timeout: timeout, "the result of \(requestId)") {
            $0.method == .POST && $0.path.hasPrefix("/2018-06-01/runtime/invocation/\(requestId)/")
        }
    }

    private func serve(_ connection: Connection, number: Int) async {
        let stopped = state.withLock { state in
            state.connections.append(connection.channel)
            return state.stopped
        }
        guard !stopped else {
            try? await connection.channel.close()
            return
        }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end(let trailers):
                    guard let request = head else { continue }
                    let recorded = Request(
                        method: request.method, path: request.uri, headers: request.headers,
                        body: String(buffer: body), bytes: Array(body.readableBytesView), trailers: trailers,
                        connection: number, received: .now)
                    guard let reply = await respond(to: recorded) else { return }
                    var responseHead = HTTPResponseHead(version: .http1_1, status: reply.status, headers: reply.headers)
                    responseHead.headers.replaceOrAdd(name: "Content-Length", value: "\(reply.body.utf8.count)")
                    if reply.close { responseHead.headers.replaceOrAdd(name: "Connection", value: "close") }
                    try await outbound.write(.head(responseHead))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: reply.body))))
                    try await outbound.write(.end(nil))
                    if reply.close { return }
                }
            }
        }
    }

    private struct Reply {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders = [:]
        var body = ""
        var close = false
    }

    /// The answer to a request, or nil to close the connection without one.
    private func respond(to request: Request) async -> Reply? {
        enum Action {
            case stop
            case invocation(QueuedInvocation)
            case wait
            case result(close: Bool)
            case notFound, s3
        }
        let action = state.withLock { state -> Action in
            state.requests.append(request)
            if state.stopped { return .stop }
            switch (request.method, request.path) {
            case (.GET, "/2018-06-01/runtime/invocation/next"):
                return state.queue.isEmpty ? .wait : .invocation(state.queue.removeFirst())
            case (.POST, "/2018-06-01/runtime/init/error"):
                return .result(close: false)
            case (.POST, let path) where path.hasPrefix("/2018-06-01/runtime/invocation/"):
                return .result(close: state.closeAfterResult)
            case (_, let path) where !path.hasPrefix("/2018-06-01/"):
                return .s3
            default:
                return .notFound
            }
        }
        let invocation: QueuedInvocation
        switch action {
        case .stop: return nil
        case .notFound: return Reply(status: .notFound, body: "{\"errorMessage\":\"no such route\"}")
        case .result(let close): return Reply(status: .accepted, body: "{\"status\":\"OK\"}", close: close)
        case .s3: return Self.s3Reply(to: request)
        case .invocation(let queued): invocation = queued
        case .wait:
            let next = await withCheckedContinuation { continuation in
                let stopped = state.withLock { state in
                    if state.stopped { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if stopped { continuation.resume(returning: nil) }
            }
            guard let next else { return nil }
            invocation = next
        }
        var headers = HTTPHeaders([
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", invocation.requestId),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:imgfn-test"),
            ("Lambda-Runtime-Trace-Id", invocation.traceId),
        ])
        if let deadlineIn = invocation.deadlineIn {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let offset =
                deadlineIn.components.seconds * 1000 + deadlineIn.components.attoseconds / 1_000_000_000_000_000
            headers.add(name: "Lambda-Runtime-Deadline-Ms", value: "\(now + offset)")
        }
        return Reply(status: .ok, headers: headers, body: invocation.payload)
    }

    /// The S3 stand-in: every object is missing, every PUT succeeds.
    private static func s3Reply(to request: Request) -> Reply {
        switch request.method {
        case .HEAD:
            return Reply(status: .notFound)
        case .GET:
            let xml =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                + "<Message>The specified key does not exist.</Message></Error>"
            return Reply(status: .notFound, headers: ["Content-Type": "application/xml"], body: xml)
        case .PUT:
            return Reply(status: .ok, headers: ["ETag": "\"0123456789abcdef0123456789abcdef\""])
        default:
            return Reply(status: .methodNotAllowed)
        }
    }
}
