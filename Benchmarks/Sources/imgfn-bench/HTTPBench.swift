import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP throughput, side by side in one run: `imgfn serve` (the release build the quick start
/// makes) and thumbor (PyPI, its default Pillow engine, two processes, file loader, no result
/// storage) on the same photos, driven by `wrk -t2 -c4` on loopback. Scenarios: a transform to a
/// 320-wide JPEG or WebP (ours without write-through, so each request renders, as thumbor's do),
/// a cached hit (ours, written through), a 304 (ours). Transforms are sent with `Connection:
/// close`, to both servers: thumbor's two processes share one listening socket, and a kept-alive
/// connection stays with the process that accepted it, so wrk's four connections often all land
/// on one process (thumbor then measured at half its throughput, 16 instead of 31 requests/s
/// at 20 MP, in about half the runs); a new connection per request is accepted by whichever
/// process is idle, as behind a proxy that does not pin connections. The ceiling for
/// transforms is the decode: `djpeg -scale 1/8` on both cores. Then 4× overload of ours: 40 connections for 2 render slots
/// and 8 places in the queue, with the server's peak RSS and every status it answered.
/// `imgfn serve` makes one render for requests that want the same answer at the same time, so
/// each of its transform and overload requests is a distinct answer (`distinct`: a `bg` colour
/// the opaque photo never shows, numbered per request), as if each asked for another image.
struct HTTPResult: Codable {
    struct Run: Codable {
        var server: String
        var scenario: String
        var photo: String
        var requestsPerSecond: Double
        var p50Ms: Double
        var p99Ms: Double
        /// Answers that were not 2xx or 3xx.
        var failed: Int
    }

    struct Overload: Codable {
        var connections: Int
        var capacity: Int
        var requestsPerSecond: Double
        var p99Ms: Double
        /// Status → count, from the server's access log.
        var statuses: [String: Int]
        var peakRSSMiB: Double
    }

    var seconds: Int
    var runs: [Run]
    /// Photo id → `djpeg -scale 1/8` decodes per second on both cores.
    var decodeFloor: [String: Double]
    var overload: Overload?

    func requestsPerSecond(_ server: String, _ scenario: String, _ photo: String) -> Double? {
        runs.first { $0.server == server && $0.scenario == scenario && $0.photo == photo }?.requestsPerSecond
    }
}

enum HTTPBench {
    static let photos = ["20mp-baseline", "2.5mp-baseline"]

    /// - Parameter tools: the bench tools folder, where `make bench` puts thumbor's virtual
    ///   environment (`thumbor-venv`).
    static func measure(
        imgfn: String, djpeg: String, tools: String, photos all: [Photo], root: String, seconds: Int, scratch: String
    ) throws -> HTTPResult {
        guard let wrk = Spawn.which("wrk") else { throw BenchError("wrk is missing: make bench installs it") }
        let venv = tools + "/thumbor-venv/bin/thumbor"
        guard let thumbor = FileManager.default.isExecutableFile(atPath: venv) ? venv : Spawn.which("thumbor") else {
            throw BenchError("thumbor is missing: make bench installs it")
        }
        let store = scratch + "/store"
        try FileManager.default.createDirectory(atPath: store + "/uploads", withIntermediateDirectories: true)
        let photos = all.filter { Self.photos.contains($0.id) }
        for photo in photos {
            let file = store + "/uploads/\(photo.id).jpg"
            if !FileManager.default.fileExists(atPath: file) {
                try FileManager.default.copyItem(atPath: root + "/" + photo.path, toPath: file)
            }
        }
        var result = HTTPResult(seconds: seconds, runs: [], decodeFloor: [:], overload: nil)
        for photo in photos {
            result.decodeFloor[photo.id] = try decodeFloor(
                djpeg: djpeg, path: root + "/" + photo.path, seconds: seconds)
        }

        // thumbor: two processes, files from the same store, nothing stored.
        let conf = scratch + "/thumbor.conf"
        try """
        LOADER = 'thumbor.loaders.file_loader'
        FILE_LOADER_ROOT_PATH = '\(store)'
        STORAGE = 'thumbor.storages.no_storage'
        RESULT_STORAGE = 'thumbor.result_storages.no_storage'
        ALLOW_UNSAFE_URL = True
        QUALITY = 80
        """.write(toFile: conf, atomically: true, encoding: .utf8)
        try withServer(
            [thumbor, "--port", "{port}", "--conf", conf, "--processes", "2", "--log-level", "error"], scratch: scratch,
            name: "thumbor"
        ) { port, _ in
            for photo in photos {
                for (scenario, path) in [
                    ("transform-320-jpeg", "/unsafe/320x0/uploads/\(photo.id).jpg"),
                    ("transform-320-webp", "/unsafe/320x0/filters:format(webp)/uploads/\(photo.id).jpg"),
                ] {
                    result.runs.append(
                        try run(
                            wrk, server: "thumbor", scenario: scenario, photo: photo.id, port: port, path: path,
                            seconds: seconds, headers: ["Connection: close"]))
                }
            }
        }

        // Ours, rendering every request (no write-through), as thumbor does.
        try withServer(
            [imgfn, "serve", "--store", store, "--port", "{port}", "--insecure-unsigned", "--no-write-through"],
            scratch: scratch, name: "imgfn-serve"
        ) { port, _ in
            for photo in photos {
                for (scenario, format) in [("transform-320-jpeg", "jpg"), ("transform-320-webp", "webp")] {
                    let path = "/_/rs:fit:320:0/\(distinct)/plain/local:///uploads/\(photo.id).jpg@\(format)"
                    result.runs.append(
                        try run(
                            wrk, server: "imgfn", scenario: scenario, photo: photo.id, port: port, path: path,
                            seconds: seconds, headers: ["Connection: close"]))
                }
            }
        }

        // Ours, written through: a repeat is a stored file; a revalidation a 304.
        let cachedPhoto = photos.first { $0.id == "20mp-baseline" } ?? photos[0]
        try withServer(
            [imgfn, "serve", "--store", store, "--port", "{port}", "--insecure-unsigned"], scratch: scratch,
            name: "imgfn-serve-cached"
        ) { port, _ in
            let path = "/_/rs:fit:320:0/plain/local:///uploads/\(cachedPhoto.id).jpg@jpg"
            guard let etag = try get(port: port, path: path)["etag"] else {
                throw BenchError("no ETag from imgfn serve")
            }
            result.runs.append(
                try run(
                    wrk, server: "imgfn", scenario: "cached-hit", photo: cachedPhoto.id, port: port, path: path,
                    seconds: seconds))
            result.runs.append(
                try run(
                    wrk, server: "imgfn", scenario: "not-modified", photo: cachedPhoto.id, port: port, path: path,
                    seconds: seconds, headers: ["If-None-Match: \(etag)"]))
        }

        // 4× overload: every request a render of the 20 MP photo, 40 connections for 2 + 8.
        try withServer(
            [
                imgfn, "serve", "--store", store, "--port", "{port}", "--insecure-unsigned", "--no-write-through",
                "--concurrency", "2", "--queue", "8",
            ],
            scratch: scratch, name: "imgfn-serve-overload"
        ) { port, pid in
            let path = "/_/rs:fit:320:0/\(distinct)/plain/local:///uploads/\(cachedPhoto.id).jpg@jpg"
            let run = try run(
                wrk, server: "imgfn", scenario: "overload", photo: cachedPhoto.id, port: port, path: path,
                seconds: seconds, connections: 40)
            let statuses = accessLogStatuses(scratch + "/imgfn-serve-overload.log")
            result.overload = HTTPResult.Overload(
                connections: 40, capacity: 10, requestsPerSecond: run.requestsPerSecond, p99Ms: run.p99Ms,
                statuses: statuses, peakRSSMiB: try ProcessMemory.mib("VmHWM", of: "\(pid)"))
        }
        return result
    }

    /// Starts a server (`{port}` in `argv` becomes a free port), waits for it, runs `body`, stops
    /// it and the processes it forked.
    static func withServer(
        _ argv: [String], scratch: String, name: String, _ body: (Int, pid_t) throws -> Void
    ) throws {
        let port = try BackfillBench.freePort()
        let log = scratch + "/\(name).log"
        let pid = try Spawn.start(argv.map { $0.replacing("{port}", with: "\(port)") }, output: log)
        defer {
            if let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) {
                for child in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, SIGTERM) }
            }
            kill(pid, SIGTERM)
            Spawn.wait(pid)
        }
        try BackfillBench.waitUntilListening(port, what: name, log: log)
        usleep(300_000)  // thumbor's second process
        try body(port, pid)
    }

    /// Where a path holds it, each request's own option: `bg:R:G:B` numbered per request (and
    /// per wrk thread), so that no two requests want the same answer.
    static let distinct = "{distinct}"

    /// One wrk run (after one request that warms the path up). A `path` with `distinct` in it
    /// goes through a wrk script that numbers each request.
    static func run(
        _ wrk: String, server: String, scenario: String, photo: String, port: Int, path: String, seconds: Int,
        headers: [String] = [], connections: Int = 4
    ) throws -> HTTPResult.Run {
        log("http: \(server) \(scenario) \(photo), \(seconds) s, \(connections) connections")
        let first = path.replacing(distinct, with: "bg:255:255:255")
        _ = try get(port: port, path: first)
        let output = NSTemporaryDirectory() + "imgfn-wrk-\(getpid()).txt"
        let script = NSTemporaryDirectory() + "imgfn-wrk-\(getpid()).lua"
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: script)
        }
        let threads = 2
        var scriptArguments: [String] = []
        if path.contains(distinct) {
            // Lua (wrk's LuaJIT): thread i of n numbers its requests i, i + n, i + 2n, …
            let pattern = path.replacing(distinct, with: "bg:%d:%d:%d")
            try """
            local threads = 0
            function setup(thread) thread:set("id", threads); threads = threads + 1 end
            function init(args) n = id end
            function request()
              n = n + \(threads)
              return wrk.format(nil, string.format("\(pattern)", n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256))
            end
            """.write(toFile: script, atomically: true, encoding: .utf8)
            scriptArguments = ["-s", script]
        }
        let argv =
            [wrk, "-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency", "--timeout", "30s"]
            + scriptArguments + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:\(port)\(first)"]
        let pid = try Spawn.start(argv, output: output)
        guard Spawn.wait(pid) == 0 else { throw BenchError("wrk failed: \(Spawn.tail(of: output))") }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        func value(after label: String) -> Substring? {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }?
                .split(separator: " ", omittingEmptySubsequences: true).last
        }
        guard let rps = value(after: "Requests/sec:").flatMap({ Double($0) }) else {
            throw BenchError("cannot read wrk's output: \(text)")
        }
        return HTTPResult.Run(
            server: server, scenario: scenario, photo: photo, requestsPerSecond: rps,
            p50Ms: milliseconds(value(after: "50%")), p99Ms: milliseconds(value(after: "99%")),
            failed: Int(value(after: "Non-2xx or 3xx responses:") ?? "0") ?? 0)
    }

    /// wrk's `12.34ms`, `850.00us`, `1.20s` in milliseconds.
    static func milliseconds(_ text: Substring?) -> Double {
        guard let text else { return .nan }
        for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where text.hasSuffix(unit) {
            if let number = Double(text.dropLast(unit.count)) { return number * scale }
        }
        return .nan
    }

    /// `djpeg -scale 1/8` of `path` on both cores for about `seconds`: decodes per second.
    static func decodeFloor(djpeg: String, path: String, seconds: Int) throws -> Double {
        log("http: decode floor (djpeg -scale 1/8, 2 at once): \(path.split(separator: "/").last ?? "")")
        let start = nowMs()
        var decodes = 0
        while nowMs() - start < Double(seconds) * 1000 {
            let pids = try (0..<2).map { _ in try Spawn.start([djpeg, "-scale", "1/8", "-outfile", "/dev/null", path]) }
            for pid in pids { Spawn.wait(pid) }
            decodes += 2
        }
        return Double(decodes) / ((nowMs() - start) / 1000)
    }

    /// Status → count over the JSON lines of `imgfn serve`'s access log.
    static func accessLogStatuses(_ path: String) -> [String: Int] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let status = json["status"] as? Int
            else { continue }
            counts["\(status)", default: 0] += 1
        }
        return counts
    }

    /// One GET on 127.0.0.1 (`Connection: close`): the response's header fields, lower-cased.
    static func get(port: Int, path: String) throws -> [String: String] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw BenchError("cannot connect to 127.0.0.1:\(port)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            received += chunk[..<n]
        }
        let text = String(decoding: received.prefix(8192), as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        let lines = head.components(separatedBy: "\r\n")
        guard let status = lines.first, status.contains(" 200 ") else {
            throw BenchError("GET \(path): \(lines.first ?? "no answer")")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }
}
