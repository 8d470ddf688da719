/// Where work is handed to the function: its SQS queue (`SQSQueue`, in S3Store), or a test's.
///
/// `imgfn backfill --enqueue` and the scheduled reconcile send one message per stale source,
/// and the reconcile sends the message that carries its sweep on to the next page.
public protocol MessageQueue: Sendable {
    /// Sends one message per body; throws the first failure after trying every message
    /// (`.storeUnavailable` when the queue failed transiently, after its own retries).
    func send(_ bodies: [String]) async throws(ImgfnError)
}
