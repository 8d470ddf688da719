import Foundation
import ImgfnBase
import TestSupport
import Testing

/// One test's world: a directory used as the bucket (`IMGFN_STORE=file://…`), a Runtime API
/// server and the `bootstrap` talking to it. `run` always stops both, also when the test fails.
struct Harness {
    let scratch: String
    /// The bucket directory: sources under `uploads/`, derivatives under `derived/`.
    let bucket: String
    let server: RuntimeAPIServer
    let function: BootstrapProcess

    /// A small derivative set, so each image costs little: 64 px wide, JPEG and WebP.
    static let smallConfig = #"{"derivatives": [{"name": "w64", "width": 64, "formats": ["jpeg", "webp"]}]}"#

    static let fixtures = Fixtures.root

    /// Copies `sources` (bucket key → fixture path below `Fixtures/`) into a new bucket
    /// directory, starts the server and the bootstrap with `environment` (defaults: that
    /// directory as the store, `smallConfig`; `{port}` in a value becomes the server's port),
    /// runs `body`, then stops everything.
    static func run(
        sources: [String: String] = [:], environment: [String: String] = [:],
        _ body: (Harness) async throws -> Void
    ) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-fn-\(UUID().uuidString)")
            .path
        let bucket = scratch + "/bucket"
        try FileManager.default.createDirectory(atPath: bucket, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for (key, fixture) in sources {
            let destination = bucket + "/" + key
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: fixtures + "/" + fixture, toPath: destination)
        }
        let server = try await RuntimeAPIServer.start()
        var env = ["IMGFN_STORE": "file://\(bucket)", "IMGFN_CONFIG": smallConfig]
        env.merge(environment.mapValues { $0.replacing("{port}", with: "\(server.port)") }) { _, new in new }
        let function: BootstrapProcess
        do {
            function = try BootstrapProcess(port: server.port, environment: env, scratch: scratch)
        } catch {
            await server.stop()
            throw error
        }
        let harness = Harness(scratch: scratch, bucket: bucket, server: server, function: function)
        do {
            try await body(harness)
        } catch {
            await function.stop()
            await server.stop()
            print("bootstrap stdout:\n\(function.output)\nbootstrap stderr:\n\(function.errors)")
            throw error
        }
        await function.stop()
        await server.stop()
    }

    /// Process start → first `/next`: everything the bootstrap does before it can take work.
    func printColdInit(_ test: String) {
        guard let first = server.requests.first(where: { $0.path.hasSuffix("/invocation/next") }) else { return }
        let milliseconds = (first.received - function.started) / .milliseconds(1)
        print("cold init (\(test)): process start → first /next: \(Int(milliseconds.rounded())) ms")
    }

    func exists(_ key: String) -> Bool {
        FileManager.default.fileExists(atPath: bucket + "/" + key)
    }

    func size(of key: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: bucket + "/" + key)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The log lines (not metrics) on standard output.
    func logLines() -> [[String: Any]] {
        function.jsonLines().filter { $0["_aws"] == nil }
    }

    /// The EMF metrics lines on standard output.
    func metricLines() -> [[String: Any]] {
        function.jsonLines().filter { $0["_aws"] != nil }
    }
}

/// A JSON number as a Double, whatever Foundation made of it.
func number(_ value: Any?) -> Double? {
    (value as? NSNumber)?.doubleValue
}
