import ImagePipeline
import ImageService

/// What one invocation cost and did, written as one CloudWatch Embedded Metric Format line
/// (namespace `imgfn`, dimension `FunctionName`).
///
/// Stage times and bytes are sums over the invocation's records (`RecordResult.metrics`);
/// `TotalMs` is the invocation's wall time from payload to result; `ColdStart` is 1 for the
/// first invocation of the process.
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
        let values: [(name: String, unit: String, value: LogValue)] = [
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
