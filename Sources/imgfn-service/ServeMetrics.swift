import Synchronization

/// `imgfn serve`'s Prometheus metrics (`GET /metrics`, text exposition format 0.0.4), kept by
/// hand: a few counters and one histogram need no metrics framework in the binary.
///
/// - `imgfn_http_requests_total{status}`: answers by status.
/// - `imgfn_http_results_total{result}`: image answers by how they were made (`rendered`,
///   `stored`, `not-modified`).
/// - `imgfn_http_request_duration_seconds`: a histogram of the time to answer.
/// - `imgfn_http_response_bytes_total`: body bytes sent.
/// - `imgfn_renders_running`, `imgfn_renders_waiting`: the render slots in use and the queue.
final class ServeMetrics: Sendable {
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct State {
        var statuses: [Int: Int] = [:]
        var results: [String: Int] = [:]
        var bucketCounts = [Int](repeating: 0, count: ServeMetrics.buckets.count)
        var count = 0
        var sum = 0.0
        var bytes = 0
    }

    private let state = Mutex(State())

    func record(status: Int, result: String?, seconds: Double, bytes: Int) {
        state.withLock { state in
            state.statuses[status, default: 0] += 1
            if let result { state.results[result, default: 0] += 1 }
            for (i, bound) in Self.buckets.enumerated() where seconds <= bound { state.bucketCounts[i] += 1 }
            state.count += 1
            state.sum += seconds
            state.bytes += bytes
        }
    }

    /// The exposition text, with the render gauges as given.
    func text(running: Int, waiting: Int) -> String {
        let state = state.withLock { $0 }
        var lines = [
            "# HELP imgfn_http_requests_total HTTP answers by status.",
            "# TYPE imgfn_http_requests_total counter",
        ]
        lines += state.statuses.keys.sorted().map {
            "imgfn_http_requests_total{status=\"\($0)\"} \(state.statuses[$0]!)"
        }
        lines += [
            "# HELP imgfn_http_results_total Image answers by how they were made.",
            "# TYPE imgfn_http_results_total counter",
        ]
        lines += state.results.keys.sorted().map { "imgfn_http_results_total{result=\"\($0)\"} \(state.results[$0]!)" }
        lines += [
            "# HELP imgfn_http_request_duration_seconds Time to answer a request.",
            "# TYPE imgfn_http_request_duration_seconds histogram",
        ]
        for (i, bound) in Self.buckets.enumerated() {
            lines.append("imgfn_http_request_duration_seconds_bucket{le=\"\(bound)\"} \(state.bucketCounts[i])")
        }
        lines += [
            "imgfn_http_request_duration_seconds_bucket{le=\"+Inf\"} \(state.count)",
            "imgfn_http_request_duration_seconds_sum \(state.sum)",
            "imgfn_http_request_duration_seconds_count \(state.count)",
            "# HELP imgfn_http_response_bytes_total Body bytes sent.",
            "# TYPE imgfn_http_response_bytes_total counter",
            "imgfn_http_response_bytes_total \(state.bytes)",
            "# HELP imgfn_renders_running Renders running now.",
            "# TYPE imgfn_renders_running gauge",
            "imgfn_renders_running \(running)",
            "# HELP imgfn_renders_waiting Requests waiting for a render slot.",
            "# TYPE imgfn_renders_waiting gauge",
            "imgfn_renders_waiting \(waiting)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
