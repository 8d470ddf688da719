import ImgfnBase

/// What the handler did with one record.
public struct RecordResult: Sendable, Equatable, Codable {
    public enum Outcome: Sendable, Equatable, Codable {
        /// Every derivative and the manifest were written; `omitted` names the files of the
        /// configuration that their format could not hold (`DerivativeSet.Omission.summary`);
        /// `removed` counts the files of a replaced set (another configuration) removed after.
        case ok(files: Int, manifestKey: String, omitted: [String] = [], removed: Int = 0)
        /// The source is gone: the `files` its manifest listed, the manifest and any failure
        /// record were removed (0 files and no manifest when nothing had been derived).
        case removed(files: Int, manifestKey: String?)
        /// A step of a scheduled reconcile ran: `listed` sources compared, `enqueued` of them
        /// sent to the queue; `finished` when the sweep reached the end of the listing.
        case reconciled(sweep: String, step: Int, listed: Int, enqueued: Int, finished: Bool)
        /// Nothing to do, and that is fine (test event, deletion, filtered out, already derived…).
        case skipped(reason: String)
        /// Could not be done. Permanent failures are recorded and must not be retried;
        /// transient ones should be (SQS redelivers them).
        case failed(transient: Bool, code: ImgfnError.Code, reason: String)
    }

    /// The SQS message the record came in, if any.
    public var messageId: String?
    public var bucket: String?
    public var key: String?
    public var outcome: Outcome
    /// Where the time went, in milliseconds, and the bytes read and written.
    public var metrics: Metrics

    public init(messageId: String?, bucket: String? = nil, key: String? = nil, outcome: Outcome, metrics: Metrics) {
        self.messageId = messageId
        self.bucket = bucket
        self.key = key
        self.outcome = outcome
        self.metrics = metrics
    }

    public struct Metrics: Sendable, Equatable, Codable {
        public var fetchMilliseconds = 0.0
        /// The one decode of the source.
        public var decodeMilliseconds = 0.0
        /// Every derivative's resize and steps (`DerivativeSet.resizeMilliseconds`).
        public var deriveMilliseconds = 0.0
        public var encodeMilliseconds = 0.0
        public var storeMilliseconds = 0.0
        public var bytesIn = 0
        public var bytesOut = 0
        public init() {}
    }

    public var isTransientFailure: Bool {
        if case .failed(true, _, _) = outcome { true } else { false }
    }

    public var isFailure: Bool {
        if case .failed = outcome { true } else { false }
    }
}
