import FoundationEssentials
import ImagePipeline
import ImgfnBase

/// Sample events in the shapes AWS delivers (like `sam local generate-event`), for `imgfn
/// events`, tests and local runs.
public enum EventSamples {
    public enum Shape: String, Sendable, CaseIterable {
        case s3Put = "s3-put"
        case sqs
        case snsSqs = "sns-sqs"
        case eventBridge = "eventbridge"
        case s3Test = "s3-test"
        case s3Delete = "s3-delete"
        case s3DeleteMarker = "s3-delete-marker"
        case sqsDelete = "sqs-delete"
        case eventBridgeDelete = "eventbridge-delete"
        case s3Batch = "s3-batch"
        case s3BatchV2 = "s3-batch-v2"
    }

    /// - Parameter versionId: the object's version (for a delete marker, the marker's), as a
    ///   versioned bucket's events carry it; nil for an unversioned bucket.
    public static func make(
        _ shape: Shape, bucket: String, key: String, size: Int, etag: String = "0123456789abcdef0123456789abcdef",
        versionId: String? = nil
    ) -> String {
        switch shape {
        case .s3Put:
            return s3Notification(
                bucket: bucket, key: key, size: size, etag: etag, versionId: versionId, name: "ObjectCreated:Put")
        case .s3Delete:
            return s3Notification(bucket: bucket, key: key, versionId: versionId, name: "ObjectRemoved:Delete")
        case .s3DeleteMarker:
            return s3Notification(
                bucket: bucket, key: key, versionId: versionId, name: "ObjectRemoved:DeleteMarkerCreated")
        case .sqsDelete:
            return sqs([s3Notification(bucket: bucket, key: key, versionId: versionId, name: "ObjectRemoved:Delete")])
        case .eventBridgeDelete:
            var object: [String: Any] = ["key": key, "sequencer": "00617F0837ADC6B0D7"]
            if let versionId { object["version-id"] = versionId }
            return json([
                "version": "0", "id": "2ee9cc15-d022-99ea-1fb8-1b1bac4850f9", "detail-type": "Object Deleted",
                "source": "aws.s3", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
                "resources": ["arn:aws:s3:::\(bucket)"],
                "detail": [
                    "version": "0", "bucket": ["name": bucket], "object": object, "request-id": "0BH729840619AG5K",
                    "requester": "123456789012", "reason": "DeleteObject",
                    "deletion-type": versionId == nil ? "Permanently Deleted" : "Delete Marker Created",
                ] as [String: Any],
            ])
        case .s3Batch, .s3BatchV2:
            var task: [String: Any] = [
                "taskId": "dGFzay0x", "s3Key": KeyEncoding.encode(key, spaceAsPlus: false),
                "s3VersionId": versionId as Any,  // null when unversioned, as S3 sends it
            ]
            var job: [String: Any] = ["id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"]
            if shape == .s3Batch {
                task["s3BucketArn"] = "arn:aws:s3:::\(bucket)"
            } else {
                task["s3Bucket"] = bucket
                job["userArguments"] = ["requestedBy": "imgfn events"]
            }
            return json([
                "invocationSchemaVersion": shape == .s3Batch ? "1.0" : "2.0",
                "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo", "job": job, "tasks": [task],
            ])
        case .s3Test:
            return json([
                "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-25T10:00:00.000Z", "Bucket": bucket,
                "RequestId": "5582815E1AEA5ADF",
                "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
            ])
        case .sqs:
            return sqs([
                s3Notification(
                    bucket: bucket, key: key, size: size, etag: etag, versionId: versionId, name: "ObjectCreated:Put")
            ])
        case .snsSqs:
            let sns = json([
                "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads", "Subject": "Amazon S3 Notification",
                "Message": s3Notification(bucket: bucket, key: key, size: size, etag: etag, name: "ObjectCreated:Put"),
                "Timestamp": "2026-11-25T10:00:00.000Z", "SignatureVersion": "1",
            ])
            return sqs([sns])
        case .eventBridge:
            return json([
                "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
                "source": "aws.s3", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
                "resources": ["arn:aws:s3:::\(bucket)"],
                "detail": [
                    "version": "0", "bucket": ["name": bucket],
                    "object": ["key": key, "size": size, "etag": etag, "sequencer": "00617F08299329D189"],
                    "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject",
                ] as [String: Any],
            ])
        }
    }

    /// An S3 notification of one record. Removals carry no size or ETag, as S3's do not.
    static func s3Notification(
        bucket: String, key: String, size: Int? = nil, etag: String? = nil, versionId: String? = nil, name: String,
        eventTime: String = "2026-11-25T10:00:00.000Z", configurationId: String = "imgfn"
    ) -> String {
        var object: [String: Any] = ["key": formEncoded(key), "sequencer": "0A1B2C3D4E5F678901"]
        if let size { object["size"] = size }
        if let etag { object["eTag"] = etag }
        if let versionId { object["versionId"] = versionId }
        return json([
            "Records": [
                [
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                    "eventTime": eventTime,
                    "eventName": name, "userIdentity": ["principalId": "EXAMPLE"],
                    "s3": [
                        "s3SchemaVersion": "1.0", "configurationId": configurationId,
                        "bucket": ["name": bucket, "arn": "arn:aws:s3:::\(bucket)"] as [String: Any],
                        "object": object,
                    ] as [String: Any],
                ] as [String: Any]
            ]
        ])
    }

    /// An SQS batch, one message per body.
    public static func sqs(_ bodies: [String]) -> String {
        json([
            "Records": bodies.enumerated().map { index, body -> [String: Any] in
                [
                    "messageId": "msg-\(index + 1)", "receiptHandle": "AQEB-\(index + 1)", "body": body,
                    "attributes": ["ApproximateReceiveCount": "1", "SentTimestamp": "1764064800000"],
                    "messageAttributes": [String: Any](), "md5OfBody": "", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:imgfn-uploads", "awsRegion": "us-east-1",
                ]
            }
        ])
    }

    /// The form encoding S3 applies to keys in notifications: unreserved characters and `/`
    /// as they are, space as `+`, every other byte as `%XX`.
    public static func formEncoded(_ key: String) -> String { KeyEncoding.encode(key, spaceAsPlus: true) }

    /// Pretty, key-sorted JSON of plain values (strings, numbers, arrays, dictionaries).
    static func json(_ value: [String: Any]) -> String {
        func convert(_ value: Any) -> JSONValue {
            switch value {
            case let s as String: .string(s)
            case let i as Int: .number(Double(i))
            case let a as [Any]: .array(a.map(convert))
            case let d as [String: Any]: .object(d.mapValues(convert))
            default: .null
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(convert(value))) ?? Data(), as: UTF8.self)
    }
}
