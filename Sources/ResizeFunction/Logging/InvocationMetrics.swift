import ImagePipeline
import ImageService

/// What one invocation cost and did, written as one CloudWatch Embedded Metric Format line
/// (namespace `imgfn`, dimension `FunctionName`).
///
/// Stage times and bytes are sums over the invocation's records (`RecordResult.metrics`);
/// `TotalMs` is the invocation's wall time from payload to result; `ColdStart` is 1 for the
/// first invocation of the process. An HTTP event adds `HTTPRequests`, `HTTP4xx`, `HTTP5xx`,
/// `Rendered`, `StoredHits` and `NotModified` (0 or 1 each), and its body as `BytesOut`.
struct InvocationMetrics: Sendable, Equatable {
    var fetchMilliseconds = 0.0
    var decodeMilliseconds = 0.0
    var deriveMilliseconds = 0.0
    var encodeMilliseconds = 0.0
    var storeMilliseconds = 0.0
    var totalMilliseconds = 0.0
    var bytesIn = 0
    var bytesOut = 0
    var derivativesWritten = 0
    var failures = 0
    var coldStart = false
    /// An HTTP event's answer: its status and how the image was made (`X-Imgfn-Result`).
    var http: (status: Int, result: String?)?

    static func == (a: InvocationMetrics, b: InvocationMetrics) -> Bool {
        a.embeddedMetricFormat(functionName: "", requestId: "", timestamp: 0)
            == b.embeddedMetricFormat(functionName: "", requestId: "", timestamp: 0)
    }

    init(coldStart: Bool) {
        self.coldStart = coldStart
    }

    /// Adds up the records' metrics.
    mutating func add(_ results: [RecordResult]) {
        for result in results {
            fetchMilliseconds += result.metrics.fetchMilliseconds
            decodeMilliseconds += result.metrics.decodeMilliseconds
            deriveMilliseconds += result.metrics.deriveMilliseconds
            encodeMilliseconds += result.metrics.encodeMilliseconds
            storeMilliseconds += result.metrics.storeMilliseconds
            bytesIn += result.metrics.bytesIn
            bytesOut += result.metrics.bytesOut
            if case .ok(let files, _, _, _) = result.outcome { derivativesWritten += files }
            if result.isFailure { failures += 1 }
        }
    }

    /// The EMF object: `_aws` metadata declaring the metrics, then their values as top-level
    /// members beside the dimension and the request ID (searchable, not a dimension).
    func embeddedMetricFormat(functionName: String, requestId: String, timestamp: Int64) -> String {
        var values: [(name: String, unit: String, value: LogValue)] = [
            ("FetchMs", "Milliseconds", .double(fetchMilliseconds)),
            ("DecodeMs", "Milliseconds", .double(decodeMilliseconds)),
            ("DeriveMs", "Milliseconds", .double(deriveMilliseconds)),
            ("EncodeMs", "Milliseconds", .double(encodeMilliseconds)),
            ("StoreMs", "Milliseconds", .double(storeMilliseconds)),
            ("TotalMs", "Milliseconds", .double(totalMilliseconds)),
            ("BytesIn", "Bytes", .int(bytesIn)),
            ("BytesOut", "Bytes", .int(bytesOut)),
            ("DerivativesWritten", "Count", .int(derivativesWritten)),
            ("Failures", "Count", .int(failures)),
            ("ColdStart", "Count", .int(coldStart ? 1 : 0)),
        ]
        if let http {
            // HTTP events: one request, its class of status, and whether it took a render.
            values += [
                ("HTTPRequests", "Count", .int(1)),
                ("HTTP4xx", "Count", .int(http.status / 100 == 4 ? 1 : 0)),
                ("HTTP5xx", "Count", .int(http.status / 100 == 5 ? 1 : 0)),
                ("Rendered", "Count", .int(http.result == "rendered" ? 1 : 0)),
                ("StoredHits", "Count", .int(http.result == "stored" ? 1 : 0)),
                ("NotModified", "Count", .int(http.status == 304 ? 1 : 0)),
            ]
        }
        let definitions = values.map { "{\"Name\":\(JSONLine.quoted($0.name)),\"Unit\":\(JSONLine.quoted($0.unit))}" }
        let directive =
            #"{"Namespace":"imgfn","Dimensions":[["FunctionName"]],"Metrics":["#
            + definitions.joined(separator: ",") + "]}"
        var line = JSONLine()
        line.raw("_aws", "{\"Timestamp\":\(timestamp),\"CloudWatchMetrics\":[\(directive)]}")
        line.field("FunctionName", .string(functionName))
        line.field("requestId", .string(requestId))
        for value in values { line.field(value.name, value.value) }
        return line.finished()
    }
}
