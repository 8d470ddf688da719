import Foundation
import ImagePipeline
import ImageService

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
            events.append(EventSamples.make(.s3Put, bucket: ColdInit.bucketName, key: key, size: photo.bytes))
        }
        let bootstrap = try ColdInit.relocate(bundleRoot: bundleRoot, scratch: scratch)

        let server = try RuntimeAPIServer()
        defer { server.stop() }
        server.reset(events: [])
        let log = scratch + "/bootstrap.log"
        let pid = try Spawn.start(
            [bootstrap], environment: ColdInit.bootstrapEnvironment(port: server.port, bucket: bucket), output: log)
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
        let isNext = RuntimeAPIServer.isNext
        let isResult = RuntimeAPIServer.isResult

        // One event at a time, each handed to a `/next` already waiting, with the bootstrap's
        // peak RSS reset before it: every invocation's own peak, and its time from the answer.
        var times: [Double] = []
        var peaks: [Double] = []
        _ = try awaitRequest("first /next", count: 1, where: isNext)
        for index in 1...invocations {
            try ProcessMemory.resetPeak(of: "\(pid)")
            let handed = nowMs()
            server.enqueue(events[index - 1])
            let result = try awaitRequest("result \(index)", count: index, where: isResult)
            let written = ColdInit.written(in: result)
            guard result.path.hasSuffix("/response"), written == expected else {
                throw BenchError(
                    "warm function: invocation \(index): \(result.path) \(result.bodyText) "
                        + "(\(expected) derivatives expected); output:\n" + Spawn.tail(of: log))
            }
            times.append(result.receivedMs - handed)
            // Its next `/next`: done with this one, as Lambda would freeze it.
            _ = try awaitRequest("/next after \(index)", count: index + 1, where: isNext)
            peaks.append(try ProcessMemory.mib("VmHWM", of: "\(pid)"))
        }
        return FunctionResult(
            task: "derive-default", photo: photo.id, invocations: invocations, firstMs: times[0],
            warm: Timing(Array(times.dropFirst())), derivativesPerInvocation: expected,
            peakRSSMedianMiB: median(peaks), peakRSSMaxMiB: peaks.max() ?? 0,
            idleRSSMiB: try ProcessMemory.mib("VmRSS", of: "\(pid)"))
    }
}
