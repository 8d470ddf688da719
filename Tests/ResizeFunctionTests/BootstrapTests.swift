import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import Testing

/// The real `bootstrap` as a child process against a Runtime API server in this process,
/// on a filesystem store. Serialized: each test runs libvips in its own child, and two cores
/// are better spent on one at a time than on timing noise.
@Suite(.serialized)
struct BootstrapTests {
    @Test func s3EventEndToEnd() async throws {
        try await Harness.run(sources: ["uploads/2024/storm.jpg": "photos/storm.jpg"]) { h in
            let size = try h.size(of: "uploads/2024/storm.jpg")
            let payload = EventSamples.make(.s3Put, bucket: "photos", key: "uploads/2024/storm.jpg", size: size)
            h.server.enqueue(.init(requestId: "req-s3", payload: payload))

            let result = try await h.server.waitForResult(of: "req-s3")
            h.printColdInit("s3 event")
            #expect(result.path == "/2018-06-01/runtime/invocation/req-s3/response")
            let summary = try #require(result.json, "\(result.body)")
            #expect(summary["source"] as? String == "s3")
            #expect(number(summary["ok"]) == 1)
            #expect(number(summary["failed"]) == 0)
            #expect(number(summary["derivativesWritten"]) == 2)
            #expect((summary["results"] as? [Any])?.count == 1)
            for key in [
                "derived/2024/storm/w64.jpg", "derived/2024/storm/w64.webp", "derived/2024/storm/manifest.json",
            ] {
                #expect(h.exists(key), "\(key) missing")
            }
            let manifestData = try Data(
                contentsOf: URL(fileURLWithPath: h.bucket + "/derived/2024/storm/manifest.json"))
            let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
            #expect((manifest["derivatives"] as? [Any])?.count == 2)

            // Logs: one JSON object per line with the required fields.
            let logs = h.logLines()
            #expect(!logs.isEmpty)
            for line in logs {
                let timestamp = line["timestamp"] as? String ?? ""
                #expect(
                    timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "timestamp \(timestamp)")
                #expect(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].contains(line["level"] as? String ?? ""))
                #expect(line["message"] is String)
            }
            let ready = try #require(logs.first { $0["message"] as? String == "ready" })
            #expect(ready["requestId"] == nil)
            #expect(number(ready["initMs"]) != nil)
            let record = try #require(logs.first { $0["message"] as? String == "record done" })
            #expect(record["requestId"] as? String == "req-s3")
            #expect(record["level"] as? String == "INFO")
            #expect(record["bucket"] as? String == "photos")
            #expect(record["key"] as? String == "uploads/2024/storm.jpg")
            #expect(record["outcome"] as? String == "ok")
            #expect(number(record["files"]) == 2)
            let done = try #require(logs.first { $0["message"] as? String == "invocation done" })
            #expect(done["requestId"] as? String == "req-s3")
            #expect(number(done["ok"]) == 1)
            #expect(!h.function.output.contains("AWS_SECRET_ACCESS_KEY"))

            // One EMF line for the invocation.
            let metrics = try #require(h.metricLines().first)
            #expect(h.metricLines().count == 1)
            let aws = try #require(metrics["_aws"] as? [String: Any])
            #expect(number(aws["Timestamp"]) != nil)
            let directive = try #require((aws["CloudWatchMetrics"] as? [[String: Any]])?.first)
            #expect(directive["Namespace"] as? String == "imgfn")
            #expect(directive["Dimensions"] as? [[String]] == [["FunctionName"]])
            let names = (directive["Metrics"] as? [[String: Any]])?.compactMap { $0["Name"] as? String } ?? []
            let expected = [
                "FetchMs", "DecodeMs", "DeriveMs", "EncodeMs", "StoreMs", "TotalMs", "BytesIn", "BytesOut",
                "DerivativesWritten",
                "Failures", "ColdStart",
            ]
            #expect(names == expected)
            for name in expected { #expect(number(metrics[name]) != nil, "\(name) missing") }
            #expect(metrics["FunctionName"] as? String == "imgfn-test")
            #expect(metrics["requestId"] as? String == "req-s3")
            #expect(number(metrics["ColdStart"]) == 1)
            #expect(number(metrics["BytesIn"]) == Double(size))
            #expect(number(metrics["DerivativesWritten"]) == 2)
            #expect(number(metrics["Failures"]) == 0)
            #expect((number(metrics["BytesOut"]) ?? 0) > 0)
            #expect((number(metrics["TotalMs"]) ?? 0) > 0)
        }
    }

    @Test func sqsBatchReportsOnlyTransientFailures() async throws {
        let sources = [
            "uploads/good.jpg": "photos/storm.jpg", "uploads/bad.jpg": "bad/truncated.jpg",
            "uploads/flaky.jpg": "photos/storm.jpg",
        ]
        try await Harness.run(sources: sources, environment: ["IMGFN_TEST_TRANSIENT_KEYS": "uploads/flaky.jpg"]) { h in
            let bodies = try ["uploads/good.jpg", "uploads/bad.jpg", "uploads/flaky.jpg"].map { key in
                EventSamples.make(.s3Put, bucket: "photos", key: key, size: try h.size(of: key))
            }
            h.server.enqueue(.init(requestId: "req-sqs", payload: EventSamples.sqs(bodies)))

            let result = try await h.server.waitForResult(of: "req-sqs")
            h.printColdInit("sqs batch")
            #expect(result.path == "/2018-06-01/runtime/invocation/req-sqs/response")
            let response = try #require(result.json, "\(result.body)")
            let failures = try #require(response["batchItemFailures"] as? [[String: String]])
            #expect(failures == [["itemIdentifier": "msg-3"]])

            #expect(h.exists("derived/good/manifest.json"))
            #expect(h.exists("derived/_failures/bad.json"), "the permanent failure is recorded")
            #expect(!h.exists("derived/bad/manifest.json"))
            #expect(!h.exists("derived/flaky/manifest.json"))
            #expect(!h.exists("derived/_failures/flaky.json"), "a transient failure writes nothing")

            let logs = h.logLines()
            let bad = try #require(logs.first { $0["key"] as? String == "uploads/bad.jpg" })
            #expect(bad["level"] as? String == "ERROR")
            #expect(bad["code"] as? String == "corruptImage")
            #expect(bad["messageId"] as? String == "msg-2")
            let flaky = try #require(logs.first { $0["key"] as? String == "uploads/flaky.jpg" })
            #expect(flaky["level"] as? String == "WARN")
            #expect(flaky["transient"] as? Bool == true)
            let metrics = try #require(h.metricLines().first)
            #expect(number(metrics["Failures"]) == 2)
            #expect(number(metrics["DerivativesWritten"]) == 2)
        }
    }

    /// S3 Batch Operations (schema 1.0 and 2.0): one result per task, by task ID.
    @Test(arguments: ["1.0", "2.0"])
    func s3BatchOperationsTasksAreAnsweredOneByOne(_ schema: String) async throws {
        let sources = [
            "uploads/a b+c.jpg": "photos/storm.jpg", "uploads/bad.jpg": "bad/truncated.jpg",
            "uploads/flaky.jpg": "photos/storm.jpg",
        ]
        try await Harness.run(sources: sources, environment: ["IMGFN_TEST_TRANSIENT_KEYS": "uploads/flaky.jpg"]) { h in
            func task(_ id: String, _ key: String) -> [String: Any] {
                var task: [String: Any] = ["taskId": id, "s3Key": key, "s3VersionId": NSNull()]
                if schema == "1.0" { task["s3BucketArn"] = "arn:aws:s3:::photos" } else { task["s3Bucket"] = "photos" }
                return task
            }
            let invocation: [String: Any] = [
                "invocationSchemaVersion": schema, "invocationId": "inv-\(schema)",
                "job": ["id": "job-1", "userArguments": ["k": "v"]],
                "tasks": [
                    task("t-good", "uploads/a%20b%2Bc.jpg"), task("t-bad", "uploads/bad.jpg"),
                    task("t-missing", "uploads/never.jpg"), task("t-flaky", "uploads/flaky.jpg"),
                    task("t-broken", "uploads/%E9%ZZ.jpg"),
                ],
            ]
            let payload = String(decoding: try JSONSerialization.data(withJSONObject: invocation), as: UTF8.self)
            h.server.enqueue(.init(requestId: "req-batch", payload: payload))

            let result = try await h.server.waitForResult(of: "req-batch")
            #expect(result.path == "/2018-06-01/runtime/invocation/req-batch/response")
            let response = try #require(result.json, "\(result.body)")
            #expect(response["invocationSchemaVersion"] as? String == schema)
            #expect(response["invocationId"] as? String == "inv-\(schema)")
            #expect(response["treatMissingKeysAs"] as? String == "PermanentFailure")
            let results = try #require(response["results"] as? [[String: String]])
            #expect(results.map { $0["taskId"] } == ["t-good", "t-bad", "t-missing", "t-flaky", "t-broken"])
            #expect(
                results.map { $0["resultCode"] } == [
                    "Succeeded", "PermanentFailure", "PermanentFailure", "TemporaryFailure", "PermanentFailure",
                ])
            #expect(results[0]["resultString"] == "2 files, manifest derived/a b+c/manifest.json")
            #expect(results[1]["resultString"]?.hasPrefix("corruptImage: ") == true)
            #expect(results[2]["resultString"]?.hasPrefix("notFound: ") == true)
            #expect(h.exists("derived/a b+c/manifest.json"))
            #expect(h.exists("derived/_failures/bad.json"))
        }
    }

    @Test func unknownEventIsAnInvocationError() async throws {
        try await Harness.run { h in
            h.server.enqueue(.init(requestId: "req-unknown", payload: #"{"hello": "world"}"#))
            h.server.enqueue(.init(requestId: "req-not-json", payload: "this is not json"))
            h.server.enqueue(
                .init(requestId: "req-test", payload: EventSamples.make(.s3Test, bucket: "b", key: "k", size: 0)))

            for (id, reason) in [("req-unknown", "unknown event shape"), ("req-not-json", "not valid JSON")] {
                let result = try await h.server.waitForResult(of: id)
                #expect(result.path == "/2018-06-01/runtime/invocation/\(id)/error")
                #expect(result.headers.first(name: "Lambda-Runtime-Function-Error-Type") == "Runtime.InvalidEvent")
                let body = try #require(result.json, "\(result.body)")
                #expect(body["errorType"] as? String == "Runtime.InvalidEvent")
                #expect((body["errorMessage"] as? String)?.contains(reason) == true, "\(body)")
            }
            // Still serving: the next invocation is answered.
            let test = try await h.server.waitForResult(of: "req-test")
            #expect(test.path == "/2018-06-01/runtime/invocation/req-test/response")
            #expect(h.function.process.isRunning)
            let logs = h.logLines()
            #expect(
                logs.contains {
                    $0["message"] as? String == "invalid event" && $0["requestId"] as? String == "req-unknown"
                })
            #expect(h.metricLines().count == 3)
        }
    }

    static let invalidStartups: [(name: String, environment: [String: String], message: String)] = [
        (
            "empty derivatives", ["IMGFN_CONFIG": #"{"derivatives": []}"#],
            "derivatives: must list at least one derivative"
        ),
        ("unknown key", ["IMGFN_CONFIG": #"{"output": {"prefx": "x/"}}"#], "output.prefx: unknown key"),
        ("missing file", ["IMGFN_CONFIG": "/nonexistent/imgfn.json"], "IMGFN_CONFIG (/nonexistent/imgfn.json)"),
        ("bad store", ["IMGFN_STORE": "ftp://example"], "IMGFN_STORE"),
        ("relative directory", ["IMGFN_STORE": "file://relative/dir"], "IMGFN_STORE"),
        ("s3 without credentials", ["IMGFN_STORE": "s3://"], "no AWS credentials"),
        ("bad margin", ["IMGFN_DEADLINE_MARGIN_MS": "soon"], "IMGFN_DEADLINE_MARGIN_MS"),
        ("bad queue", ["IMGFN_QUEUE_URL": "sqs-queue"], "IMGFN_QUEUE_URL: SQS queue URL \"sqs-queue\""),
        ("bad reconcile pages", ["IMGFN_RECONCILE_PAGES": "0"], "IMGFN_RECONCILE_PAGES"),
        ("unusable event bus", ["IMGFN_EVENT_BUS": "imgfn", "IMGFN_EVENTS_ENDPOINT": "ftp://x"], "IMGFN_EVENT_BUS: "),
    ]

    @Test(arguments: invalidStartups.indices)
    func invalidConfigurationIsAnInitError(_ index: Int) async throws {
        let (name, environment, message) = Self.invalidStartups[index]
        try await Harness.run(environment: environment) { h in
            let result = try await h.server.waitForRequest("/init/error (\(name))") { $0.path.hasSuffix("/init/error") }
            #expect(result.path == "/2018-06-01/runtime/init/error")
            #expect(result.headers.first(name: "Lambda-Runtime-Function-Error-Type") == "Runtime.InvalidConfiguration")
            let body = try #require(result.json, "\(result.body)")
            #expect(body["errorType"] as? String == "Runtime.InvalidConfiguration")
            #expect((body["errorMessage"] as? String)?.contains(message) == true, "\(name): \(body)")
            let status = await h.function.waitForExit(timeout: .seconds(30))
            #expect(status == 1)
            #expect(!h.server.requests.contains { $0.path.hasSuffix("/next") }, "start-up must fail before /next")
            let fatal = h.logLines().first { $0["level"] as? String == "FATAL" }
            #expect(fatal?["errorType"] as? String == "Runtime.InvalidConfiguration")
        }
    }

    @Test func deadlineStopsTheBatchEarly() async throws {
        let keys = ["uploads/a.jpg", "uploads/b.jpg", "uploads/c.jpg"]
        let environment = ["IMGFN_DEADLINE_MARGIN_MS": "2000", "IMGFN_TEST_FETCH_DELAY_MS": "1500"]
        try await Harness.run(
            sources: Dictionary(uniqueKeysWithValues: keys.map { ($0, "photos/storm.jpg") }), environment: environment
        ) { h in
            let bodies = try keys.map { EventSamples.make(.s3Put, bucket: "photos", key: $0, size: try h.size(of: $0)) }
            // 4.5 s left: the first record starts (more than the 2 s margin remains) and its
            // two fetches (the manifest's and the object's) take 3 s, so the margin is crossed
            // before the second; its set is made before the last quarter of the margin, where
            // it would be stopped.
            h.server.enqueue(
                .init(requestId: "req-deadline", payload: EventSamples.sqs(bodies), deadlineIn: .milliseconds(4500)))

            let result = try await h.server.waitForResult(of: "req-deadline")
            let response = try #require(result.json, "\(result.body)")
            let failures = try #require(response["batchItemFailures"] as? [[String: String]])
            #expect(failures == [["itemIdentifier": "msg-2"], ["itemIdentifier": "msg-3"]])
            #expect(h.exists("derived/a/manifest.json"))
            #expect(!h.exists("derived/b/manifest.json"))
            #expect(!h.exists("derived/c/manifest.json"))
            let stopped = h.logLines().filter { $0["code"] as? String == "deadline" }
            #expect(stopped.compactMap { $0["messageId"] as? String } == ["msg-2", "msg-3"])
        }
    }

    /// A set that would run past the deadline is stopped inside libvips when a quarter of the
    /// margin is left: the invocation answers with its records' results (the stopped one to be retried,
    /// nothing of it stored) instead of timing out, and the same process goes on.
    @Test func aSetStillBeingMadeAtTheDeadlineIsStoppedAndRetried() async throws {
        // A full-size PNG at zlib level 9 and a JPEG of the 24 MP photo: ~3.5 s on two cores.
        let heavy =
            #"{"derivatives": [{"name": "full", "width": 8000, "formats": ["png", "jpeg"]}], "#
            + #""encode": {"png": {"compression": 9}}}"#
        let environment = ["IMGFN_DEADLINE_MARGIN_MS": "2000", "IMGFN_CONFIG": heavy]
        try await Harness.run(
            sources: ["uploads/big.jpg": "large/kleiber-24mp.jpg", "uploads/small.jpg": "photos/storm.jpg"],
            environment: environment
        ) { h in
            let bodies = try ["uploads/big.jpg", "uploads/small.jpg"].map {
                EventSamples.make(.s3Put, bucket: "photos", key: $0, size: try h.size(of: $0))
            }
            // 2.3 s left: the first record starts (more than the 2 s margin remains) and is
            // stopped 0.5 s before the deadline (a quarter of the margin); the second is not
            // started.
            h.server.enqueue(
                .init(requestId: "req-late", payload: EventSamples.sqs(bodies), deadlineIn: .milliseconds(2300)))
            let result = try await h.server.waitForResult(of: "req-late")
            let response = try #require(result.json, "\(result.body)")
            let failures = try #require(response["batchItemFailures"] as? [[String: String]])
            #expect(failures == [["itemIdentifier": "msg-1"], ["itemIdentifier": "msg-2"]])
            let stopped = try #require(h.logLines().first { $0["messageId"] as? String == "msg-1" })
            #expect(stopped["code"] as? String == "deadline")
            #expect(stopped["transient"] as? Bool == true, "\(stopped)")
            #expect(
                stopped["reason"] as? String == "the derivative set was stopped at the invocation's deadline",
                "\(stopped)")
            // Nothing of the stopped set, and no failure record: it is to be retried.
            let derived = (try? FileManager.default.subpathsOfDirectory(atPath: h.bucket + "/derived")) ?? []
            #expect(derived.isEmpty, "\(derived)")

            // The same process takes the next invocation (no deadline) and makes its set.
            h.server.enqueue(.init(requestId: "req-next", payload: bodies[1]))
            let next = try await h.server.waitForResult(of: "req-next")
            #expect(next.path.hasSuffix("/req-next/response"), "\(next.body)")
            #expect(h.exists("derived/small/manifest.json"))
            #expect(h.function.process.isRunning)
            let coldStarts = h.metricLines().map { number($0["ColdStart"]) }
            #expect(coldStarts == [1, 0])
        }
    }

    @Test func reconnectsWhenTheConnectionIsDropped() async throws {
        try await Harness.run(sources: ["uploads/storm.jpg": "photos/storm.jpg"]) { h in
            // The process "thaws" to find its waiting /next connection gone.
            _ = try await h.server.waitForRequest("the first /next") { $0.path.hasSuffix("/next") }
            let waitLimit = ContinuousClock.now + .seconds(30)
            while h.server.waitingNextRequests == 0 && ContinuousClock.now < waitLimit {
                try await Task.sleep(for: .milliseconds(10))
            }
            try #require(h.server.waitingNextRequests == 1)
            h.server.dropWaitingNextRequests()
            // And the server closes the connection after each result.
            h.server.closeConnectionsAfterResults(true)

            h.server.enqueue(
                .init(requestId: "req-1", payload: EventSamples.make(.s3Test, bucket: "photos", key: "k", size: 0)))
            let first = try await h.server.waitForResult(of: "req-1")
            #expect(first.path.hasSuffix("/req-1/response"))

            let size = try h.size(of: "uploads/storm.jpg")
            h.server.enqueue(
                .init(
                    requestId: "req-2",
                    payload: EventSamples.make(.s3Put, bucket: "photos", key: "uploads/storm.jpg", size: size)))
            let second = try await h.server.waitForResult(of: "req-2")
            #expect(second.path.hasSuffix("/req-2/response"))
            #expect(h.exists("derived/storm/manifest.json"))

            let nexts = h.server.requests.filter { $0.path.hasSuffix("/next") }
            #expect(second.connection > first.connection, "a new connection after the server closed the old one")
            #expect(first.connection > nexts[0].connection, "a new connection after the dropped /next")
            #expect(h.function.process.isRunning)
            let coldStarts = h.metricLines().map { number($0["ColdStart"]) }
            #expect(coldStarts == [1, 0])
        }
    }

    @Test func s3StoreSignsAndForwardsTheTraceId() async throws {
        let secrets = ["secret-that-must-not-be-logged", "token-that-must-not-be-logged"]
        let environment = [
            "IMGFN_STORE": "s3://", "IMGFN_S3_ENDPOINT": "http://127.0.0.1:{port}", "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": secrets[0], "AWS_SESSION_TOKEN": secrets[1],
        ]
        try await Harness.run(environment: environment) { h in
            let payload = EventSamples.make(.s3Put, bucket: "photos", key: "uploads/missing.jpg", size: 1000)
            var finished: [ContinuousClock.Instant] = []
            for (id, trace) in [
                ("req-a", "Root=1-aaaaaaaa-aaaa;Sampled=1"), ("req-b", "Root=1-bbbbbbbb-bbbb;Sampled=0"),
            ] {
                h.server.enqueue(.init(requestId: id, payload: payload, traceId: trace))
                let result = try await h.server.waitForResult(of: id)
                finished.append(result.received)
                // The server's S3 has no such object: a permanent failure, answered (and not
                // recorded: a record of a source that is not there would outlive it).
                #expect(result.path.hasSuffix("/\(id)/response"))
                let summary = try #require(result.json, "\(result.body)")
                #expect(number(summary["failed"]) == 1)
                #expect(number(summary["transientFailures"]) == 0)
            }
            let s3 = h.server.requests.filter { !$0.path.hasPrefix("/2018-06-01/") }
            #expect(s3.first?.method == .HEAD)
            #expect(s3.first?.path == "/photos/uploads/missing.jpg", "path-style for an IP endpoint")
            #expect(!s3.contains { $0.method == .PUT }, "\(s3.map { "\($0.method) \($0.path)" })")
            for request in s3 {
                let authorization = request.headers.first(name: "Authorization") ?? ""
                #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "\(authorization)")
                #expect(authorization.contains("/eu-west-1/s3/aws4_request"))
                #expect(request.headers.first(name: "X-Amz-Security-Token") == secrets[1])
                // Each invocation's requests carry that invocation's trace ID.
                let expected =
                    request.received < finished[0] ? "Root=1-aaaaaaaa-aaaa;Sampled=1" : "Root=1-bbbbbbbb-bbbb;Sampled=0"
                #expect(request.headers.first(name: "X-Amzn-Trace-Id") == expected, "\(request.method) \(request.path)")
            }
            #expect(s3.contains { $0.received > finished[0] })
            for secret in secrets {
                #expect(!h.function.output.contains(secret) && !h.function.errors.contains(secret))
            }
        }
    }

    @Test func textLogFormatAndLevel() async throws {
        let environment = ["AWS_LAMBDA_LOG_FORMAT": "Text", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"]
        try await Harness.run(environment: environment) { h in
            h.server.enqueue(
                .init(requestId: "req-text", payload: EventSamples.make(.s3Test, bucket: "b", key: "k", size: 0)))
            _ = try await h.server.waitForResult(of: "req-text")
            let lines = h.function.output.split(separator: "\n").map(String.init)
            let ready = try #require(lines.first { $0.contains("\tready") }, "\(lines)")
            #expect(
                ready.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tINFO\t-\tready .*/) != nil, "\(ready)")
            let received = try #require(
                lines.first { $0.contains("\tDEBUG\treq-text\tinvocation received ") }, "\(lines)")
            #expect(
                received.contains(
                    #" traceId="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1""#))
            #expect(lines.contains { $0.hasPrefix("{\"_aws\":") }, "the metrics stay JSON")
        }
        try await Harness.run(environment: ["AWS_LAMBDA_LOG_LEVEL": "ERROR"]) { h in
            h.server.enqueue(.init(requestId: "req-quiet", payload: #"{"unknown": true}"#))
            _ = try await h.server.waitForResult(of: "req-quiet")
            let levels = Set(h.logLines().compactMap { $0["level"] as? String })
            #expect(levels == ["ERROR"])
            #expect(h.metricLines().count == 1)
        }
    }
}
