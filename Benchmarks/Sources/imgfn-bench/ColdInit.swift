import Foundation
import ImagePipeline
import ImageService

#if canImport(Glibc)
    import Glibc
#endif

/// What the cold-init measurement runs, and where.
struct ColdInitSetup {
    /// `build/lambda/root`: `bootstrap` and `lib/`. The bootstrap's ELF interpreter is
    /// `/var/task/lib/ld-linux-x86-64.so.2` and its DT_RPATH `/var/task/lib:$ORIGIN/lib` (see
    /// `scripts/package-lambda.sh`); the measurement runs a relocated copy.
    var bundleRoot: String
    /// A bootstrap linked with Debian's libvips (`.build/release/bootstrap`), run as is; skipped
    /// when nil or absent.
    var debianBootstrap: String?
    /// The compiled `Benchmarks/tools/next-client.c`.
    var cClient: String
    /// The JPEG the one-photo S3 event names.
    var photoPath: String
    /// Measured runs per variant (the report wants ≥ 20), after one warm-up run each.
    var runs: Int
    /// A directory for the relocated bundle, the bucket and the logs.
    var scratch: String
}

/// Cold init: the real `bootstrap` started against a Runtime API server in the harness, timed
/// from just before the spawn to the server receiving its first `/next` (init) and its first
/// `/response` for a one-photo S3 event (cold first image). A trivial C process doing the same
/// `GET /next` (`next-client`) is timed the same way: the floor for process start.
///
/// Variants alternate run by run (bundle, debian, c-client, bundle, …) so that drift in the
/// machine's state is spread over all of them.
enum ColdInit {
    /// How long one run may take before it is a failure.
    static let runTimeoutMs = 30_000.0
    static let bucketName = "bench"
    static let photoKey = "uploads/bench/photo.jpg"
    /// The one derivative the function writes per run: a 320-wide JPEG.
    static let pipelineConfig = #"{"derivatives":[{"name":"w320","width":320,"formats":["jpeg"]}]}"#

    /// One kind of process to time.
    private struct Variant {
        var name: String
        var description: String
        var executable: String
        var environment: [String: String]
        /// Handles the S3 event (the bootstraps), rather than only asking for it (the C client).
        var handlesEvent: Bool
    }

    /// One run's figures, in ms from just before the spawn.
    private struct Sample {
        var initMs: Double
        var firstImageMs: Double?
    }

    /// Runs every variant `setup.runs` times (after a warm-up run each); one result per variant.
    static func measure(_ setup: ColdInitSetup) throws -> [ColdInitResult] {
        guard setup.runs > 0 else { throw BenchError("cold init: runs must be at least 1") }
        let files = FileManager.default
        let bucket = setup.scratch + "/bucket"
        try? files.removeItem(atPath: bucket)
        try files.createDirectory(atPath: bucket + "/uploads/bench", withIntermediateDirectories: true)
        // Copies and sizes the file itself, not a symlink to it.
        let photo = URL(fileURLWithPath: setup.photoPath).resolvingSymlinksInPath().path
        try files.copyItem(atPath: photo, toPath: bucket + "/" + photoKey)
        let photoBytes = try files.attributesOfItem(atPath: photo)[.size] as? Int ?? 0

        let server = try RuntimeAPIServer()
        defer { server.stop() }
        var environment = bootstrapEnvironment(port: server.port, bucket: bucket)
        environment["IMGFN_CONFIG"] = pipelineConfig
        var variants = [
            Variant(
                name: "bundle", description: "build/lambda bundle: libvips 8.18 wheel, bundled glibc",
                executable: try relocate(bundleRoot: setup.bundleRoot, scratch: setup.scratch),
                environment: environment, handlesEvent: true)
        ]
        if let debian = setup.debianBootstrap, files.isExecutableFile(atPath: debian) {
            variants.append(
                Variant(
                    name: "debian", description: "linked with Debian's libvips and its shared libraries",
                    executable: debian, environment: environment, handlesEvent: true))
        }
        variants.append(
            Variant(
                name: "c-client", description: "trivial C process: exec → GET /next", executable: setup.cClient,
                environment: ["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(server.port)"], handlesEvent: false))

        let event = EventSamples.make(.s3Put, bucket: bucketName, key: photoKey, size: photoBytes)
        func run(_ variant: Variant) throws -> Sample {
            try? files.removeItem(atPath: bucket + "/derived")
            return try runOnce(variant, event: event, server: server, log: setup.scratch + "/\(variant.name).log")
        }
        // Warm-up (page cache, first-touch costs), unmeasured; it also shows each one starts.
        for variant in variants { _ = try run(variant) }
        var samples = Array(repeating: [Sample](), count: variants.count)
        for _ in 0..<setup.runs {
            for (index, variant) in variants.enumerated() { samples[index].append(try run(variant)) }
        }

        return zip(variants, samples).map { variant, samples in
            let initTiming = Timing(samples.map(\.initMs))
            let firstImage = samples.compactMap(\.firstImageMs)
            let imageTiming = firstImage.isEmpty ? nil : Timing(firstImage)
            return ColdInitResult(
                variant: variant.name, description: variant.description, runs: samples.count,
                initMedianMs: initTiming.medianMs, initP90Ms: initTiming.p90Ms,
                firstImageMedianMs: imageTiming?.medianMs, firstImageP90Ms: imageTiming?.p90Ms)
        }
    }

    /// What a bootstrap under the harness's Runtime API server runs with: a filesystem store
    /// at `bucket`, the built-in derivative set unless `IMGFN_CONFIG` is added.
    static func bootstrapEnvironment(port: Int, bucket: String) -> [String: String] {
        [
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(port)",
            "AWS_LAMBDA_FUNCTION_NAME": "imgfn-bench",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_REGION": "us-east-1",
            "IMGFN_STORE": "file://\(bucket)",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
    }

    /// Copies the bundle to `scratch/bundle` and points the copy's interpreter and DT_RPATH at
    /// the copy's `lib/`: the same binary with the same libraries, runnable outside Lambda's
    /// `/var/task`. Returns the copy's `bootstrap`.
    static func relocate(bundleRoot: String, scratch: String) throws -> String {
        let copy = scratch + "/bundle"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: bundleRoot, toPath: copy)
        let bootstrap = copy + "/bootstrap"
        let log = scratch + "/patchelf.log"
        let pid = try Spawn.start(
            [
                "patchelf", "--set-interpreter", copy + "/lib/ld-linux-x86-64.so.2", "--force-rpath", "--set-rpath",
                copy + "/lib", bootstrap,
            ], output: log)
        guard Spawn.wait(pid) == 0 else { throw BenchError("patchelf failed on \(bootstrap):\n\(Spawn.tail(of: log))") }
        return bootstrap
    }

    /// Starts `variant` with `event` queued (if it handles one) and times it; the process is
    /// killed once it asks for a second event (idle), or has exited on its own (the C client).
    private static func runOnce(_ variant: Variant, event: String, server: RuntimeAPIServer, log: String) throws
        -> Sample
    {
        server.reset(events: variant.handlesEvent ? [event] : [])
        let start = nowMs()
        let pid = try Spawn.start([variant.executable], environment: variant.environment, output: log)
        // Also reaps the C client, which has exited (or is exiting) by then.
        defer {
            kill(pid, SIGKILL)
            Spawn.wait(pid)
        }
        func awaitRequest(_ what: String, count: Int = 1, where match: (RuntimeAPIServer.Request) -> Bool) throws
            -> RuntimeAPIServer.Request
        {
            try server.awaitRequest(
                what, count: count, from: pid, until: start + runTimeoutMs, context: "cold init, \(variant.name)",
                log: log, where: match)
        }
        let isNext = RuntimeAPIServer.isNext

        let firstNext = try awaitRequest("first /next", where: isNext)
        guard variant.handlesEvent else { return Sample(initMs: firstNext.receivedMs - start) }
        let result = try awaitRequest("response", where: RuntimeAPIServer.isResult)
        guard result.path.hasSuffix("/response"), written(in: result) == 1 else {
            throw BenchError(
                "cold init, \(variant.name): \(result.path) \(result.bodyText) (one derivative written expected); "
                    + "output:\n\(Spawn.tail(of: log))")
        }
        _ = try awaitRequest("second /next", count: 2, where: isNext)
        return Sample(initMs: firstNext.receivedMs - start, firstImageMs: result.receivedMs - start)
    }

    /// `derivativesWritten` in an invocation's summary: 0 would mean the source was skipped,
    /// not derived.
    static func written(in response: RuntimeAPIServer.Request) -> Int? {
        let summary = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return summary?["derivativesWritten"] as? Int
    }

}
