import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline
import ImageService
import ImgfnBase
import ServiceWiring

#if canImport(Glibc)
    import Glibc
#endif

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Run the Lambda function's handler on an event, locally.",
        discussion: """
            Decodes the event (an S3 notification, an SQS batch of them, SNS-in-SQS, or an \
            EventBridge "Object Created" event) and runs exactly the handler the Lambda \
            function runs, against a store: --store DIR uses that directory as the bucket \
            (whatever bucket the event names); --store s3://BUCKET uses S3 (or any S3-compatible \
            service with --endpoint), and --store s3:// each event's own bucket. S3 credentials \
            come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Prints \
            one line per record, or --json.

            Exit status: 0 when every record is ok or skipped; 65 when a record failed \
            permanently (it is recorded under the configuration's failure key); 75 when one \
            failed transiently (retrying may succeed); 78 for an invalid configuration; 65 \
            for an event that is not valid JSON or not a known shape.
            """
    )

    @Option(help: "The event JSON file, or - for standard input.")
    var event: String

    @OptionGroup var config: ConfigOption

    @OptionGroup var storage: StoreOptions

    @Option(help: "The function's SQS queue, for reconcile events (IMGFN_QUEUE_URL in the function).")
    var queue: String?

    @OptionGroup var bus: EventBusOption

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() async throws {
        AtomicFile.installInterruptCleanup()
        let pipeline = try config.loadPipeline()
        let payload: SourceBytes
        let decoded: DecodedEvent
        do {
            payload = try Input(path: event).read(limits: DecodeLimits(maxBytes: 6 << 20))
            decoded = try payload.withUnsafeBytes { (raw) throws(ImgfnError) in try EventDecoder.decode(raw) }
        } catch let error as ImgfnError {
            throw ExitStatus.report(error, subject: event == "-" ? "<stdin>" : event)
        }
        var handler = Handler(pipeline: pipeline, store: try storage.makeStores())
        handler.queue = try queue.map { url in try storage.makeQueue(url: url, subject: "--queue") }
        handler.events = try bus.makeSink(region: storage.region)
        // As in the function: a trace in _X_AMZN_TRACE_ID goes with every S3 request.
        let trace = ProcessInfo.processInfo.environment["_X_AMZN_TRACE_ID"]
        let results = await TraceContext.$traceID.withValue(trace) { await handler.handle(decoded) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            for result in results { print(Self.line(result)) }
        }
        if results.contains(where: \.isTransientFailure) { throw ExitCode(ExitStatus.temporaryFailure) }
        if results.contains(where: \.isFailure) { throw ExitCode(ExitStatus.badImage) }
    }

    static func line(_ result: RecordResult) -> String {
        let subject = result.key.map { "\(result.bucket ?? "")/\($0)" } ?? (result.messageId ?? "-")
        switch result.outcome {
        case .ok(let files, let manifest, let omitted, let removed):
            let ms = Int(
                result.metrics.fetchMilliseconds + result.metrics.decodeMilliseconds + result.metrics.deriveMilliseconds
                    + result.metrics.encodeMilliseconds
                    + result.metrics.storeMilliseconds)
            let left = omitted.isEmpty ? "" : "; omitted \(omitted.joined(separator: "; "))"
            let stale = removed == 0 ? "" : "; removed \(removed) files of the replaced set"
            return "ok       \(subject): \(files) files, manifest \(manifest) (\(ms) ms)\(left)\(stale)"
        case .reconciled(let sweep, let step, let listed, let enqueued, let finished):
            return "reconciled \(subject): sweep \(sweep) step \(step): \(listed) listed, \(enqueued) enqueued"
                + (finished ? "; the sweep is done" : "; the next step is queued")
        case .removed(let files, let manifest):
            guard let manifest else { return "removed  \(subject): nothing had been derived from it" }
            return "removed  \(subject): \(files) files and manifest \(manifest)"
        case .skipped(let reason):
            return "skipped  \(subject): \(reason)"
        case .failed(let transient, let code, let reason):
            return "failed   \(subject): \(transient ? "transient" : "permanent") \(code): \(reason)"
        }
    }
}
