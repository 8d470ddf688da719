import ImageService
import Testing

@testable import ImagePipeline
@testable import ResizeFunction

/// Log line and metrics formatting, in-process.
@Suite struct LoggingTests {
    @Test func jsonStringsAreEscaped() {
        #expect(JSONLine.quoted("a\"b\\c\nd\te\u{1}") == #""a\"b\\c\nd\te\u0001""#)
        #expect(JSONLine.quoted("ünï ✓") == "\"ünï ✓\"")
    }

    @Test(arguments: [(3.0, "3"), (2.5, "2.5"), (1.23456, "1.235"), (Double.nan, "0")])
    func numbers(_ value: Double, _ expected: String) {
        #expect(JSONLine.number(value) == expected)
    }

    @Test func fieldsKeepTheirOrder() {
        var line = JSONLine()
        line.field("timestamp", "t")
        line.field("level", "INFO")
        line.field("count", 3)
        line.field("ok", true)
        #expect(line.finished() == #"{"timestamp":"t","level":"INFO","count":3,"ok":true}"#)
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(Timestamp.rfc3339(millisecondsSinceEpoch: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(millisecondsSinceEpoch: 1_764_064_800_042) == "2025-11-25T10:00:00.042Z")
    }

    @Test func levelsAndFormatsFromTheEnvironment() {
        let text = LogConfiguration(environment: ["AWS_LAMBDA_LOG_FORMAT": "Text", "AWS_LAMBDA_LOG_LEVEL": "warn"])
        #expect(text.format == .text)
        #expect(text.minimumLevel == .warn)
        #expect(text.problems.isEmpty)
        let bad = LogConfiguration(environment: ["AWS_LAMBDA_LOG_FORMAT": "XML", "AWS_LAMBDA_LOG_LEVEL": "LOUD"])
        #expect(bad.format == .json)
        #expect(bad.minimumLevel == .info)
        #expect(bad.problems.count == 2)
        #expect(Logger(LogConfiguration(minimumLevel: .error)).isEnabled(.fatal))
        #expect(!Logger(LogConfiguration(minimumLevel: .error)).isEnabled(.warn))
    }

    @Test func metricsSumTheRecords() {
        var ok = RecordResult(
            messageId: "m1", bucket: "b", key: "k", outcome: .ok(files: 3, manifestKey: "m"), metrics: .init())
        ok.metrics.fetchMilliseconds = 2
        ok.metrics.bytesIn = 100
        ok.metrics.bytesOut = 40
        let failed = RecordResult(
            messageId: "m2", outcome: .failed(transient: true, code: .deadline, reason: "r"), metrics: .init())
        var metrics = InvocationMetrics(coldStart: true)
        metrics.add([ok, failed, ok])
        #expect(metrics.fetchMilliseconds == 4)
        #expect(metrics.bytesIn == 200)
        #expect(metrics.bytesOut == 80)
        #expect(metrics.derivativesWritten == 6)
        #expect(metrics.failures == 1)
        let line = metrics.embeddedMetricFormat(functionName: "f", requestId: "r", timestamp: 7)
        #expect(line.hasPrefix(#"{"_aws":{"Timestamp":7,"CloudWatchMetrics":[{"Namespace":"imgfn","#))
        #expect(line.contains(#""ColdStart":1}"#))
    }

    @Test func batchResponseListsOnlyTransientFailures() {
        let results = [
            RecordResult(messageId: "ok", outcome: .ok(files: 1, manifestKey: "m"), metrics: .init()),
            RecordResult(
                messageId: "bad", outcome: .failed(transient: false, code: .corruptImage, reason: ""), metrics: .init()
            ),
            RecordResult(
                messageId: "later", outcome: .failed(transient: true, code: .deadline, reason: ""), metrics: .init()),
        ]
        #expect(
            String(decoding: BatchResponse(results).jsonBytes(), as: UTF8.self)
                == #"{"batchItemFailures":[{"itemIdentifier":"later"}]}"#)
    }
}
