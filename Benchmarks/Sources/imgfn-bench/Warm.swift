import Dispatch
import Foundation
import Histogram
import ImagePipeline
import ImgfnBase

/// In-process, warm: the source bytes already in memory (as a warm function has them after its
/// S3 GET), libvips started, output encoded to memory. Latency per image one at a time, then
/// throughput with one worker per core.
enum Warm {
    /// One 320-wide JPEG, quality 80: what `imgfn resize --width 320` does. With `floor` (a JPEG),
    /// each image is paired with a run of libjpeg-turbo's floor, alternating which goes first.
    static func resize320(
        _ photo: Photo, root: String, iterations: Int, budgetMs: Double, floor: (@Sendable () throws -> Double)? = nil
    ) throws -> WarmResult {
        let source = try read(photo, root: root)
        return try measure(
            task: "resize-320", photo: photo, iterations: iterations, budgetMs: budgetMs, pairedWith: floor
        ) {
            _ = try ImageResizer.resize(
                source, ResizeOptions(width: 320), encode: EncodeOptions(format: .jpeg, quality: 80))
        }
    }

    /// The default derivative set, decoded once: what the function does per upload.
    static func deriveDefault(_ photo: Photo, root: String, iterations: Int, budgetMs: Double) throws -> WarmResult {
        let source = try read(photo, root: root)
        let pipeline = try Pipeline(.default)
        return try measure(task: "derive-default", photo: photo, iterations: iterations, budgetMs: budgetMs) {
            _ = try pipeline.derive(source)
        }
    }

    private static func read(_ photo: Photo, root: String) throws -> SourceBytes {
        guard let data = FileManager.default.contents(atPath: root + "/" + photo.path) else {
            throw BenchError("cannot read \(photo.path)")
        }
        return SourceBytes([UInt8](data))
    }

    /// Runs `work` once to warm up, then `iterations` times one after another (fewer when the
    /// latency phase would exceed `budgetMs`; at least 5), then as many again spread over one
    /// worker per core.
    ///
    /// With `reference`, every image in the latency phase is paired with one run of it (its time
    /// in ms), the one or the other first by turns, and the result carries the median of the
    /// per-pair ratios: whatever else the machine does over the phase slows both sides of a pair
    /// alike, where a ratio of two medians taken minutes apart would carry the drift.
    private static func measure(
        task: String, photo: Photo, iterations: Int, budgetMs: Double,
        pairedWith reference: (() throws -> Double)? = nil,
        _ work: @escaping @Sendable () throws -> Void
    ) throws -> WarmResult {
        try resetPeakRSS()
        let warmUp = nowMs()
        try work()  // first-use costs (codec tables, thread pool) are not per-image costs
        _ = try reference?()
        let iterations = min(iterations, max(5, Int(budgetMs / max(nowMs() - warmUp, 0.001))))
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var pairRatios: [Double] = []
        for index in 0..<iterations {
            let referenceFirst = index % 2 == 1
            let before = referenceFirst ? try reference?() : nil
            let start = nowMs()
            try work()
            let ms = nowMs() - start
            _ = histogram.record(UInt64((ms * 1000).rounded()))
            if let referenceMs = try before ?? reference?(), referenceMs > 0 { pairRatios.append(ms / referenceMs) }
        }
        // One image at a time is how the function works; the throughput phase below runs one per
        // core and would count several images' memory at once.
        let peakRSS = try ProcessMemory.mib("VmHWM")
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let perThread = max(1, iterations / threads)
        let failures = Failures()
        let start = nowMs()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<perThread {
                do { try work() } catch { failures.record(error) }
            }
        }
        let seconds = (nowMs() - start) / 1000
        if let error = failures.first { throw error }
        func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        return WarmResult(
            task: task, photo: photo.id, runs: iterations, p50Ms: ms(50), p90Ms: ms(90), p99Ms: ms(99),
            maxMs: Double(histogram.max) / 1000, imagesPerSecond: Double(threads * perThread) / seconds,
            threads: threads, peakRSSMiB: peakRSS, oursOverFloor: pairRatios.isEmpty ? nil : median(pairRatios))
    }

    /// Resets this process's peak RSS (VmHWM) to its current RSS, after returning freed heap to
    /// the system, so each task's peak is its own.
    private static func resetPeakRSS() throws {
        VipsRuntime.releaseFreeMemory()
        try ProcessMemory.resetPeak()
    }
}

/// The first error from the throughput workers.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []
    func record(_ error: any Error) { lock.withLock { errors.append(error) } }
    var first: (any Error)? { lock.withLock { errors.first } }
}
