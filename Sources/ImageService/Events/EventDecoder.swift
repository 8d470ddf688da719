import FoundationEssentials
import ImagePipeline
import ImgfnBase

/// Decodes Lambda invocation payloads into `ObjectCreated` and `ObjectRemoved` records.
///
/// Shapes: S3 event notifications; SQS messages whose body is an S3 notification, an SNS
/// notification wrapping one (S3 → SNS → SQS), an EventBridge event, or S3's `s3:TestEvent`;
/// SNS records (S3 → SNS → Lambda); EventBridge `Object Created` and `Object Deleted` events;
/// S3 Batch Operations task lists (schema 1.0 and 2.0).
/// Removals are `ObjectRemoved:Delete`, `ObjectRemoved:DeleteMarkerCreated` and their
/// `LifecycleExpiration:` twins. Keys in S3 notifications are form-encoded (`+` is a space,
/// `%2B` a plus) and are decoded; EventBridge carries keys as they are.
public enum EventDecoder {
    /// - Throws: `.invalidEvent` when the payload is not JSON or not a known shape. A bad body
    ///   inside one SQS message does not throw: that record is `.invalid`.
    public static func decode(_ payload: some Collection<UInt8>) throws(ImgfnError) -> DecodedEvent {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(payload))
        } catch {
            throw ImgfnError(.invalidEvent, "event is not valid JSON")
        }
        guard case .object(let object) = root else {
            throw ImgfnError(.invalidEvent, "event must be a JSON object, not \(root.typeName)")
        }
        if case .array(let records)? = object["Records"] {
            let first = records.first?.object
            if first?["eventSource"]?.string == "aws:sqs" || first?["body"] != nil {
                return DecodedEvent(source: .sqs, records: records.map(sqsRecord))
            }
            return DecodedEvent(
                source: .s3,
                records: try records.map { (record) throws(ImgfnError) in
                    DecodedEvent.Record(messageId: nil, content: try s3Record(record))
                })
        }
        if object["Type"]?.string == "Notification", let message = object["Message"]?.string {
            // SNS envelope (S3 → SNS → SQS delivers this as the SQS body): the S3 event is its message.
            return try decode(Array(message.utf8))
        }
        if object["detail-type"] != nil {
            return DecodedEvent(
                source: .eventBridge, records: [DecodedEvent.Record(messageId: nil, content: try eventBridge(object))])
        }
        if object["imgfn"] != nil {
            return DecodedEvent(
                source: .reconcile, records: [DecodedEvent.Record(messageId: nil, content: try reconcile(object))])
        }
        if object["invocationSchemaVersion"] != nil {
            return try s3Batch(object)
        }
        if object["Event"]?.string == "s3:TestEvent" {
            return DecodedEvent(
                source: .s3, records: [DecodedEvent.Record(messageId: nil, content: .skipped("s3:TestEvent"))])
        }
        throw ImgfnError(
            .invalidEvent, "unknown event shape (keys: \(object.keys.sorted().prefix(8).joined(separator: ", ")))")
    }

    /// One SQS message: its body is another event, decoded on its own.
    static func sqsRecord(_ record: JSONValue) -> DecodedEvent.Record {
        let message = record.object
        let id = message?["messageId"]?.string
        guard let body = message?["body"]?.string else {
            return DecodedEvent.Record(messageId: id, content: .invalid("SQS message has no body"))
        }
        do {
            let inner = try decode(Array(body.utf8))
            guard inner.records.count == 1 else {
                if inner.records.isEmpty { return DecodedEvent.Record(messageId: id, content: .skipped("no records")) }
                return DecodedEvent.Record(
                    messageId: id, content: .invalid("SQS message carries \(inner.records.count) records; expected one")
                )
            }
            return DecodedEvent.Record(messageId: id, content: inner.records[0].content)
        } catch {
            return DecodedEvent.Record(messageId: id, content: .invalid("SQS message body: \(error.message)"))
        }
    }

    static func s3Record(_ record: JSONValue) throws(ImgfnError) -> DecodedEvent.Record.Content {
        guard let object = record.object else { throw ImgfnError(.invalidEvent, "S3 record is not an object") }
        if let sns = object["Sns"]?.object, let message = sns["Message"]?.string {
            // S3 → SNS → Lambda: the S3 event is the SNS record's message.
            let inner = try decode(Array(message.utf8))
            guard inner.records.count == 1 else {
                throw ImgfnError(.invalidEvent, "SNS message carries \(inner.records.count) records; expected one")
            }
            return inner.records[0].content
        }
        let name = object["eventName"]?.string ?? ""
        guard let s3 = object["s3"]?.object, let bucket = s3["bucket"]?.object?["name"]?.string,
            let item = s3["object"]?.object, let rawKey = item["key"]?.string
        else {
            throw ImgfnError(.invalidEvent, "S3 record lacks s3.bucket.name or s3.object.key")
        }
        let removal = removalKind(name)
        guard name.hasPrefix("ObjectCreated:") || removal != nil else {
            return .skipped("event \(name.isEmpty ? "(unnamed)" : name) is not an object creation or removal")
        }
        guard let key = formDecoded(rawKey) else {
            throw ImgfnError(.invalidEvent, "S3 record key \"\(rawKey)\" is not form-encoded")
        }
        if let removal {
            return .removed(
                ObjectRemoved(
                    bucket: bucket, key: key, versionId: item["versionId"]?.string,
                    isDeleteMarker: removal == .deleteMarker, sequencer: item["sequencer"]?.string,
                    eventTime: object["eventTime"]?.string, eventName: name))
        }
        let created = ObjectCreated(
            bucket: bucket, key: key, size: item["size"]?.int, etag: item["eTag"]?.string.map(ETag.unquoted),
            versionId: item["versionId"]?.string, sequencer: item["sequencer"]?.string,
            eventTime: object["eventTime"]?.string, eventName: name)
        return placeholderReason(created).map { .skipped($0) } ?? .created(created)
    }

    static func eventBridge(_ event: [String: JSONValue]) throws(ImgfnError) -> DecodedEvent.Record.Content {
        let type = event["detail-type"]?.string ?? ""
        guard let detail = event["detail"]?.object, let bucket = detail["bucket"]?.object?["name"]?.string,
            let item = detail["object"]?.object, let key = item["key"]?.string
        else {
            throw ImgfnError(.invalidEvent, "EventBridge event lacks detail.bucket.name or detail.object.key")
        }
        if type == "Object Deleted" {
            // `deletion-type`: "Permanently Deleted" or "Delete Marker Created".
            let marker = detail["deletion-type"]?.string == "Delete Marker Created"
            return .removed(
                ObjectRemoved(
                    bucket: bucket, key: key, versionId: item["version-id"]?.string, isDeleteMarker: marker,
                    sequencer: item["sequencer"]?.string, eventTime: event["time"]?.string, eventName: type))
        }
        guard type == "Object Created" else {
            return .skipped("event \(type) is not an object creation or removal")
        }
        let created = ObjectCreated(
            bucket: bucket, key: key, size: item["size"]?.int, etag: item["etag"]?.string.map(ETag.unquoted),
            versionId: item["version-id"]?.string, sequencer: item["sequencer"]?.string,
            eventTime: event["time"]?.string, eventName: type)
        return placeholderReason(created).map { .skipped($0) } ?? .created(created)
    }

    /// An S3 Batch Operations invocation: schema 1.0 (`s3BucketArn`) or 2.0 (`s3Bucket`, and
    /// `job.userArguments`). Each task is a creation of the current version of its object;
    /// keys are URL-encoded (decoded as AWS's examples do, `+` as a space). A task without a
    /// bucket or key, or with a malformed key, is `.invalid` (a permanent failure of it alone).
    static func s3Batch(_ event: [String: JSONValue]) throws(ImgfnError) -> DecodedEvent {
        guard let version = event["invocationSchemaVersion"]?.string, version == "1.0" || version == "2.0" else {
            throw ImgfnError(.invalidEvent, "S3 Batch Operations invocationSchemaVersion must be \"1.0\" or \"2.0\"")
        }
        guard let invocationId = event["invocationId"]?.string, case .array(let tasks)? = event["tasks"] else {
            throw ImgfnError(.invalidEvent, "S3 Batch Operations invocation lacks invocationId or tasks")
        }
        let job = event["job"]?.object
        var arguments: [String: String] = [:]
        for (name, value) in job?["userArguments"]?.object ?? [:] { arguments[name] = value.string }
        let records = tasks.map { task -> DecodedEvent.Record in
            let item = task.object ?? [:]
            let taskId = item["taskId"]?.string
            let bucket =
                item["s3Bucket"]?.string
                ?? item["s3BucketArn"]?.string.flatMap { arn in
                    arn.hasPrefix("arn:")
                        ? arn.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) : nil
                }
            guard let bucket, !bucket.isEmpty, let rawKey = item["s3Key"]?.string else {
                return DecodedEvent.Record(
                    messageId: taskId, content: .invalid("task lacks s3Bucket/s3BucketArn or s3Key"))
            }
            guard let key = formDecoded(rawKey), !key.isEmpty else {
                return DecodedEvent.Record(
                    messageId: taskId, content: .invalid("task s3Key \"\(rawKey)\" is not URL-encoded"))
            }
            let created = ObjectCreated(
                bucket: bucket, key: key, versionId: item["s3VersionId"]?.string, eventName: "S3BatchOperations")
            return DecodedEvent.Record(
                messageId: taskId, content: placeholderReason(created).map { .skipped($0) } ?? .created(created))
        }
        return DecodedEvent(
            source: .s3Batch, records: records,
            batchJob: DecodedEvent.BatchJob(
                schemaVersion: version, invocationId: invocationId, jobId: job?["id"]?.string, userArguments: arguments)
        )
    }

    /// `{"imgfn": "reconcile", "bucket": B[, "sweep": ID, "step": N, "continuation": TOKEN]}`.
    static func reconcile(_ event: [String: JSONValue]) throws(ImgfnError) -> DecodedEvent.Record.Content {
        guard event["imgfn"]?.string == "reconcile" else {
            throw ImgfnError(.invalidEvent, "imgfn event \"\(event["imgfn"]?.string ?? "?")\" is not \"reconcile\"")
        }
        guard let bucket = event["bucket"]?.string, !bucket.isEmpty else {
            throw ImgfnError(.invalidEvent, "reconcile event lacks \"bucket\"")
        }
        let sweep = event["sweep"]?.string
        let step = event["step"]?.int ?? 0
        guard step >= 0, (sweep == nil) == (step == 0) else {
            throw ImgfnError(.invalidEvent, "reconcile event: a sweep's steps count from 1, a start has neither")
        }
        return .reconcile(
            ReconcileRequest(bucket: bucket, sweep: sweep, step: step, continuation: event["continuation"]?.string))
    }

    enum Removal { case delete, deleteMarker }

    /// S3 notification names of removals: deletes and lifecycle expirations.
    static func removalKind(_ name: String) -> Removal? {
        switch name {
        case "ObjectRemoved:Delete", "LifecycleExpiration:Delete": .delete
        case "ObjectRemoved:DeleteMarkerCreated", "LifecycleExpiration:DeleteMarkerCreated": .deleteMarker
        default: nil
        }
    }

    /// "Folders" made in the S3 console are empty objects whose key ends in `/`.
    static func placeholderReason(_ object: ObjectCreated) -> String? {
        object.key.hasSuffix("/") && (object.size ?? 0) == 0 ? "folder placeholder \(object.key)" : nil
    }

    /// `application/x-www-form-urlencoded` decoding: `+` → space, `%XX` → byte; nil when a
    /// `%` escape is malformed or the bytes are not UTF-8.
    public static func formDecoded(_ text: String) -> String? { KeyEncoding.decode(text, plusAsSpace: true) }
}

extension JSONValue {
    var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self, n == n.rounded(), abs(n) < 1e15 { Int(n) } else { nil } }
}
