import ImageService
import ServiceWiring
import Testing

@testable import ResizeFunction

/// The environment parsing, in-process (the process tests cover how failures are reported).
@Suite struct ConfigurationTests {
    @Test(arguments: [
        ("s3://", StoreLocation.s3(bucket: nil)),
        ("s3://photos", .s3(bucket: "photos")),
        ("s3://photos/", .s3(bucket: "photos")),
        ("file:///srv/bucket", .fileSystem(root: "/srv/bucket")),
        ("file:///srv/bucket/", .fileSystem(root: "/srv/bucket")),
    ])
    func storeLocations(_ text: String, _ expected: StoreLocation) throws {
        #expect(try FunctionConfiguration.parseStore(text) == expected)
    }

    @Test(arguments: ["s3://photos/prefix/", "file://relative", "https://example.com", "photos"])
    func invalidStoreLocations(_ text: String) {
        #expect(throws: FunctionError.self) { try FunctionConfiguration.parseStore(text) }
    }

    @Test func defaults() throws {
        let configuration = try FunctionConfiguration(environment: [:])
        #expect(configuration.pipelineSource == .builtIn)
        #expect(configuration.store == .s3(bucket: nil))
        #expect(configuration.s3.pathStyle == false)
        #expect(configuration.deadlineMarginMilliseconds == nil)
        #expect(configuration.functionName == "imgfn")
        #expect(configuration.faults == nil)
        #expect(configuration.queueURL == nil && configuration.reconcilePages == 1)
        #expect(configuration.requests.renderTimeout == .seconds(30))
    }

    @Test func everyVariable() throws {
        let configuration = try FunctionConfiguration(environment: [
            "IMGFN_CONFIG": "  {\"derivatives\": []} ", "IMGFN_STORE": "s3://out",
            "IMGFN_S3_ENDPOINT": "http://127.0.0.1:9000",
            "IMGFN_S3_PATH_STYLE": "1", "AWS_REGION": "eu-west-1", "IMGFN_DEADLINE_MARGIN_MS": "1500",
            "AWS_LAMBDA_FUNCTION_NAME": "resize", "IMGFN_TEST_TRANSIENT_KEYS": "a,b", "IMGFN_TEST_FETCH_DELAY_MS": "10",
            "IMGFN_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/work", "IMGFN_RECONCILE_PAGES": "4",
            "IMGFN_RENDER_TIMEOUT_MS": "2500",
        ])
        #expect(configuration.requests.renderTimeout == .milliseconds(2500))
        #expect(configuration.queueURL == "https://sqs.eu-west-1.amazonaws.com/123456789012/work")
        #expect(configuration.reconcilePages == 4)
        #expect(configuration.pipelineSource == .inline("{\"derivatives\": []}"))
        #expect(configuration.store == .s3(bucket: "out"))
        #expect(configuration.s3.endpoint == "http://127.0.0.1:9000")
        #expect(configuration.s3.pathStyle)
        #expect(configuration.s3.region == "eu-west-1")
        #expect(configuration.deadlineMarginMilliseconds == 1500)
        #expect(configuration.functionName == "resize")
        #expect(configuration.faults == .init(transientKeys: ["a", "b"], fetchDelayMilliseconds: 10))
        #expect(
            try FunctionConfiguration(environment: ["IMGFN_CONFIG": "conf/x.json"]).pipelineSource
                == .file(path: "conf/x.json"))
    }

    @Test func invalidConfigurationNamesTheProblem() throws {
        let error = try #require(throws: FunctionError.self) {
            try FunctionConfiguration(environment: ["IMGFN_CONFIG": #"{"derivatives": [{"name": "x", "width": 0}]}"#])
                .loadPipeline()
        }
        #expect(error.errorType == "Runtime.InvalidConfiguration")
        #expect(error.message.hasPrefix("IMGFN_CONFIG: "))
        #expect(error.message.contains("derivatives[0].width"))
        for value in ["0", "-5", "1.5", "soon"] {
            let refused = try #require(throws: FunctionError.self) {
                try FunctionConfiguration(environment: ["IMGFN_RENDER_TIMEOUT_MS": value])
            }
            #expect(
                refused.message
                    == "IMGFN_RENDER_TIMEOUT_MS: must be a whole number of milliseconds > 0, got \"\(value)\"")
        }
    }

    @Test(arguments: [
        (60_000 as Int64, nil as Int?, 6_000 as Int64),  // 10 % of a minute
        (10_000, nil, 2_000),  // at least 2 s
        (3_000, nil, 1_500),  // at most half
        (60_000, 500, 500),  // configured
    ])
    func deadlineMargins(_ budget: Int64, _ configured: Int?, _ expected: Int64) {
        let deadline = Deadline(deadlineMilliseconds: 1_000_000 + budget, configuredMargin: configured, now: 1_000_000)
        #expect(deadline.marginMilliseconds == expected)
        #expect(deadline.allowsNewWork(now: 1_000_000))
        #expect(!deadline.allowsNewWork(now: 1_000_000 + budget - expected))
    }

    @Test func noDeadlineNeverStops() {
        let deadline = Deadline(deadlineMilliseconds: nil, configuredMargin: nil, now: 0)
        #expect(deadline.allowsNewWork(now: .max / 2))
    }
}
