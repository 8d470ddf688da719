import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal AWS Lambda Runtime API (`2018-06-01`) on 127.0.0.1, for timing the real
/// `bootstrap` from the outside: plain sockets and one background thread, so that nothing in the
/// harness competes with the process being measured.
///
/// The thread serves every connection with poll(2), keep-alive, one request at a time per
/// connection (as a Runtime API client sends them), and stamps each request with `nowMs()` the
/// moment its request line and headers are in. `GET …/invocation/next` is answered with the
/// queued event, if there is one; otherwise it is held, never answered (the harness kills the
/// process). Posts to `…/invocation/{id}/response`, `…/invocation/{id}/error` and
/// `…/init/error` are answered 202. Anything else gets 404. Every request is recorded.
final class RuntimeAPIServer: @unchecked Sendable {
    /// A request as received.
    struct Request: Sendable {
        var method: String
        var path: String
        var body: [UInt8]
        /// `nowMs()` when its request line and headers had been read.
        var receivedMs: Double

        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// The port it listens on, chosen by the system.
    let port: Int

    private let listener: Int32
    /// Guards the properties below; broadcast on each request recorded and when the thread ends.
    private let condition = NSCondition()
    private var events: [String] = []
    /// Connections whose `/next` waits for an event (`enqueue` answers them).
    private var heldNext: [Int32] = []
    private var received: [Request] = []
    private var invocations = 0
    private var stopping = false
    private var finished = false

    /// Listens on 127.0.0.1 on a free port and starts serving.
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(UInt32(INADDR_LOOPBACK).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw BenchError("cannot listen on 127.0.0.1: \(message)")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { self.serve() }.start()
    }

    /// Forgets the recorded requests and queues `events`, one per `/next`, in order.
    /// A `/next` held now stays unanswered: call it between processes.
    func reset(events: [String]) {
        condition.withLock {
            received = []
            heldNext = []
            self.events = events
        }
    }

    /// Hands `event` to a `/next` that is waiting, or queues it for the next one.
    func enqueue(_ event: String) {
        condition.withLock {
            // Under the lock: the serving thread forgets a held connection before closing it.
            if heldNext.isEmpty {
                events.append(event)
            } else {
                invocations += 1
                Self.send(Self.invocation(id: "bench-\(invocations)", event: event), to: heldNext.removeFirst())
            }
        }
    }

    /// The requests received since the last `reset`, in order.
    var requests: [Request] { condition.withLock { received } }

    /// Waits up to `timeoutMs` for the `count`-th recorded request that `match` accepts.
    func waitFor(count: Int = 1, timeoutMs: Double, where match: (Request) -> Bool) -> Request? {
        let deadline = Date(timeIntervalSinceNow: timeoutMs / 1000)
        condition.lock()
        defer { condition.unlock() }
        while true {
            var seen = 0
            for request in received where match(request) {
                seen += 1
                if seen == count { return request }
            }
            guard condition.wait(until: deadline) else { return nil }
        }
    }

    /// Waits for the `count`-th recorded request that `match` accepts, made by the process
    /// `pid`; throws, naming `what` and `context` with the end of the process's `log`, when the
    /// process exits first or `deadlineMs` (on `nowMs()`'s clock) passes.
    func awaitRequest(
        _ what: String, count: Int = 1, from pid: pid_t, until deadlineMs: Double, context: String, log: String,
        where match: (Request) -> Bool
    ) throws -> Request {
        while true {
            // Checked before the wait: what it sent before exiting is read within the wait.
            let exited = Spawn.hasExited(pid)
            if let request = waitFor(count: count, timeoutMs: 100, where: match) { return request }
            guard !exited && nowMs() < deadlineMs else {
                let why = exited ? "it exited first" : "timed out"
                let seen = requests.map { "\($0.method) \($0.path)" }.joined(separator: ", ")
                throw BenchError(
                    "\(context): no \(what) (\(why)); requests: [\(seen)]; output:\n\(Spawn.tail(of: log))")
            }
        }
    }

    /// A runtime asking for its next event.
    static func isNext(_ request: Request) -> Bool { request.path.hasSuffix("/invocation/next") }

    /// A runtime posting an invocation's result (`/response` or `/error`).
    static func isResult(_ request: Request) -> Bool { request.method == "POST" && !isNext(request) }

    /// Stops listening, closes every connection and waits for the thread to end.
    func stop() {
        let first = condition.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        // Wakes the thread's poll(2) (the listener reports a hang-up); the thread closes the fds.
        shutdown(listener, Int32(SHUT_RDWR))
        condition.withLock {
            while !finished { condition.wait() }
        }
    }

    // MARK: - The serving thread

    /// One client connection and the bytes of its request in progress.
    private final class Connection {
        let fd: Int32
        var buffer: [UInt8] = []
        /// The request whose headers are in, waiting for its body.
        var head: Head?

        init(fd: Int32) { self.fd = fd }
    }

    /// A request line and the headers that matter here.
    private struct Head {
        var method: String
        var path: String
        var contentLength = 0
        var chunked = false
        var close = false
        /// Where the body starts in the buffer.
        var bodyStart: Int
        var receivedMs: Double
    }

    private struct MalformedRequest: Error {}

    private func serve() {
        var connections: [Connection] = []
        while !condition.withLock({ stopping }) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            fds += connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
            for (connection, pollFD) in zip(connections, fds.dropFirst()) where pollFD.revents != 0 {
                if !receive(on: connection) {
                    condition.withLock { heldNext.removeAll { $0 == connection.fd } }
                    close(connection.fd)
                    connections.removeAll { $0 === connection }
                }
            }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let fd = accept(listener, nil, nil)
                if fd >= 0 {
                    // Not inherited by the processes the harness starts (Glibc has no accept4).
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    connections.append(Connection(fd: fd))
                }
            }
        }
        condition.withLock { heldNext = [] }
        for connection in connections { close(connection.fd) }
        close(listener)
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    /// Reads what `connection` has and serves every complete request in it. False when the
    /// connection is done: closed by the client, broken, or to be closed after a response.
    private func receive(on connection: Connection) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(connection.fd, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EINTR }
        guard count > 0 else { return false }
        connection.buffer += chunk[..<count]
        do {
            while let (request, keepAlive) = try nextRequest(on: connection) {
                respond(to: request, on: connection.fd)
                guard keepAlive else { return false }
            }
            return true
        } catch {
            return false
        }
    }

    /// Takes the next complete request off `connection`'s buffer, if it is all there.
    private func nextRequest(on connection: Connection) throws -> (Request, keepAlive: Bool)? {
        if connection.head == nil {
            guard let end = Self.find(Self.blankLine, in: connection.buffer[...]) else { return nil }
            connection.head = try Self.parseHead(connection.buffer[..<end], bodyStart: end + 4, receivedMs: nowMs())
        }
        guard let head = connection.head else { return nil }
        let body: [UInt8]
        let end: Int
        if head.chunked {
            guard let (decoded, decodedEnd) = try Self.dechunk(connection.buffer[head.bodyStart...]) else { return nil }
            (body, end) = (decoded, decodedEnd)
        } else {
            end = head.bodyStart + head.contentLength
            guard connection.buffer.count >= end else { return nil }
            body = Array(connection.buffer[head.bodyStart..<end])
        }
        connection.buffer.removeFirst(end)
        connection.head = nil
        return (Request(method: head.method, path: head.path, body: body, receivedMs: head.receivedMs), !head.close)
    }

    /// Records `request` and answers it (or, for a `/next` with nothing queued, holds it for
    /// `enqueue`).
    private func respond(to request: Request, on fd: Int32) {
        let prefix = "/2018-06-01/runtime/"
        let isResult =
            request.path.hasPrefix(prefix + "invocation/")
            && (request.path.hasSuffix("/response") || request.path.hasSuffix("/error"))
        let response: String?
        if request.method == "GET" && request.path == prefix + "invocation/next" {
            response = condition.withLock { () -> String? in
                guard !events.isEmpty else {
                    heldNext.append(fd)
                    return nil
                }
                invocations += 1
                return Self.invocation(id: "bench-\(invocations)", event: events.removeFirst())
            }
        } else if request.method == "POST" && (isResult || request.path == prefix + "init/error") {
            response = Self.response("202 Accepted", body: #"{"status":"OK"}"#)
        } else {
            response = Self.response("404 Not Found", body: #"{"errorMessage":"not a Runtime API path"}"#)
        }
        condition.withLock {
            received.append(request)
            condition.broadcast()
        }
        if let response { Self.send(response, to: fd) }
    }

    private static func invocation(id: String, event: String) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let deadline = Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000 + 60_000
        return response(
            "200 OK", body: event,
            headers: [
                "Lambda-Runtime-Aws-Request-Id: \(id)",
                "Lambda-Runtime-Deadline-Ms: \(deadline)",
                "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:imgfn-bench",
                "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
            ])
    }

    private static func response(_ status: String, body: String, headers: [String] = []) -> String {
        let lines =
            ["HTTP/1.1 \(status)", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"] + headers
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// Writes all of `text`; a client that has gone away is not an error (nor a SIGPIPE).
    private static func send(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return }
            bytes = bytes.dropFirst(sent)
        }
    }

    // MARK: - HTTP/1.1 parsing

    private static let lineEnd: [UInt8] = Array("\r\n".utf8)
    private static let blankLine: [UInt8] = Array("\r\n\r\n".utf8)

    /// The index where `needle` starts in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (haystack.startIndex...(haystack.endIndex - needle.count)).first {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>, bodyStart: Int, receivedMs: Double) throws -> Head {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count == 3 else { throw MalformedRequest() }
        var head = Head(
            method: String(requestLine[0]), path: String(requestLine[1]), close: requestLine[2] == "HTTP/1.0",
            bodyStart: bodyStart, receivedMs: receivedMs)
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw MalformedRequest() }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            switch line[..<colon].lowercased() {
            case "content-length":
                guard let length = Int(value), length >= 0 else { throw MalformedRequest() }
                head.contentLength = length
            case "transfer-encoding": head.chunked = value.hasSuffix("chunked")
            case "connection": head.close = value == "close" || (head.close && value != "keep-alive")
            default: break
            }
        }
        return head
    }

    /// Decodes a chunked body at the start of `bytes`: the body and the index just past it, or
    /// nil when it is not all there yet.
    private static func dechunk(_ bytes: ArraySlice<UInt8>) throws -> ([UInt8], end: Int)? {
        var body: [UInt8] = []
        var position = bytes.startIndex
        while true {
            guard let sizeEnd = find(lineEnd, in: bytes[position...]) else { return nil }
            let sizeField = String(decoding: bytes[position..<sizeEnd], as: UTF8.self).prefix { $0 != ";" }
            guard let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw MalformedRequest()
            }
            position = sizeEnd + 2
            if size == 0 {
                // Trailer fields, if any, up to a blank line.
                while let end = find(lineEnd, in: bytes[position...]) {
                    if end == position { return (body, end + 2) }
                    position = end + 2
                }
                return nil
            }
            guard bytes.endIndex - position >= size + 2 else { return nil }
            body += bytes[position..<(position + size)]
            position += size + 2
        }
    }
}
