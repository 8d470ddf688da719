import ImgfnBase
import S3Store

/// The work queue a shell hands stale sources to (`--enqueue`, `IMGFN_QUEUE_URL`).
public enum QueueFactory {
    /// An SQS queue by its URL, signed for `region` (default: the URL's region, else the
    /// environment's), with credentials from `environment`.
    /// - Throws: `.invalidOptions` for a URL that is not a queue URL, or no credentials.
    public static func make(
        url: String, region: String? = nil, environment: [String: String]
    ) throws(ImgfnError) -> any MessageQueue {
        try SQSQueue(url: url, region: region, environment: environment)
    }
}

/// The event bus a shell announces derivative sets on (`IMGFN_EVENT_BUS`, `--event-bus`).
public enum EventBusFactory {
    /// - Parameter endpoint: an EventBridge-compatible endpoint (`IMGFN_EVENTS_ENDPOINT`); nil
    ///   for AWS.
    /// - Throws: `.invalidOptions` for an empty name, a bad endpoint, or no credentials.
    public static func make(
        name: String, endpoint: String?, region: String?, environment: [String: String]
    ) throws(ImgfnError) -> any EventSink {
        try EventBridgeBus(name: name, endpoint: endpoint, region: region, environment: environment)
    }
}
