import FoundationEssentials
import ImgfnBase

/// The message `imgfn backfill --enqueue` and the scheduled reconcile send to the function's
/// queue for one stale source: an S3 notification of one `ObjectCreated:Put` record, exactly
/// the shape S3 itself sends there, so the function needs no second path. Its
/// `configurationId` is `imgfn-backfill`, so a queue's messages show where they came from.
public enum WorkMessage {
    public static let configurationId = "imgfn-backfill"

    /// The message body for `object` (key, size and ETag as listed) in `bucket`.
    public static func body(bucket: String, object: ObjectInfo, now: Date = Date()) -> String {
        EventSamples.s3Notification(
            bucket: bucket, key: object.key, size: object.size, etag: object.etag, name: "ObjectCreated:Put",
            eventTime: now.formatted(.iso8601), configurationId: configurationId)
    }
}
