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
