import ArgumentParser
import FoundationEssentials
import ImagePipeline
import ImageService
import ImgfnBase
import S3Store

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

    @Option(help: "Pipeline configuration (JSON). Default: the built-in configuration.")
    var config: String?

    @Option(help: "The store: a directory (the embedded filesystem store), s3://BUCKET, or s3:// for each event's bucket.")
    var store: String

    @Option(help: "S3-compatible endpoint URL (MinIO, R2, a local server), e.g. http://127.0.0.1:9000.")
    var endpoint: String?

    @Flag(name: .customLong("path-style"), help: "Path-style S3 addressing (https://host/BUCKET/KEY).")
    var pathStyle = false

    @Option(help: "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() async throws {
        AtomicFile.installInterruptCleanup()
        let pipeline = try loadConfiguredPipeline(config)
        let payload: SourceBytes
        let decoded: DecodedEvent
        do {
            payload = try Input(path: event).read(limits: DecodeLimits(maxBytes: 6 << 20))
            decoded = try payload.withUnsafeBytes { (raw) throws(ImgfnError) in try EventDecoder.decode(raw) }
        } catch let error as ImgfnError {
            throw ExitStatus.report(error, subject: event == "-" ? "<stdin>" : event)
        }
        let handler = Handler(pipeline: pipeline, store: try makeStores())
        let results = await handler.handle(decoded)
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

    /// The bucket → store function for `--store`.
    func makeStores() throws -> @Sendable (String) -> any BlobStore {
        guard store.hasPrefix("s3://") else {
            let root = store
            return { _ in FileSystemBlobStore(root: root) }
        }
        let fixedBucket = String(store.dropFirst("s3://".count)).split(separator: "/").first.map(String.init)
        let (endpoint, region) = (self.endpoint, self.region)
        let addressing: S3Configuration.Addressing? = pathStyle ? .pathStyle : nil
        @Sendable func configuration(_ bucket: String) throws(ImgfnError) -> S3Configuration {
            try S3Configuration(bucket: bucket, region: region, endpoint: endpoint, addressing: addressing)
        }
        do {
            _ = try configuration(fixedBucket ?? "placeholder")  // endpoint and credentials checked now
        } catch {
            throw ExitStatus.report(error, subject: store)
        }
        return { bucket in
            switch Result(catching: { () throws(ImgfnError) in try configuration(fixedBucket ?? bucket) }) {
            case .success(let configuration): S3BlobStore(configuration: configuration)
            case .failure(let error): UnusableStore(error: error)
            }
        }
    }

    static func line(_ result: RecordResult) -> String {
        let subject = result.key.map { "\(result.bucket ?? "")/\($0)" } ?? (result.messageId ?? "-")
        switch result.outcome {
        case .ok(let files, let manifest, let omitted):
            let ms = Int(result.metrics.fetchMilliseconds + result.metrics.decodeMilliseconds + result.metrics.deriveMilliseconds
                + result.metrics.storeMilliseconds)
            let left = omitted.isEmpty ? "" : "; omitted \(omitted.joined(separator: "; "))"
            return "ok       \(subject): \(files) files, manifest \(manifest) (\(ms) ms)\(left)"
        case .skipped(let reason):
            return "skipped  \(subject): \(reason)"
        case .failed(let transient, let code, let reason):
            return "failed   \(subject): \(transient ? "transient" : "permanent") \(code): \(reason)"
        }
    }
}

/// Loads `--config FILE` (relative paths inside resolved against its directory), or the
/// built-in configuration, lets `adjust` change it, and validates it; exits 78 naming the problem.
func loadConfiguredPipeline(_ config: String?, adjust: (inout PipelineConfig) -> Void = { _ in }) throws -> Pipeline {
    let directory = config.map { $0.contains("/") ? String($0[..<$0.lastIndex(of: "/")!]) : "." }
    do {
        var parsed = PipelineConfig.default
        if let config {
            let bytes = try SourceBytes.read(path: config, maxBytes: 1 << 20)
            parsed = try bytes.withUnsafeBytes { (raw) throws(ImgfnError) in
                try PipelineConfig.parse(json: raw, baseDirectory: directory)
            }
        }
        adjust(&parsed)
        return try Pipeline(parsed, baseDirectory: directory)
    } catch let error as ImgfnError {
        throw ExitStatus.report(error, subject: config ?? "configuration")
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a sample event, like `sam local generate-event`.",
        discussion: "Shapes: \(EventSamples.Shape.allCases.map(\.rawValue).joined(separator: ", ")). Keys are form-encoded the way S3 does."
    )

    @Argument(help: "The event shape: \(EventSamples.Shape.allCases.map(\.rawValue).joined(separator: ", ")).")
    var shape: String

    @Option(help: "Bucket name.")
    var bucket: String

    @Option(help: "Object key (as stored; it is encoded for S3 notifications).")
    var key: String

    @Option(help: "Object size in bytes.")
    var size: Int = 1024

    @Option(help: "Object ETag (without quotes).")
    var etag = "0123456789abcdef0123456789abcdef"

    func validate() throws {
        guard EventSamples.Shape(rawValue: shape) != nil else {
            throw ValidationError("unknown shape \"\(shape)\"; one of \(EventSamples.Shape.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        print(EventSamples.make(EventSamples.Shape(rawValue: shape)!, bucket: bucket, key: key, size: size, etag: etag))
    }
}

/// A store whose configuration failed (e.g. an event names an invalid bucket): every call
/// reports that, as a failure of the record rather than of the process.
struct UnusableStore: BlobStore {
    let error: ImgfnError
    func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject { throw error }
    func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? { throw error }
    func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) { throw error }
}
