import Foundation
import ImagePipeline

#if canImport(Glibc)
import Glibc
#endif

/// The Lambda function kept warm, as it runs on Lambda: the bundle's `bootstrap` started once
/// against the harness's Runtime API server and handed one-photo S3 events one after another,
/// deriving the default set to a filesystem store. Each event names its own copy of the photo,
/// so none is skipped as already derived.
///
/// Per invocation: from the event handed to a waiting `/next` to the `/response`, and the
/// bootstrap's peak RSS (VmHWM, reset before each event). The largest of those peaks is what
/// Lambda reports as "Max Memory Used". Then its RSS while it waits for the next event.
enum WarmFunction {
    static let bucketName = "bench"

    static func measure(bundleRoot: String, photo: Photo, root: String, invocations: Int, scratch: String) throws
        -> FunctionResult
    {
        guard invocations >= 2 else { throw BenchError("warm function: at least 2 invocations") }
        let files = FileManager.default
        try? files.removeItem(atPath: scratch)
        let bucket = scratch + "/bucket"
        try files.createDirectory(atPath: bucket + "/uploads/bench", withIntermediateDirectories: true)
        defer { try? files.removeItem(atPath: bucket) }
        let source = URL(fileURLWithPath: root + "/" + photo.path).resolvingSymlinksInPath().path
        var events: [String] = []
        for index in 1...invocations {
            let key = "uploads/bench/\(photo.id)-\(index).jpg"
            try files.copyItem(atPath: source, toPath: bucket + "/" + key)
            events.append(EventSamples.make(.s3Put, bucket: bucketName, key: key, size: photo.bytes))
        }
        let bootstrap = try ColdInit.relocate(bundleRoot: bundleRoot, scratch: scratch)

        let server = try RuntimeAPIServer()
        defer { server.stop() }
        server.reset(events: [])
        let log = scratch + "/bootstrap.log"
        let pid = try Spawn.start([bootstrap], environment: [
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(server.port)",
            "AWS_LAMBDA_FUNCTION_NAME": "imgfn-bench",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_REGION": "us-east-1",
            "IMGFN_STORE": "file://\(bucket)",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ], output: log)
        defer {
            kill(pid, SIGKILL)
            Spawn.wait(pid)
        }

        let expected = WholeProcess.DerivativeSetTask.defaultSet.outputs.count
        let deadline = nowMs() + ColdInit.runTimeoutMs * Double(invocations)
        func awaitRequest(_ what: String, count: Int, where match: (RuntimeAPIServer.Request) -> Bool) throws
            -> RuntimeAPIServer.Request
        {
            try server.awaitRequest(
                what, count: count, from: pid, until: deadline, context: "warm function", log: log, where: match)
        }
        let isNext = RuntimeAPIServer.isNext, isResult = RuntimeAPIServer.isResult

        // One event at a time, each handed to a `/next` already waiting, with the bootstrap's
        // peak RSS reset before it: every invocation's own peak, and its time from the answer.
        var times: [Double] = [], peaks: [Double] = []
        _ = try awaitRequest("first /next", count: 1, where: isNext)
        for index in 1...invocations {
            try resetPeakRSS(of: pid)
            let handed = nowMs()
            server.enqueue(events[index - 1])
            let result = try awaitRequest("result \(index)", count: index, where: isResult)
            let written = ColdInit.written(in: result)
            guard result.path.hasSuffix("/response"), written == expected else {
                throw BenchError("warm function: invocation \(index): \(result.path) \(result.bodyText) "
                    + "(\(expected) derivatives expected); output:\n" + Spawn.tail(of: log))
            }
            times.append(result.receivedMs - handed)
            // Its next `/next`: done with this one, as Lambda would freeze it.
            _ = try awaitRequest("/next after \(index)", count: index + 1, where: isNext)
            peaks.append(try kibField("VmHWM", in: status(of: pid)) / 1024)
        }
        return FunctionResult(
            task: "derive-default", photo: photo.id, invocations: invocations, firstMs: times[0],
            warm: Timing(Array(times.dropFirst())), derivativesPerInvocation: expected,
            peakRSSMedianMiB: median(peaks), peakRSSMaxMiB: peaks.max() ?? 0,
            idleRSSMiB: try kibField("VmRSS", in: status(of: pid)) / 1024)
    }

    private static func status(of pid: pid_t) throws -> String {
        try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    }

    /// Sets the process's VmHWM back to its current RSS.
    private static func resetPeakRSS(of pid: pid_t) throws {
        guard let handle = FileHandle(forWritingAtPath: "/proc/\(pid)/clear_refs") else {
            throw BenchError("cannot open /proc/\(pid)/clear_refs to reset the peak RSS")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data("5".utf8))
    }

    /// A `Name:   1234 kB` line of /proc/PID/status.
    static func kibField(_ name: String, in status: String) throws -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { throw BenchError("no \(name) in /proc status") }
        return kib
    }
}
