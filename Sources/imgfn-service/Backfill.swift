import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline
import ImageService
import ImgfnBase
import ServiceWiring
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Bring a bucket's derivatives up to date with its sources.",
        discussion: """
            Lists the configuration's source prefix (S3 ListObjectsV2, or the directory) and \
            compares each source with its manifest by a HEAD: stale are sources without a \
            manifest, with a manifest of another configuration or of other bytes (another \
            ETag), with a failure record of an earlier version or configuration, or whose \
            replaced set is not fully removed. Sources refused before (a failure record for \
            their current bytes and configuration) are not retried. Then, by default, derives \
            what is stale here, --jobs at once, with exactly the handler the function runs; \
            --enqueue sends one S3-notification-shaped message per stale source to the \
            function's SQS queue instead, so the deployed function does the work; \
            --batch-manifest writes their keys as an S3 Batch Operations manifest (CSV); \
            --dry-run only lists them.

            An interrupted run is resumed by running it again: finished sources compare as \
            current. A run with nothing stale makes no write. Progress goes to stderr on a \
            terminal; each derived or failed source is a line on stdout, then the summary \
            (or --json).

            Exit status: 0 when everything is up to date or was brought up to date (sources \
            refused before included); 65 when a source failed permanently in this run (it is \
            recorded); 75 when one failed transiently or listing failed (run again); 64 for bad \
            options; 78 for an invalid configuration.
            """
    )

    @OptionGroup var config: ConfigOption

    @OptionGroup var storage: StoreOptions

    @Option(help: "Sources derived at once (default: the number of cores).")
    var jobs: Int?

    @Flag(name: .customLong("dry-run"), help: "List what is stale; change nothing.")
    var dryRun = false

    @Option(help: "Send each stale source to this SQS queue (the function's) instead of deriving here.")
    var enqueue: String?

    @Option(
        name: .customLong("batch-manifest"),
        help: "Write the stale sources to this S3 Batch Operations manifest (CSV) instead of deriving here.")
    var batchManifest: String?

    @OptionGroup var bus: EventBusOption

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if [dryRun, enqueue != nil, batchManifest != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--dry-run, --enqueue and --batch-manifest exclude each other")
        }
        if storage.store == "s3://" || storage.store == "s3:///" {
            throw ValidationError("--store must name the bucket to backfill: s3://BUCKET")
        }
    }

    /// The bucket the sources are in: the S3 bucket, or the directory's name.
    var bucket: String {
        if let location = try? StoreLocation(parsing: storage.store, plainPaths: true),
            case .s3(let bucket?) = location
        {
            return bucket
        }
        let trimmed = storage.store.hasSuffix("/") ? String(storage.store.dropLast()) : storage.store
        return trimmed.split(separator: "/").last.map(String.init) ?? "local"
    }

    func run() async throws {
        AtomicFile.installInterruptCleanup()
        let pipeline = try config.loadPipeline()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workers = jobs ?? cores
        // Sources in parallel rather than one source's files: decodes do not split.
        var handler = Handler(
            pipeline: pipeline, jobs: Swift.max(1, cores / workers), store: try storage.makeStores())
        handler.events = try bus.makeSink(region: storage.region)
        let queue = try enqueue.map { url in try storage.makeQueue(url: url, subject: "--enqueue") }
        let bucket = bucket
        let report = BackfillReport(json: json, dryRun: dryRun)
        var csv: PartialFile?
        if let batchManifest {
            do throws(ImgfnError) { csv = try PartialFile(path: batchManifest) } catch {
                throw ExitStatus.report(error, subject: batchManifest)
            }
        }
        let work: Backfill.Work
        if let queue {
            work = .handOff { stale throws(ImgfnError) in
                try await queue.send(stale.map { WorkMessage.body(bucket: bucket, object: $0.object) })
            }
        } else if let csv {
            work = .handOff { stale throws(ImgfnError) in
                try csv.append(stale.map { BatchManifest.line(bucket: bucket, key: $0.object.key) + "\n" }.joined())
            }
        } else if dryRun {
            work = .handOff { _ in }
        } else {
            work = .derive
        }
        let backfill = Backfill(handler: handler, bucket: bucket, jobs: workers)
        let clock = ContinuousClock()
        let start = clock.now
        let tally: Backfill.Tally
        do {
            tally = try await backfill.run(work, progress: { report.progress($0) }).tally
        } catch {
            report.finishProgress()
            csv?.discard()
            throw ExitStatus.report(
                error, subject: error.code == .outputUnwritable ? batchManifest ?? "" : storage.store)
        }
        report.finishProgress()
        if let csv, let batchManifest {
            do { try csv.finish() } catch { throw ExitStatus.report(error, subject: batchManifest) }
        }
        let mode = queue != nil ? "enqueue" : batchManifest != nil ? "batch-manifest" : dryRun ? "dry-run" : "derive"
        report.printSummary(tally, mode: mode, seconds: (clock.now - start).seconds)
        if tally.transient > 0 { throw ExitCode(ExitStatus.temporaryFailure) }
        if tally.failed > 0 { throw ExitCode(ExitStatus.badImage) }
    }
}

/// `imgfn backfill`'s output: a progress line on a terminal (stderr), a line per derived or
/// failed source and a stale line per source in a dry run (stdout), and the summary.
final class BackfillReport: Sendable {
    private let json: Bool
    private let dryRun: Bool
    private let terminal: Bool
    private let failures = Mutex<[RecordResult]>([])
    private let staleKeys = Mutex<[(key: String, staleness: String)]>([])

    init(json: Bool, dryRun: Bool) {
        self.json = json
        self.dryRun = dryRun
        terminal = isatty(diagnosticsFD) != 0
    }

    func progress(_ event: Backfill.Progress) {
        switch event {
        case .stale(let object, let why):
            if dryRun {
                if json {
                    staleKeys.withLock { $0.append((object.key, why.rawValue)) }
                } else {
                    emit("stale    \(object.key): \(why.rawValue)")
                }
            }
        case .handled(_, _, let result):
            if result.isFailure { failures.withLock { $0.append(result) } }
            if !json { emit(Invoke.line(result)) }
        case .page(let tally):
            if terminal {
                printError("\r\u{1B}[K" + Self.counts(tally), newline: false)
            }
        }
    }

    /// A stdout line, after clearing the progress line on a terminal.
    private func emit(_ line: String) {
        if terminal { printError("\r\u{1B}[K", newline: false) }
        print(line)
    }

    func finishProgress() {
        if terminal { printError("\r\u{1B}[K", newline: false) }
    }

    static func counts(_ tally: Backfill.Tally) -> String {
        "listed \(tally.listed) · up to date \(tally.upToDate) · stale \(tally.staleTotal) · derived \(tally.derived)"
            + " · failed \(tally.failed)"
    }

    func printSummary(_ tally: Backfill.Tally, mode: String, seconds: Double) {
        if json {
            struct Failure: Encodable { var key: String, transient: Bool, code: String, reason: String }
            struct Stale: Encodable { var key: String, staleness: String }
            struct Output: Encodable {
                var mode: String
                var tally: Backfill.Tally
                var seconds: Double
                var failures: [Failure]
                var stale: [Stale]?
            }
            let failures = failures.withLock { $0 }.compactMap { result -> Failure? in
                guard case .failed(let transient, let code, let reason) = result.outcome else { return nil }
                return Failure(key: result.key ?? "", transient: transient, code: "\(code)", reason: reason)
            }
            let stale = dryRun ? staleKeys.withLock { $0 }.map { Stale(key: $0.key, staleness: $0.staleness) } : nil
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let output = Output(
                mode: mode, tally: tally, seconds: (seconds * 1000).rounded() / 1000, failures: failures, stale: stale)
            if let data = try? encoder.encode(output) { print(String(decoding: data, as: UTF8.self)) }
            return
        }
        let reasons = tally.stale.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var lines = [
            "listed         \(tally.listed)" + (tally.notInputs > 0 ? " (\(tally.notInputs) not inputs)" : ""),
            "up to date     \(tally.upToDate)",
            "failed before  \(tally.failedBefore)",
            "stale          \(tally.staleTotal)" + (reasons.isEmpty ? "" : " (\(reasons))"),
        ]
        switch mode {
        case "derive":
            lines.append("derived        \(tally.derived)" + (tally.skipped > 0 ? " (\(tally.skipped) skipped)" : ""))
        case "enqueue": lines.append("enqueued       \(tally.handedOff)")
        case "batch-manifest": lines.append("in manifest    \(tally.handedOff)")
        default: break
        }
        lines.append("failed         \(tally.failed)" + (tally.transient > 0 ? " (\(tally.transient) transient)" : ""))
        lines.append("time           \(Formatting.fixed(seconds, 2)) s")
        print(lines.joined(separator: "\n"))
    }
}

/// A file written a piece at a time beside its destination and renamed over it when finished,
/// so the destination is whole or absent (the Batch Operations manifest of a run that may hold
/// millions of keys, never all of them in memory).
final class PartialFile: Sendable {
    let path: String
    let temporary: String
    let fd: Int32

    /// - Throws: `.outputUnwritable` when the file cannot be created.
    init(path: String) throws(ImgfnError) {
        self.path = path
        temporary = path + ".imgfn-partial"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ImgfnError(.outputUnwritable, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
    }

    func append(_ text: String) throws(ImgfnError) {
        guard writeAll(fd, Array(text.utf8)) else {
            throw ImgfnError(.outputUnwritable, "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
    }

    /// Closes the file and puts it in place.
    func finish() throws(ImgfnError) {
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImgfnError(.outputUnwritable, "cannot write \(path): \(reason)")
        }
    }

    /// Closes and removes the unfinished file.
    func discard() {
        close(fd)
        unlink(temporary)
    }
}
