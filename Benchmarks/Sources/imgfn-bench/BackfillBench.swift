import Foundation
import ImageService

#if canImport(Glibc)
    import Glibc
#endif

/// What a backfill of a bucket costs, against moto on loopback: `imgfn backfill` (one process,
/// sources in parallel) beside what people write without it — a shell loop of `imgfn invoke`,
/// one process per object — on the same objects; then the requests a settled bucket costs per
/// 1 000 objects (a LIST per page and a HEAD per source, counted by the fault proxy in front).
struct BackfillResult: Codable {
    /// Objects in each bucket.
    var objects: Int
    var oursSeconds: Double
    var loopSeconds: Double
    /// Wall time per object, ours ÷ the loop's (lower is better).
    var oursOverLoop: Double
    /// Requests of a backfill that finds everything up to date, per 1 000 objects, by method.
    var upToDateRequestsPer1000: [String: Double]

    var oursObjectsPerSecond: Double { Double(objects) / oursSeconds }
    var loopObjectsPerSecond: Double { Double(objects) / loopSeconds }
    var upToDateTotalPer1000: Double { upToDateRequestsPer1000.values.reduce(0, +) }
}

enum BackfillBench {
    static let environment = [
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
    ]

    static func measure(
        imgfn: String, launcher: String, root: String, objects: Int, scratch: String
    ) throws -> BackfillResult {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for (name, value) in environment { setenv(name, value, 1) }
        let motoPort = try freePort()
        let moto = try Spawn.start(
            ["moto_server", "-H", "127.0.0.1", "-p", "\(motoPort)"], output: scratch + "/moto.log")
        defer {
            kill(moto, SIGTERM)
            Spawn.wait(moto)
        }
        try waitUntilListening(motoPort, what: "moto_server", log: scratch + "/moto.log")
        let proxyPort = try freePort()
        let proxy = try Spawn.start(
            [
                "python3", root + "/Tests/S3StoreTests/fault_proxy.py", "--port", "\(proxyPort)", "--upstream",
                "http://127.0.0.1:\(motoPort)",
            ], output: scratch + "/proxy.log")
        defer {
            kill(proxy, SIGTERM)
            Spawn.wait(proxy)
        }
        try waitUntilListening(proxyPort, what: "fault_proxy.py", log: scratch + "/proxy.log")
        let direct = "http://127.0.0.1:\(motoPort)"
        let through = "http://127.0.0.1:\(proxyPort)"
        let tool = root + "/Benchmarks/tools/backfill-bench.py"
        let photo = root + "/Fixtures/orientation/orientation-1.jpg"
        let config = root + "/Benchmarks/configs/backfill.json"
        for bucket in ["bench-backfill", "bench-loop"] {
            log("backfill: seeding \(bucket) with \(objects) objects")
            _ = try Spawn.timed(
                [
                    "python3", tool, "seed", "--endpoint", direct, "--bucket", bucket, "--count", "\(objects)",
                    "--photo", photo,
                ],
                launcher: launcher, stdout: scratch + "/\(bucket).keys")
        }

        log("backfill: imgfn backfill, \(objects) objects")
        let ours = try Spawn.timed(
            [imgfn, "backfill", "--store", "s3://bench-backfill", "--endpoint", through, "--config", config, "--json"],
            launcher: launcher, stdout: scratch + "/backfill.json")
        let summary =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: scratch + "/backfill.json"))) as? [String: Any]
        let derived = (summary?["tally"] as? [String: Any])?["derived"] as? Int
        guard derived == objects else { throw BenchError("backfill derived \(derived ?? -1) of \(objects)") }

        log("backfill: a shell loop of imgfn invoke, \(objects) objects")
        let keys = try String(contentsOfFile: scratch + "/bench-loop.keys", encoding: .utf8).split(separator: "\n")
        var loopMs = 0.0
        for key in keys {
            let event = scratch + "/event.json"
            try EventSamples.make(.s3Put, bucket: "bench-loop", key: String(key), size: 1).write(
                toFile: event, atomically: true, encoding: .utf8)
            loopMs +=
                try Spawn.timed(
                    [
                        imgfn, "invoke", "--event", event, "--store", "s3://bench-loop", "--endpoint", through,
                        "--config", config,
                    ],
                    launcher: launcher
                ).ms
        }

        log("backfill: the settled bucket, counting requests")
        _ = try Spawn.timed(["python3", tool, "counts", "--proxy", through], launcher: launcher)
        _ = try Spawn.timed(
            [imgfn, "backfill", "--store", "s3://bench-backfill", "--endpoint", through, "--config", config],
            launcher: launcher)
        _ = try Spawn.timed(
            ["python3", tool, "counts", "--proxy", through], launcher: launcher, stdout: scratch + "/counts.json")
        let counts =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch + "/counts.json")))
            as? [String: Int] ?? [:]
        return BackfillResult(
            objects: objects, oursSeconds: ours.ms / 1000, loopSeconds: loopMs / 1000,
            oursOverLoop: ours.ms / loopMs,
            upToDateRequestsPer1000: counts.mapValues { Double($0) * 1000 / Double(objects) })
    }

    /// A TCP port on 127.0.0.1 nothing listens on (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw BenchError("cannot bind a port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitUntilListening(_ port: Int, what: String, log path: String) throws {
        for _ in 0..<300 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return }
            usleep(100_000)
        }
        throw BenchError("\(what) did not start on port \(port): \(Spawn.tail(of: path))")
    }
}
