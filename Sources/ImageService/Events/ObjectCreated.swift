import ImagePipeline

/// One new object, whatever event shape announced it.
public struct ObjectCreated: Sendable, Equatable, Codable {
    public var bucket: String
    /// The real key (S3 notifications' form encoding already undone).
    public var key: String
    public var size: Int?
    /// Entity tag without quotes, as events carry it.
    public var etag: String?
    public var versionId: String?
    /// S3's ordering token for events on the same key.
    public var sequencer: String?
    public var eventTime: String?
    /// `ObjectCreated:Put`, `Object Created`, …
    public var eventName: String

    public init(
        bucket: String, key: String, size: Int? = nil, etag: String? = nil, versionId: String? = nil,
        sequencer: String? = nil, eventTime: String? = nil, eventName: String = "ObjectCreated:Put"
    ) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.versionId = versionId
        self.sequencer = sequencer
        self.eventTime = eventTime
        self.eventName = eventName
    }
}

/// What an invocation carried, decoded: its shape and its records.
public struct DecodedEvent: Sendable, Equatable {
    public enum Source: String, Sendable, Equatable, Codable {
        /// An S3 event notification delivered directly (`Records[].s3`).
        case s3
        /// An SQS batch (`Records[].body`), each body an S3 notification, possibly wrapped in SNS.
        case sqs
        /// An EventBridge event (`detail-type`, `detail`).
        case eventBridge
        /// An S3 Batch Operations `LambdaInvoke` task list (`invocationSchemaVersion`, `tasks`).
        case s3Batch
        /// imgfn's own `{"imgfn": "reconcile", …}` (the schedule's).
        case reconcile
    }

    /// What an S3 Batch Operations invocation names, for its response (`source == .s3Batch`).
    public struct BatchJob: Sendable, Equatable {
        /// `1.0` or `2.0`, echoed in the response.
        public var schemaVersion: String
        public var invocationId: String
        public var jobId: String?
        /// `job.userArguments` (schema 2.0).
        public var userArguments: [String: String]

        public init(schemaVersion: String, invocationId: String, jobId: String?, userArguments: [String: String]) {
            self.schemaVersion = schemaVersion
            self.invocationId = invocationId
            self.jobId = jobId
            self.userArguments = userArguments
        }
    }

    /// One unit of work, or the reason there is none.
    public struct Record: Sendable, Equatable {
        public enum Content: Sendable, Equatable {
            case created(ObjectCreated)
            /// An object was deleted (or hidden by a delete marker): its derivatives go.
            case removed(ObjectRemoved)
            /// A scheduled reconcile starts, or a sweep goes on by one step.
            case reconcile(ReconcileRequest)
            /// Not work: a test event, a folder placeholder, an event of another kind.
            case skipped(String)
            /// This record (one SQS message) could not be read: a permanent failure of it alone.
            case invalid(String)
        }

        /// The SQS `messageId` the record came in (what a partial batch failure names), or the
        /// S3 Batch Operations `taskId`.
        public var messageId: String?
        public var content: Content
    }

    public var source: Source
    public var records: [Record]
    /// The job of an S3 Batch Operations invocation; nil for every other source.
    public var batchJob: BatchJob? = nil
}
