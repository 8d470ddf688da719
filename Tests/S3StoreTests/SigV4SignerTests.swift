import Foundation
import Testing

@testable import S3Store

@Suite struct SigV4SignerTests {
    /// Every case of the official suite: canonical request, string to sign, Authorization, and
    /// the headers the signer adds.
    @Test(arguments: SigV4TestCase.names)
    func officialTestVector(_ name: String) throws {
        let testCase = try SigV4TestCase(name: name)
        let signature = testCase.signer.sign(
            method: testCase.method, path: testCase.path, query: testCase.query, headers: testCase.headers,
            payloadHash: SigV4Signer.payloadHash(testCase.body), date: try testCase.date)
        #expect(signature.canonicalRequest == testCase.expectedCanonicalRequest)
        #expect(signature.stringToSign == testCase.expectedStringToSign)
        #expect(signature.authorization == testCase.expectedAuthorization)
        let added = Dictionary(
            signature.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(added == testCase.expectedAddedHeaders)
    }

    @Test func theSuiteIsThere() {
        // 38 cases at the pinned commit; a missing folder must not pass silently.
        #expect(SigV4TestCase.names.count == 38)
        for required in [
            "get-vanilla", "get-vanilla-query", "get-vanilla-query-order-key-case", "get-vanilla-query-unreserved",
            "get-vanilla-utf8-query", "get-header-key-duplicate", "get-header-value-trim", "get-header-value-multiline",
            "post-vanilla", "post-x-www-form-urlencoded", "post-sts-header-after", "post-sts-header-before",
            "get-utf8", "get-space-normalized", "get-space-unnormalized", "get-slash-dot-slash-normalized",
            "get-relative-relative-normalized",
        ] {
            #expect(SigV4TestCase.names.contains(required), "\(required)")
        }
    }

    /// The example in the S3 documentation ("Signature Calculations for the Authorization
    /// Header: Transferring Payload in a Single Chunk", GET Object).
    @Test func s3DocumentationExample() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let signature = signer.sign(
            method: "GET", path: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(
            signature.canonicalRequest == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3SignsThePathAsSent() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "s3")
        #expect(signer.canonicalURI("/a%20b/./c//d%2Be") == "/a%20b/./c//d%2Be")
        #expect(signer.canonicalURI("") == "/")
        let other = SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "sqs")
        #expect(other.canonicalURI("/a%20b/./c//d") == "/a%2520b/c/d")
    }

    @Test(arguments: [
        ("/", "/"), ("//", "/"), ("/a/b/..", "/a/"), ("/a/./b/", "/a/b/"), ("/../a", "/a"), ("/a/b/../../..", "/"),
        ("/a//b", "/a/b"), ("/a/.", "/a/"),
    ])
    func dotSegments(_ path: String, _ expected: String) {
        #expect(SigV4Signer.removeDotSegments(path) == expected)
    }

    @Test func canonicalQuerySortsEncodedNamesThenValues() {
        let query = SigV4Signer.canonicalQuery([
            ("prefix", "x y"), ("list-type", "2"), ("a", "b/c"), ("a", "a+b"), ("é", "日本"), ("empty", ""),
        ])
        #expect(query == "%C3%A9=%E6%97%A5%E6%9C%AC&a=a%2Bb&a=b%2Fc&empty=&list-type=2&prefix=x%20y")
    }

    @Test func headerValuesAreTrimmedAndCollapsed() {
        let (block, signed) = SigV4Signer.canonicalHeaders([
            ("X-B", "  two   words \t here "), ("Host", "h"), ("x-b", "second"), ("User-Agent", "not signed"),
            ("X-Amzn-Trace-Id", "Root=1-abc"),
        ])
        #expect(block == "host:h\nx-b:two words here,second\n")
        #expect(signed == "host;x-b")
    }

    @Test func sessionTokenAndContentHashAreAddedForS3() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOKEN"),
            region: "us-east-1", service: "s3")
        let signature = signer.sign(
            method: "PUT", path: "/k", headers: [("Host", "b.s3.us-east-1.amazonaws.com"), ("X-Amz-Date", "old")],
            payloadHash: SigV4Signer.unsignedPayload, date: Date(timeIntervalSince1970: 0))
        #expect(
            signature.headers.map(\.name) == [
                "X-Amz-Date", "x-amz-content-sha256", "X-Amz-Security-Token", "Authorization",
            ])
        #expect(signature.headers[0].value == "19700101T000000Z")
        #expect(signature.headers[1].value == "UNSIGNED-PAYLOAD")
        #expect(signature.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        #expect(!signature.canonicalRequest.contains("old"))
    }

    @Test(arguments: [
        (0.0, "19700101T000000Z"), (951_782_400, "20000229T000000Z"), (1_440_938_160, "20150830T123600Z"),
        (4_102_444_799.9, "20991231T235959Z"), (-1, "19691231T235959Z"),
    ])
    func amzDate(_ seconds: Double, _ expected: String) {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func credentialsDescriptionHidesSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "t0k3n")
        let text = "\(credentials) \(String(reflecting: credentials))"
        #expect(text.contains("AKID"))
        #expect(!text.contains("s3cr3t"))
        #expect(!text.contains("t0k3n"))
    }

    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
}
