import FoundationEssentials
import ImagePipeline
import ImageService

/// The SQS partial batch response (`ReportBatchItemFailures`): the messages to deliver again.
///
/// Only transient failures are listed; permanent ones were recorded by the handler and are
/// acknowledged, so a poison image cannot loop. A transient failure without a message ID is
/// listed with an empty identifier, which Lambda treats as a failure of the whole batch.
struct BatchResponse: Encodable, Equatable {
    struct Item: Encodable, Equatable {
        var itemIdentifier: String
    }

    var batchItemFailures: [Item]

    init(_ results: [RecordResult]) {
        batchItemFailures = results.filter(\.isTransientFailure).map { Item(itemIdentifier: $0.messageId ?? "") }
    }
}

/// The response to an S3 Batch Operations invocation: one result per task, `Succeeded` (derived,
/// or nothing to do), `TemporaryFailure` (Batch Operations retries it) or `PermanentFailure`
/// (recorded; the job's completion report shows the reason). Missing keys are permanent.
struct BatchOperationsResponse: Encodable, Equatable {
    struct TaskResult: Encodable, Equatable {
        var taskId: String
        var resultCode: String
        var resultString: String
    }

    var invocationSchemaVersion: String
    var treatMissingKeysAs = "PermanentFailure"
    var invocationId: String
    var results: [TaskResult]

    init(job: DecodedEvent.BatchJob, results: [RecordResult]) {
        invocationSchemaVersion = job.schemaVersion
        invocationId = job.invocationId
        self.results = results.map { result in
            let (code, text): (String, String) =
                switch result.outcome {
                case .ok(let files, let manifestKey, _, _): ("Succeeded", "\(files) files, manifest \(manifestKey)")
                case .removed(let files, _): ("Succeeded", "removed \(files) files")
                case .reconciled(_, _, let listed, let enqueued, _):
                    ("Succeeded", "reconciled \(listed), enqueued \(enqueued)")
                case .skipped(let reason): ("Succeeded", "skipped: \(reason)")
                case .failed(let transient, let code, let reason):
                    (transient ? "TemporaryFailure" : "PermanentFailure", "\(code): \(reason)")
                }
            // The completion report keeps a short string; a reason is one line anyway.
            return TaskResult(taskId: result.messageId ?? "", resultCode: code, resultString: String(text.prefix(1000)))
        }
    }
}

/// The response to a direct S3 notification or EventBridge event: counts and every record's
/// result.
struct InvocationSummary: Encodable, Equatable {
    var source: String
    var records: Int
    var ok = 0
    var skipped = 0
    var removed = 0
    var failed = 0
    var transientFailures = 0
    var derivativesWritten = 0
    var results: [RecordResult]

    init(source: DecodedEvent.Source, results: [RecordResult]) {
        self.source = source.rawValue
        self.records = results.count
        self.results = results
        for result in results {
            switch result.outcome {
            case .ok(let files, _, _, _):
                ok += 1
                derivativesWritten += files
            case .removed: removed += 1
            case .reconciled: ok += 1
            case .skipped: skipped += 1
            case .failed(let transient, _, _):
                failed += 1
                if transient { transientFailures += 1 }
            }
        }
    }
}

extension Encodable {
    /// Compact JSON with sorted keys, for response bodies.
    func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { [UInt8]($0) } ?? Array("{}".utf8)
    }
}
