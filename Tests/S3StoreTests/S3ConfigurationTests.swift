import ImagePipeline
import ImgfnBase
import Testing

@testable import S3Store

@Suite struct S3ConfigurationTests {
    static let environment = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"]

    @Test func awsDefaults() throws {
        let configuration = try S3Configuration(bucket: "photos", environment: Self.environment)
        #expect(configuration.region == "us-east-1")
        #expect(configuration.scheme == "https")
        #expect(configuration.addressing == .virtualHosted)
        #expect(configuration.requestHost == "photos.s3.us-east-1.amazonaws.com")
        #expect(configuration.path(for: "a b/c+d.jpg") == "/a%20b/c%2Bd.jpg")
        #expect(configuration.path(for: nil) == "/")
        #expect(configuration.credentials == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET"))
        #expect(configuration.retryPolicy.maxAttempts == 4)
    }

    @Test func regionComesFromTheEnvironment() throws {
        var environment = Self.environment
        environment["AWS_DEFAULT_REGION"] = "eu-west-1"
        #expect(try S3Configuration(bucket: "b-1", environment: environment).region == "eu-west-1")
        environment["AWS_REGION"] = "ap-southeast-2"
        let configuration = try S3Configuration(bucket: "b-1", environment: environment)
        #expect(configuration.region == "ap-southeast-2")
        #expect(configuration.requestHost == "b-1.s3.ap-southeast-2.amazonaws.com")
        #expect(try S3Configuration(bucket: "b-1", region: "us-west-2", environment: environment).region == "us-west-2")
        #expect(
            try S3Configuration(bucket: "b-1", region: "cn-north-1", environment: environment).host
                == "s3.cn-north-1.amazonaws.com.cn")
    }

    @Test func sessionTokenComesFromTheEnvironment() throws {
        var environment = Self.environment
        environment["AWS_SESSION_TOKEN"] = "TOKEN"
        #expect(try S3Configuration(bucket: "b-1", environment: environment).credentials.sessionToken == "TOKEN")
        environment["AWS_SESSION_TOKEN"] = ""
        #expect(try S3Configuration(bucket: "b-1", environment: environment).credentials.sessionToken == nil)
    }

    @Test func missingCredentialsAreAnError() {
        let error = #expect(throws: ImgfnError.self) {
            _ = try S3Configuration(bucket: "b-1", environment: ["AWS_ACCESS_KEY_ID": "AKID"])
        }
        #expect(error?.code == .invalidOptions)
        #expect(error?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
    }

    @Test(arguments: [
        ("http://127.0.0.1:9000", S3Configuration.Addressing.pathStyle, "127.0.0.1:9000", "/my-bucket/k"),
        ("http://localhost:4566/", .pathStyle, "localhost:4566", "/my-bucket/k"),
        ("http://[::1]:9000", .pathStyle, "[::1]:9000", "/my-bucket/k"),
        ("https://r2.example.com", .virtualHosted, "my-bucket.r2.example.com", "/k"),
        ("https://minio.example.com:443", .virtualHosted, "my-bucket.minio.example.com", "/k"),
        ("http://minio.example.com:80", .virtualHosted, "my-bucket.minio.example.com", "/k"),
    ])
    func endpoints(_ endpoint: String, _ style: S3Configuration.Addressing, _ host: String, _ path: String) throws {
        let configuration = try S3Configuration(bucket: "my-bucket", endpoint: endpoint, environment: Self.environment)
        #expect(configuration.addressing == style)
        #expect(configuration.requestHost == host)
        #expect(configuration.path(for: "k") == path)
    }

    @Test func pathStyleWhenAskedOrWhenTheBucketIsNotADNSLabel() throws {
        let asked = try S3Configuration(bucket: "photos", addressing: .pathStyle, environment: Self.environment)
        #expect(asked.requestHost == "s3.us-east-1.amazonaws.com")
        #expect(asked.path(for: "x/y.jpg") == "/photos/x/y.jpg")
        #expect(asked.path(for: nil) == "/photos")
        for bucket in ["my.dotted.bucket", "Upper", "under_score", "ab"] {
            #expect(try S3Configuration(bucket: bucket, environment: Self.environment).addressing == .pathStyle)
        }
    }

    @Test(arguments: ["ftp://host", "http://", "127.0.0.1:9000", "http://host/prefix", "http://host?x=1"])
    func badEndpointsAreRefused(_ endpoint: String) {
        let error = #expect(throws: ImgfnError.self) {
            _ = try S3Configuration(bucket: "b-1", endpoint: endpoint, environment: Self.environment)
        }
        #expect(error?.code == .invalidOptions)
    }

    @Test func keysAreEncodedPerSegment() {
        #expect(URIEncoding.encodeKey("a b/c+d/%/é/日本/~-_.") == "a%20b/c%2Bd/%25/%C3%A9/%E6%97%A5%E6%9C%AC/~-_.")
        #expect(URIEncoding.encodeKey("a//b/") == "a//b/")
        #expect(URIEncoding.encode("a/b") == "a%2Fb")
    }

    @Test func retryDelaysGrowExponentiallyUpToTheCap() {
        let policy = S3RetryPolicy()
        #expect(
            (1...8).map(policy.delayCap(beforeRetry:)) == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600),
                .milliseconds(3200), .seconds(5), .seconds(5),
            ])
        #expect(policy.delayCap(beforeRetry: 1000) == .seconds(5))
        for retry in 1...8 {
            for _ in 0..<50 {
                let delay = policy.delay(beforeRetry: retry)
                #expect(delay >= .zero && delay <= policy.delayCap(beforeRetry: retry))
            }
        }
        // Full jitter: the waits spread over the whole range, not just near the cap.
        let delays = (0..<200).map { _ in policy.delay(beforeRetry: 6) }
        #expect(delays.contains { $0 < .milliseconds(1600) } && delays.contains { $0 > .milliseconds(1600) })
        #expect(S3RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }
}
