/// A scheduled reconcile, or one step of a sweep in progress.
///
/// The schedule invokes the function with `{"imgfn": "reconcile", "bucket": "photos"}` (a
/// start); each step enqueues the next as an SQS message to the function's own queue, with
/// the sweep's ID, the step's number and the listing's continuation.
public struct ReconcileRequest: Sendable, Equatable, Codable {
    /// `"reconcile"`: what marks the event as ours.
    public var imgfn = "reconcile"
    public var bucket: String
    /// nil for a start; the sweep this step belongs to otherwise.
    public var sweep: String?
    /// 0 for a start.
    public var step: Int
    /// Where the listing goes on (nil: from the beginning).
    public var continuation: String?

    public init(bucket: String, sweep: String? = nil, step: Int = 0, continuation: String? = nil) {
        self.bucket = bucket
        self.sweep = sweep
        self.step = step
        self.continuation = continuation
    }

    /// Whether this is the schedule's start of a sweep rather than a step of one.
    public var isStart: Bool { sweep == nil }
}
