import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

@testable import S3Store

#if canImport(Glibc)
    import Glibc
#endif

/// The lifecycle at scale against moto, with faults on the way: 2 000 photos backfilled
/// through a proxy that fails every 29th request and drops every 31st connection, the backfill
/// killed midway and rerun, 10 % of the sources deleted, the configuration changed, and a last
/// backfill. Then the bucket must be exactly what the manifests say, and the last backfill must
/// have written nothing. Requests are counted; nothing is timed.
@Suite(.serialized, .s3TestServers)
struct SoakTests {
    let servers: S3TestServers
    static let count = 2000
    static let configA = #"{"derivatives": [{"name": "w32", "width": 32, "formats": ["jpeg"]}]}"#
    static let configB = #"{"derivatives": [{"name": "t40", "width": 40, "formats": ["webp"]}]}"#

    init() throws {
        servers = try #require(S3TestServers.current, "the .s3TestServers trait sets this")
    }

    static func key(_ index: Int) -> String { "uploads/batch \(index / 100)/photo-\(index).jpg" }

    static let faults: [[String: any Sendable]] = [
        ["match": "/", "every": 29, "status": 503, "code": "SlowDown"],
        ["match": "/", "every": 31, "action": "hang", "seconds": 0],
    ]

    func configFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func backfillArguments(bucket: String, config: String) -> [String] {
        S3TestServers.environment.map { "\($0.key)=\($0.value)" } + [
            BuiltProducts.path(of: "imgfn"), "backfill", "--store", "s3://\(bucket)", "--endpoint",
            servers.proxyEndpoint, "--config", config, "--jobs", "2", "--json",
        ]
    }

    /// Runs backfill until it exits 0 (a run with transient failures leaves them to the next,
    /// as an operator would); returns the runs' tallies.
    func backfillUntilSettled(bucket: String, config: String) throws -> [[String: Any]] {
        var tallies: [[String: Any]] = []
        for _ in 0..<5 {
            let run = try ChildProcess.run(backfillArguments(bucket: bucket, config: config), input: Data())
            let summary = try JSONSerialization.jsonObject(with: run.output) as? [String: Any] ?? [:]
            tallies.append(summary["tally"] as? [String: Any] ?? [:])
            if run.status == 0 { return tallies }
            #expect(run.status == 75, "only transient failures are expected: \(run.errors) \(summary)")
        }
        Issue.record("backfill did not settle in 5 runs: \(tallies)")
        return tallies
    }

    @Test func twoThousandPhotosStayTrueThroughFaultsAKillDeletionsAndAConfigurationChange() async throws {
        let bucket = "soak-\(UUID().uuidString.prefix(8).lowercased())"
        let direct = try servers.store(bucket: bucket)
        try await direct.createBucket()
        let photo = Fixtures.array("orientation/orientation-1.jpg")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slot in 0..<16 {
                group.addTask {
                    for index in stride(from: slot, to: Self.count, by: 16) {
                        // Bytes after the end-of-image marker: a different ETag, the same picture.
                        try await direct.put(
                            Self.key(index), bytes: photo + Array("imgfn soak \(index)".utf8),
                            attributes: BlobAttributes(contentType: "image/jpeg"))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await servers.setProxyRules(Self.faults)
        let configA = try configFile(Self.configA)
        let configB = try configFile(Self.configB)
        defer {
            try? FileManager.default.removeItem(atPath: configA)
            try? FileManager.default.removeItem(atPath: configB)
        }

        // 1. A backfill killed with SIGKILL once a fifth of the work is done.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = Array(backfillArguments(bucket: bucket, config: configA).dropLast())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var printed = 0
        while printed < Self.count / 5 {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += String(decoding: chunk, as: UTF8.self).components(separatedBy: "\nok ").count - 1
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the first backfill ended before it was killed")

        // 2. Rerun: only what is left is derived.
        let reruns = try backfillUntilSettled(bucket: bucket, config: configA)
        let rerun = try #require(reruns.first)
        let upToDate = rerun["upToDate"] as? Int ?? -1
        #expect(upToDate >= Self.count / 5 - 40, "the killed run's work is kept: \(rerun)")
        #expect(upToDate + (rerun["derived"] as? Int ?? 0) + (rerun["failed"] as? Int ?? 0) == Self.count, "\(rerun)")

        // 3. Every tenth source deleted, the delete events handled (through the faults).
        let deleted = Set(stride(from: 0, to: Self.count, by: 10).map(Self.key))
        for key in deleted { try await direct.delete(key) }
        let handler = Handler(pipeline: try Pipeline(json: Array(Self.configA.utf8))) { _ in
            (try? servers.store(throughProxy: true, retryPolicy: S3RetryPolicy(), bucket: bucket)) ?? direct
        }
        var pending = Array(deleted).sorted()
        for _ in 0..<5 where !pending.isEmpty {
            var failed: [String] = []
            for start in stride(from: 0, to: pending.count, by: 10) {
                let keys = pending[start..<min(start + 10, pending.count)]
                let event = EventSamples.sqs(
                    keys.map { EventSamples.make(.s3Delete, bucket: bucket, key: $0, size: 0) })
                for result in await handler.handle(try EventDecoder.decode(Array(event.utf8))) {
                    switch result.outcome {
                    case .removed(1, _): break
                    case .failed(true, _, _): failed.append(result.key ?? "")
                    default: Issue.record("unexpected removal result \(result)")
                    }
                }
            }
            pending = failed
        }
        #expect(pending.isEmpty, "removals still failing: \(pending.count)")

        // 4. A new configuration, backfilled through the faults.
        let changed = try backfillUntilSettled(bucket: bucket, config: configB)
        let firstChange = try #require(changed.first)
        #expect((firstChange["stale"] as? [String: Int])?["other-configuration"] == Self.count - deleted.count)

        // The faults were there all along.
        let counts = try await servers.proxyCounts()
        #expect(counts.faulted > counts.total / 20, "about one request in 15 fails: \(counts)")
        print("soak: \(counts.total) requests through the proxy, \(counts.faulted) faulted, \(counts.methods)")

        // 5. The last backfill, the faults off: it only reads.
        try await servers.setProxyRules([])
        let last = try ChildProcess.run(backfillArguments(bucket: bucket, config: configB), input: Data())
        #expect(last.status == 0, "\(last.errors)")
        let lastTally =
            (try JSONSerialization.jsonObject(with: last.output) as? [String: Any])?["tally"] as? [String: Any]
        #expect(lastTally?["upToDate"] as? Int == Self.count - deleted.count, "\(lastTally ?? [:])")
        let log = try await servers.proxyLog()
        #expect(log.filter { $0.method != "GET" && $0.method != "HEAD" }.isEmpty, "the last backfill wrote")
        #expect(log.filter { $0.method == "GET" }.count == 2, "two listing pages")
        #expect(log.filter { $0.method == "HEAD" }.count == Self.count - deleted.count, "a HEAD per source")

        // 6. The bucket is exactly what the manifests say.
        var sources: [String] = []
        try await direct.forEachPage(prefix: "uploads/") { page in
            sources += page.objects.map(\.key)
            return true
        }
        var outputs: Set<String> = []
        try await direct.forEachPage(prefix: "derived/") { page in
            outputs.formUnion(page.objects.map(\.key))
            return true
        }
        #expect(Set(sources) == Set((0..<Self.count).map(Self.key)).subtracting(deleted))
        let pipelineB = try Pipeline(json: Array(Self.configB.utf8))
        var known: Set<String> = []
        for source in sources {
            let keys = OutputKeys(sourceKey: source, sourcePrefix: "uploads/", output: pipelineB.config.output)
            guard let manifest = try await Manifest.read(from: direct, key: keys.manifestKey) else {
                Issue.record("no manifest for \(source)")
                continue
            }
            #expect(manifest.source.key == source && manifest.configHash == pipelineB.configHash)
            #expect(manifest.replaced == nil && manifest.derivatives.map(\.name) == ["t40"])
            for derivative in manifest.derivatives where !outputs.contains(derivative.key) {
                Issue.record("\(keys.manifestKey) names a missing file \(derivative.key)")
            }
            known.insert(keys.manifestKey)
            known.formUnion(manifest.derivatives.map(\.key))
        }
        let unknown = outputs.subtracting(known)
        #expect(unknown.isEmpty, "\(unknown.count) files no manifest knows, e.g. \(unknown.sorted().prefix(5))")
    }
}
