import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

@testable import S3Store

/// `imgfn backfill` against a real S3-protocol server and SQS (moto), through the fault proxy:
/// the requests a settled bucket costs, and `--enqueue` handing the work to the function's queue.
@Suite(.serialized, .s3TestServers)
struct BackfillS3Tests {
    let servers: S3TestServers
    static let config = #"{"derivatives": [{"name": "w64", "width": 64, "formats": ["jpeg", "webp"]}]}"#

    init() throws {
        servers = try #require(S3TestServers.current, "the .s3TestServers trait sets this")
    }

    /// A new bucket with `count` small photos under `uploads/` (and one file that is not an input).
    func bucket(photos count: Int) async throws -> (name: String, store: S3BlobStore) {
        let name = "backfill-\(UUID().uuidString.prefix(8).lowercased())"
        let store = try servers.store(bucket: name)
        try await store.createBucket()
        let photo = Fixtures.array("orientation/orientation-6.jpg")
        for index in 0..<count {
            try await store.put(
                "uploads/set \(index)/p+\(index).jpg", bytes: photo,
                attributes: BlobAttributes(contentType: "image/jpeg"))
        }
        try await store.put("uploads/notes.txt", bytes: [1], attributes: BlobAttributes(contentType: "text/plain"))
        return (name, store)
    }

    func imgfn(_ arguments: [String]) throws -> (status: Int32, summary: [String: Any], errors: String) {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-\(UUID().uuidString).json")
        try Data(Self.config.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let credentials = S3TestServers.environment.map { "\($0.key)=\($0.value)" }
        let result = try ChildProcess.run(
            credentials + [BuiltProducts.path(of: "imgfn"), "backfill", "--config", config.path, "--json"] + arguments,
            input: Data())
        let summary = (try? JSONSerialization.jsonObject(with: result.output) as? [String: Any]) ?? [:]
        return (result.status, summary, result.errors)
    }

    @Test func aBackfillWithFaultsDerivesEverythingAndASettledBucketCostsAListAndAHeadEach() async throws {
        let (name, store) = try await bucket(photos: 6)
        try await servers.setProxyRules([
            ["match": "/w64.webp", "method": "PUT", "status": 503, "code": "SlowDown", "times": 3],
            ["match": "/manifest.json", "method": "HEAD", "status": 500, "code": "InternalError", "times": 2],
            ["match": "list-type=2", "status": 503, "code": "SlowDown", "times": 1],
        ])
        let first = try imgfn(["--store", "s3://\(name)", "--endpoint", servers.proxyEndpoint, "--path-style"])
        #expect(first.status == 0, "\(first.errors)")
        let tally = try #require(first.summary["tally"] as? [String: Any], "\(first.summary)")
        #expect(tally["listed"] as? Int == 7 && tally["notInputs"] as? Int == 1)
        #expect(tally["derived"] as? Int == 6 && tally["failed"] as? Int == 0)
        let manifest = try #require(try await Manifest.read(from: store, key: "derived/set 3/p+3/manifest.json"))
        #expect(manifest.source.key == "uploads/set 3/p+3.jpg" && manifest.derivatives.count == 2)
        #expect(try await servers.proxyLog().contains { $0.rule == "list-type=2" })

        try await servers.setProxyRules([])
        let second = try imgfn(["--store", "s3://\(name)", "--endpoint", servers.proxyEndpoint, "--path-style"])
        #expect(second.status == 0, "\(second.errors)")
        #expect((second.summary["tally"] as? [String: Any])?["upToDate"] as? Int == 6)
        let log = try await servers.proxyLog()
        #expect(log.filter { $0.method == "GET" && $0.path.contains("list-type=2") }.count == 1)
        #expect(log.filter { $0.method == "HEAD" }.count == 6)
        #expect(log.count == 7, "\(log.map { "\($0.method) \($0.path)" })")
    }

    @Test func enqueuedWorkIsWhatTheFunctionTakesFromItsQueue() async throws {
        let (name, store) = try await bucket(photos: 3)
        let queueName = "imgfn-work-\(UUID().uuidString.prefix(8))"
        let queueURL = "\(servers.proxyEndpoint)/123456789012/\(queueName)"
        let queue = try SQSQueue(
            url: queueURL, retryPolicy: S3RetryPolicy(maxAttempts: 1), environment: S3TestServers.environment)
        _ = try await queue.client.call(
            "CreateQueue", body: Array(#"{"QueueName": "\#(queueName)"}"#.utf8), what: "CreateQueue")
        // SQS fails every entry of the first batch on its side once, and then the request.
        try await servers.setProxyRules([
            [
                "match": "/", "target": "SendMessageBatch", "action": "respond", "status": 200, "times": 1,
                "body": [
                    "Successful": [] as [String],
                    "Failed": (0..<3).map {
                        ["Id": "\($0)", "SenderFault": false, "Code": "InternalError"] as [String: any Sendable]
                    },
                ] as [String: any Sendable],
            ],
            ["match": "/", "target": "SendMessageBatch", "status": 500, "times": 1],
        ])
        let run = try imgfn([
            "--store", "s3://\(name)", "--endpoint", servers.motoEndpoint, "--path-style", "--enqueue", queueURL,
        ])
        #expect(run.status == 0, "\(run.errors)")
        #expect((run.summary["tally"] as? [String: Any])?["handedOff"] as? Int == 3)
        #expect(try await store.head("derived/set 0/p+0/manifest.json") == nil, "enqueued, not derived here")
        let sends = try await servers.proxyLog().filter { $0.headers["x-amz-target"] == "AmazonSQS.SendMessageBatch" }
        #expect(sends.count == 3, "a retried entry failure, a retried 500, then the batch")

        // What the function receives: its handler derives each message's source.
        var bodies: [String] = []
        for _ in 0..<10 where bodies.count < 3 {
            let answer = try await queue.client.call(
                "ReceiveMessage",
                body: Array(#"{"QueueUrl": "\#(queueURL)", "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0}"#.utf8),
                what: "ReceiveMessage")
            let messages = (try JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any])?["Messages"]
            bodies += (messages as? [[String: Any]] ?? []).compactMap { $0["Body"] as? String }
        }
        #expect(bodies.count == 3)
        let event = try EventDecoder.decode(Array(EventSamples.sqs(bodies).utf8))
        let pipeline = try Pipeline(json: Array(Self.config.utf8))
        let results = await Handler(pipeline: pipeline) { _ in store }.handle(event)
        #expect(Set(results.map(\.key)) == ["uploads/set 0/p+0.jpg", "uploads/set 1/p+1.jpg", "uploads/set 2/p+2.jpg"])
        #expect(results.allSatisfy { if case .ok = $0.outcome { true } else { false } }, "\(results)")
        let after = try imgfn([
            "--store", "s3://\(name)", "--endpoint", servers.motoEndpoint, "--path-style", "--dry-run",
        ])
        #expect((after.summary["tally"] as? [String: Any])?["upToDate"] as? Int == 3)
    }

    /// A queue on moto, made for the test.
    func makeQueue() async throws -> (url: String, queue: SQSQueue) {
        let name = "imgfn-work-\(UUID().uuidString.prefix(8))"
        let url = "\(servers.motoEndpoint)/123456789012/\(name)"
        let queue = try SQSQueue(url: url, environment: S3TestServers.environment)
        _ = try await queue.client.call(
            "CreateQueue", body: Array(#"{"QueueName": "\#(name)"}"#.utf8), what: "CreateQueue")
        return (url, queue)
    }

    /// Up to ten message bodies from the queue (hidden for a minute once received).
    func receive(_ queue: SQSQueue, url: String) async throws -> [String] {
        let answer = try await queue.client.call(
            "ReceiveMessage",
            body: Array(
                #"{"QueueUrl": "\#(url)", "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0, "VisibilityTimeout": 60}"#
                    .utf8),
            what: "ReceiveMessage")
        let messages = (try JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any])?["Messages"]
        return (messages as? [[String: Any]] ?? []).compactMap { $0["Body"] as? String }
    }

    /// The scheduled reconcile against real S3 and SQS: the schedule's event starts a sweep, and
    /// the function taking its own queue's messages (work and next steps alike) reaches every
    /// source, a page per step.
    @Test func aScheduledSweepThroughTheQueueReachesEverySource() async throws {
        let (name, store) = try await bucket(photos: 5)
        let (url, queue) = try await makeQueue()
        var handler = Handler(pipeline: try Pipeline(json: Array(Self.config.utf8))) { _ in store }
        handler.queue = queue
        handler.reconcile = ReconcileSettings(pagesPerStep: 1, pageSize: 2)
        let start = await handler.handle(
            try EventDecoder.decode(Array(#"{"imgfn": "reconcile", "bucket": "\#(name)"}"#.utf8)))
        // Page 1 is notes.txt (not an input) and the first photo.
        guard case .reconciled(let sweep, 0, 2, 1, false) = try #require(start.first).outcome else {
            Issue.record("\(start)")
            return
        }
        var derived: [String] = []
        var steps = 0
        for _ in 0..<20 {
            let bodies = try await receive(queue, url: url)
            if bodies.isEmpty { break }
            for result in await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs(bodies).utf8))) {
                switch result.outcome {
                case .ok: derived.append(result.key ?? "")
                case .reconciled(sweep, _, _, _, _): steps += 1
                default: Issue.record("\(result)")
                }
            }
        }
        #expect(Set(derived) == Set((0..<5).map { "uploads/set \($0)/p+\($0).jpg" }) && derived.count == 5)
        #expect(steps == 2, "pages 2 and 3 (6 objects, 2 a page), each a step of its own")
        let state = try #require(try await SweepState.read(from: store, key: "derived/_reconcile/\(name).json"))
        #expect(!state.running && state.listed == 6 && state.enqueued == 5 && state.sweep == sweep)
    }

    /// `imgfn invoke --event-bus` against moto's EventBridge: a rule on the bus sends what is put
    /// on it to an SQS queue, where the test reads the event back.
    @Test func aWrittenSetIsAnnouncedOnTheEventBus() async throws {
        let (name, store) = try await bucket(photos: 1)
        let (url, queue) = try await makeQueue()
        let busName = "imgfn-bus-\(UUID().uuidString.prefix(8))"
        let bus = try EventBridgeBus(
            name: busName, endpoint: servers.motoEndpoint, environment: S3TestServers.environment)
        let queueARN = "arn:aws:sqs:us-east-1:123456789012:\(url.split(separator: "/").last ?? "")"
        for (operation, body) in [
            ("CreateEventBus", #"{"Name": "\#(busName)"}"#),
            (
                "PutRule",
                #"{"Name": "all", "EventBusName": "\#(busName)", "EventPattern": "{\"source\": [\"imgfn\"]}"}"#
            ),
            (
                "PutTargets",
                #"{"Rule": "all", "EventBusName": "\#(busName)", "Targets": [{"Id": "q", "Arn": "\#(queueARN)"}]}"#
            ),
        ] {
            _ = try await bus.client.call(operation, body: Array(body.utf8), what: operation)
        }
        let event = EventSamples.make(.s3Put, bucket: name, key: "uploads/set 0/p+0.jpg", size: 1)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("bus-\(UUID().uuidString).json")
        try Data(Self.config.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let environment =
            (S3TestServers.environment.merging(["IMGFN_EVENTS_ENDPOINT": servers.motoEndpoint]) { a, _ in a })
            .map { "\($0.key)=\($0.value)" }
        let result = try ChildProcess.run(
            environment + [
                BuiltProducts.path(of: "imgfn"), "invoke", "--event", "-", "--store", "s3://\(name)", "--endpoint",
                servers.motoEndpoint, "--config", config.path, "--event-bus", busName,
            ],
            input: Data(event.utf8))
        #expect(result.status == 0, "\(result.errors)")
        let bodies = try await receive(queue, url: url)
        #expect(bodies.count == 1)
        let body = try #require(bodies.first)
        let delivered = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(delivered["source"] as? String == "imgfn")
        #expect(delivered["detail-type"] as? String == "Derivatives Created")
        let detail = try #require(delivered["detail"] as? [String: Any])
        #expect(detail["manifestKey"] as? String == "derived/set 0/p+0/manifest.json")
        #expect(detail["sourceKey"] as? String == "uploads/set 0/p+0.jpg")
        #expect((detail["derivatives"] as? [[String: Any]])?.count == 2)
        #expect(try await store.head("derived/set 0/p+0/manifest.json") != nil)
    }
}
