import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

@Suite struct EventDecoderTests {
    func decode(_ fixture: String) throws -> DecodedEvent {
        try EventDecoder.decode([UInt8](FileManager.default.contents(atPath: Fixtures.path("events/\(fixture)"))!))
    }

    static let key = "uploads/2024/red flower+café.jpg"

    @Test(arguments: [
        ("s3-put.json", DecodedEvent.Source.s3), ("sqs.json", .sqs), ("sns-sqs.json", .sqs),
        ("eventbridge.json", .eventBridge),
    ])
    func everyShapeGivesTheSameObject(_ fixture: String, _ source: DecodedEvent.Source) throws {
        let event = try decode(fixture)
        #expect(event.source == source)
        #expect(event.records.count == 1)
        guard case .created(let object) = event.records[0].content else {
            Issue.record("not a creation: \(event.records[0].content)")
            return
        }
        #expect(object.bucket == "imgfn-uploads")
        #expect(object.key == Self.key)
        #expect(object.size == 695070 && object.etag == "6a8d5ad3f3ba2a3c1f0e3b5e8c1c3f4d")
        #expect(event.records[0].messageId == (source == .sqs ? "msg-1" : nil))
    }

    @Test(arguments: [
        ("s3-test.json", "s3:TestEvent")
    ])
    func testEventsAreSkipped(_ fixture: String, _ reason: String) throws {
        let event = try decode(fixture)
        guard case .skipped(let why) = event.records.first?.content else {
            Issue.record("not skipped")
            return
        }
        #expect(why.contains(reason))
    }

    @Test(arguments: [EventSamples.Shape.s3Batch, .s3BatchV2])
    func s3BatchOperationsTasksAreCreationsOfTheirObjects(_ shape: EventSamples.Shape) throws {
        let event = try EventDecoder.decode(
            Array(EventSamples.make(shape, bucket: "photos", key: "uploads/a b+c/é.jpg", size: 0, versionId: "v7").utf8)
        )
        #expect(event.source == .s3Batch)
        let job = try #require(event.batchJob)
        #expect(job.schemaVersion == (shape == .s3Batch ? "1.0" : "2.0"))
        #expect(job.invocationId == "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo")
        #expect(job.userArguments == (shape == .s3Batch ? [:] : ["requestedBy": "imgfn events"]))
        #expect(event.records.count == 1)
        #expect(event.records[0].messageId == "dGFzay0x")
        guard case .created(let object) = event.records[0].content else {
            Issue.record("\(event.records[0].content)")
            return
        }
        #expect(object.bucket == "photos" && object.key == "uploads/a b+c/é.jpg" && object.versionId == "v7")
    }

    @Test func s3BatchOperationsTasksThatCannotBeReadFailAlone() throws {
        let payload = #"""
            {"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"},
             "tasks": [{"taskId": "a", "s3Bucket": "b", "s3Key": "uploads%2Fok+1.jpg"},
                       {"taskId": "b", "s3Key": "x.jpg"},
                       {"taskId": "c", "s3Bucket": "b", "s3Key": "bad%Z1.jpg"},
                       {"taskId": "d", "s3BucketArn": "arn:aws:s3:::arn-bucket", "s3Key": "uploads/folder/"}]}
            """#
        let event = try EventDecoder.decode(Array(payload.utf8))
        #expect(event.records.map(\.messageId) == ["a", "b", "c", "d"])
        #expect(
            event.records[0].content
                == .created(ObjectCreated(bucket: "b", key: "uploads/ok 1.jpg", eventName: "S3BatchOperations")))
        #expect(event.records[1].content == .invalid("task lacks s3Bucket/s3BucketArn or s3Key"))
        #expect(event.records[2].content == .invalid(#"task s3Key "bad%Z1.jpg" is not URL-encoded"#))
        #expect(event.records[3].content == .skipped("folder placeholder uploads/folder/"))
        let wrong = #"{"invocationSchemaVersion": "3.0", "invocationId": "i", "tasks": []}"#
        #expect(throws: ImgfnError.self) { try EventDecoder.decode(Array(wrong.utf8)) }
    }

    @Test func aDeleteNotificationIsARemovalOfTheDecodedKey() throws {
        let event = try decode("s3-delete.json")
        guard case .removed(let removed) = event.records.first?.content else {
            Issue.record("not a removal: \(String(describing: event.records.first?.content))")
            return
        }
        #expect(removed.bucket == "imgfn-uploads" && removed.key == Self.key)
        #expect(removed.eventName == "ObjectRemoved:Delete" && !removed.isDeleteMarker && removed.versionId == nil)
    }

    @Test func aMixedSQSBatchKeepsEachMessageApart() throws {
        let event = try decode("sqs-batch-mixed.json")
        #expect(event.source == .sqs)
        #expect(event.records.map(\.messageId) == ["good-1", "test-event", "not-json", "folder"])
        guard case .created(let object) = event.records[0].content else {
            Issue.record("first message is not a creation")
            return
        }
        #expect(object.key == "uploads/a+b c.jpg")
        #expect(object.versionId == "v1" && object.sequencer == "0055AED6DCD90281E5")
        #expect(event.records[1].content == .skipped("s3:TestEvent"))
        guard case .invalid(let reason) = event.records[2].content else {
            Issue.record("bad body not invalid")
            return
        }
        #expect(reason.contains("not valid JSON"))
        #expect(event.records[3].content == .skipped("folder placeholder uploads/new folder/"))
    }

    @Test(arguments: [
        ("not json", "event is not valid JSON"),
        ("[1]", "event must be a JSON object"),
        (#"{"hello": "world"}"#, "unknown event shape (keys: hello)"),
        (
            #"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}]}"#,
            "lacks s3.bucket.name"
        ),
        (
            #"{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "a%zz"}}}]}"#,
            "is not form-encoded"
        ),
        (#"{"detail-type": "Object Created", "detail": {}}"#, "lacks detail.bucket.name"),
    ])
    func malformedEventsAreClassifiedErrors(_ json: String, _ message: String) {
        let error = #expect(throws: ImgfnError.self) { try EventDecoder.decode(Array(json.utf8)) }
        #expect(error?.code == .invalidEvent)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        ("red+flower.jpg", "red flower.jpg"), ("a%2Bb.jpg", "a+b.jpg"), ("caf%C3%A9.jpg", "café.jpg"),
        ("100%25.jpg", "100%.jpg"), ("dir/sub/x.jpg", "dir/sub/x.jpg"), ("%E6%97%A5%E6%9C%AC.png", "日本.png"),
    ])
    func formDecoding(_ encoded: String, _ decoded: String) {
        #expect(EventDecoder.formDecoded(encoded) == decoded)
        #expect(EventDecoder.formDecoded(EventSamples.formEncoded(decoded)) == decoded)
    }

    @Test func snsRecordsDirectlyFromSNSAreDecoded() throws {
        let inner = EventSamples.make(.s3Put, bucket: "b", key: "uploads/x y.jpg", size: 10)
        let message = String(data: try JSONEncoder().encode(inner), encoding: .utf8)!
        let sns = #"{"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": \#(message)}}]}"#
        let event = try EventDecoder.decode(Array(sns.utf8))
        #expect(
            event.records.first?.content
                == .created(
                    ObjectCreated(
                        bucket: "b", key: "uploads/x y.jpg", size: 10, etag: "0123456789abcdef0123456789abcdef",
                        sequencer: "0A1B2C3D4E5F678901",
                        eventTime: "2026-11-25T10:00:00.000Z", eventName: "ObjectCreated:Put")))
    }
}
