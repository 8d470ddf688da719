import FoundationEssentials
import ImagePipeline
import ImageRequests
import ImageService
import ImgfnBase
import ServiceWiring

/// The function's settings, read once from the environment at start-up, before the first
/// invocation. Anything invalid is reported to `/runtime/init/error` as
/// `Runtime.InvalidConfiguration` and the process exits 1.
///
/// - `AWS_LAMBDA_RUNTIME_API`: `host:port` of the Runtime API (set by Lambda; required).
/// - `IMGFN_CONFIG`: the pipeline configuration: the JSON document itself when it starts with
///   `{`, else the path of a JSON file (relative paths inside it resolve against the file's
///   directory; an inline document's against `LAMBDA_TASK_ROOT`). Unset or empty: the
///   built-in configuration.
/// - `IMGFN_STORE`: where objects are read and written. `s3://` (the default): each event's
///   own bucket; `s3://BUCKET`: that bucket for every event; `file:///abs/dir`: one directory
///   serves as every bucket (local runs, tests).
/// - `IMGFN_S3_ENDPOINT`: base URL of an S3-compatible service, `http(s)://host[:port]`;
///   unset: AWS.
/// - `IMGFN_S3_PATH_STYLE`: `1` forces path-style requests (`host/BUCKET/KEY`); unset or `0`
///   chooses (path-style for IP or `localhost` endpoints and non-DNS bucket names).
/// - `AWS_REGION`: the buckets' region (else `AWS_DEFAULT_REGION`, else `us-east-1`).
/// - `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: S3 credentials (Lambda
///   sets them from the execution role). Required for S3 stores; never logged.
/// - `IMGFN_DEADLINE_MARGIN_MS`: stop starting records when less than this many milliseconds
///   remain before the invocation's deadline. Default: max(2000, 10 % of the time left when
///   the invocation arrives), capped at half of that time.
/// - `IMGFN_QUEUE_URL`: the function's own SQS queue, where the scheduled reconcile sends
///   stale sources and its next step. Unset: a reconcile event fails, saying so.
/// - `IMGFN_RECONCILE_PAGES`: listing pages (of 1000 objects) per reconcile step; default 1.
/// - `IMGFN_EVENT_BUS`: an EventBridge bus (name or ARN) to put `Derivatives Created` /
///   `Derivatives Removed` events on; unset: none are emitted. `IMGFN_EVENTS_ENDPOINT`: an
///   EventBridge-compatible endpoint instead of AWS's (local tests).
/// - HTTP events (API Gateway HTTP API, Function URL; README "Serving images on demand"):
///   `IMGFN_SIGNING_KEY`, `IMGFN_SIGNING_SALT` (hex, comma-separated pairs to rotate) and
///   `IMGFN_SIGNATURE_SIZE` for imgproxy-style URLs; `IMGFN_INSECURE_UNSIGNED=1` accepts any
///   signature; `IMGFN_SERVE_BUCKET` is the bucket requests read (default: the bucket of
///   `IMGFN_STORE=s3://BUCKET`; required with `s3://` to serve processing URLs' `s3://`
///   sources and presets); `IMGFN_SERVE_CACHE_CONTROL` (default `public, max-age=86400`);
///   `IMGFN_WRITE_THROUGH=0` stores no rendered results; `IMGFN_FUNCTION_URL_STREAMING=0`
///   answers Function URL events buffered (for a URL with `InvokeMode: BUFFERED`);
///   `IMGFN_RENDER_TIMEOUT_MS` (default 30 000) stops a render with a 504, as does the
///   invocation's deadline less `IMGFN_DEADLINE_MARGIN_MS`, whichever comes first.
/// - `AWS_LAMBDA_FUNCTION_NAME`: the `FunctionName` dimension of the metrics (set by Lambda).
/// - `AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`: see `LogConfiguration`.
/// - `IMGFN_TEST_TRANSIENT_KEYS`, `IMGFN_TEST_FETCH_DELAY_MS`: **test only**, read only by
///   debug builds (`IMGFN_FAULT_INJECTION`, which the tests run); see `FaultInjection`. The
///   release build (the Lambda bundle) has no fault injection at all.
struct FunctionConfiguration: Sendable {
    #if IMGFN_FAULT_INJECTION
        /// Faults injected into the store, for the bootstrap's own process tests only: a
        /// transient failure cannot otherwise be produced on demand on a filesystem store, nor a
        /// record slow enough to cross a deadline. Never set these in a deployment.
        ///
        /// - `IMGFN_TEST_TRANSIENT_KEYS=k1,k2`: every store operation on those keys fails with
        ///   `.storeUnavailable` (a transient failure).
        /// - `IMGFN_TEST_FETCH_DELAY_MS=N`: every object fetch (GET) takes N ms longer.
        struct FaultInjection: Sendable, Equatable {
            var transientKeys: Set<String> = []
            var fetchDelayMilliseconds = 0
        }

        var faults: FaultInjection?
    #endif

    var pipelineSource: PipelineSource
    var store: StoreLocation
    var s3: S3Settings
    /// nil: max(2 s, 10 % of the time left when an invocation arrives), at most half of it.
    var deadlineMarginMilliseconds: Int?
    var queueURL: String?
    var eventBus: String?
    var eventsEndpoint: String?
    var reconcilePages = 1
    /// How HTTP events are answered (signatures, bucket, caching).
    var requests: RequestSettings
    /// Answer Function URL events in streaming mode (their URL has `InvokeMode: RESPONSE_STREAM`).
    var functionURLStreaming = true
    var functionName: String
    /// Where relative paths in an inline configuration resolve.
    var taskRoot: String?
    /// Cores' worth of CPU the function gets: Lambda gives one vCPU per 1 769 MB of memory
    /// (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), up to the cores it sees; all cores without it.
    var cpus = Double(ProcessInfo.processInfo.activeProcessorCount)

    /// Whether store faults are injected (debug builds with `IMGFN_TEST_*` set).
    var injectsFaults: Bool {
        #if IMGFN_FAULT_INJECTION
            faults != nil
        #else
            false
        #endif
    }

    /// Reads and checks every variable; the pipeline configuration itself is parsed by
    /// `loadPipeline()`.
    /// - Throws: `.invalidConfiguration` naming the variable and what is wrong with it.
    init(environment: [String: String]) throws(FunctionError) {
        func value(_ name: String) -> String? {
            environment[name].map(Self.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        }
        if let config = value("IMGFN_CONFIG") {
            pipelineSource = config.hasPrefix("{") ? .inline(config) : .file(path: config)
        } else {
            pipelineSource = .builtIn
        }
        store = try Self.parseStore(value("IMGFN_STORE") ?? "s3://")
        s3 = S3Settings(
            endpoint: value("IMGFN_S3_ENDPOINT"),
            pathStyle: try Self.parseFlag(value("IMGFN_S3_PATH_STYLE"), name: "IMGFN_S3_PATH_STYLE"),
            region: value("AWS_REGION") ?? value("AWS_DEFAULT_REGION"))
        if let margin = value("IMGFN_DEADLINE_MARGIN_MS") {
            guard let milliseconds = Int(margin), milliseconds >= 0 else {
                throw FunctionError(
                    .invalidConfiguration,
                    "IMGFN_DEADLINE_MARGIN_MS: must be a whole number of milliseconds ≥ 0, got \"\(margin)\"")
            }
            deadlineMarginMilliseconds = milliseconds
        }
        queueURL = value("IMGFN_QUEUE_URL")
        eventBus = value("IMGFN_EVENT_BUS")
        eventsEndpoint = value("IMGFN_EVENTS_ENDPOINT")
        if let pages = value("IMGFN_RECONCILE_PAGES") {
            guard let count = Int(pages), (1...20).contains(count) else {
                throw FunctionError(
                    .invalidConfiguration,
                    "IMGFN_RECONCILE_PAGES: must be a whole number from 1 to 20, got \"\(pages)\"")
            }
            reconcilePages = count
        }
        requests = RequestSettings(cores: 1)
        do {
            requests.signing = try RequestSettings.signing(environment: environment)
        } catch {
            throw FunctionError(.invalidConfiguration, "IMGFN_SIGNING_KEY: \(error.message)", underlying: error)
        }
        requests.allowUnsigned = try Self.parseFlag(value("IMGFN_INSECURE_UNSIGNED"), name: "IMGFN_INSECURE_UNSIGNED")
        switch store {
        case .s3(let bucket): requests.bucket = value("IMGFN_SERVE_BUCKET") ?? bucket
        case .fileSystem: requests.bucket = nil
        }
        if let cacheControl = value("IMGFN_SERVE_CACHE_CONTROL") { requests.cacheControl = cacheControl }
        if let timeout = value("IMGFN_RENDER_TIMEOUT_MS") {
            guard let milliseconds = Int(timeout), milliseconds > 0 else {
                throw FunctionError(
                    .invalidConfiguration,
                    "IMGFN_RENDER_TIMEOUT_MS: must be a whole number of milliseconds > 0, got \"\(timeout)\"")
            }
            requests.renderTimeout = .milliseconds(milliseconds)
        }
        requests.writeThrough =
            !(value("IMGFN_WRITE_THROUGH").map { ["0", "false", "no"].contains($0.lowercased()) } ?? false)
        functionURLStreaming =
            !(value("IMGFN_FUNCTION_URL_STREAMING").map { ["0", "false", "no"].contains($0.lowercased()) } ?? false)
        functionName = value("AWS_LAMBDA_FUNCTION_NAME") ?? "imgfn"
        taskRoot = value("LAMBDA_TASK_ROOT")
        if let memory = value("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").flatMap(Double.init), memory > 0 {
            cpus = min(cpus, memory / 1769)
        }
        #if IMGFN_FAULT_INJECTION
            faults = try Self.parseFaults(
                transientKeys: value("IMGFN_TEST_TRANSIENT_KEYS"), fetchDelay: value("IMGFN_TEST_FETCH_DELAY_MS"))
        #endif
    }

    /// Parses and validates the pipeline configuration.
    /// - Throws: `.invalidConfiguration` with the loader's message (every problem with its JSON
    ///   path), or `.startupFailed` when libvips is unavailable.
    func loadPipeline() throws(FunctionError) -> Pipeline {
        do {
            return try pipelineSource.load(inlineBaseDirectory: taskRoot)
        } catch {
            let subject = if case .file(let path) = pipelineSource { "IMGFN_CONFIG (\(path))" } else { "IMGFN_CONFIG" }
            throw FunctionError(startup: error, subject: subject)
        }
    }

    static func trimmed(_ text: String) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    static func parseStore(_ text: String) throws(FunctionError) -> StoreLocation {
        do {
            return try StoreLocation(parsing: text, plainPaths: false)
        } catch {
            throw FunctionError(.invalidConfiguration, "IMGFN_STORE: \(error.message)", underlying: error)
        }
    }

    static func parseFlag(_ text: String?, name: String) throws(FunctionError) -> Bool {
        switch text?.lowercased() {
        case nil, "0", "false", "no": return false
        case "1", "true", "yes": return true
        case let other?: throw FunctionError(.invalidConfiguration, "\(name): must be 1 or 0, got \"\(other)\"")
        }
    }

    #if IMGFN_FAULT_INJECTION
        static func parseFaults(transientKeys: String?, fetchDelay: String?) throws(FunctionError) -> FaultInjection? {
            guard transientKeys != nil || fetchDelay != nil else { return nil }
            var faults = FaultInjection()
            faults.transientKeys = Set((transientKeys ?? "").split(separator: ",").map { String($0) })
            if let fetchDelay {
                guard let milliseconds = Int(fetchDelay), milliseconds >= 0 else {
                    throw FunctionError(
                        .invalidConfiguration,
                        "IMGFN_TEST_FETCH_DELAY_MS: must be a whole number ≥ 0, got \"\(fetchDelay)\"")
                }
                faults.fetchDelayMilliseconds = milliseconds
            }
            return faults
        }
    #endif
}
