import AsyncHTTPClient
import Foundation
import ImagePipeline
import ImgfnBase
import NIOHTTP1
import Testing

@testable import S3Store

/// The store's signed requests compared with botocore's `S3SigV4Auth` (botocore_sign.py) for the
/// same requests: same URL (botocore encodes the key itself), same signed headers, same
/// Authorization.
@Suite struct BotocoreComparisonTests {
    struct Case: Encodable, Sendable, CustomStringConvertible {
        var label: String
        var region = "us-east-1"
        var endpoint: String?
        var pathStyle = false
        var bucket = "my-bucket"
        var key: String?
        var query: [[String]] = []
        var method = "GET"
        var headers: [[String]] = []
        var bodyBase64 = ""
        var unsignedPayload = false

        var description: String { label }

        enum CodingKeys: String, CodingKey {
            case region, endpoint, bucket, key, query, method, headers
            case pathStyle = "path_style"
            case bodyBase64 = "body_base64"
            case unsignedPayload = "unsigned_payload"
        }
    }

    struct Signed: Decodable {
        var url: String
        var canonicalRequest: String
        var headers: [String: String]
    }

    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+example/session+token==")
    /// 2024-03-15T10:20:30Z
    static let date = Date(timeIntervalSince1970: 1_710_498_030)
    static let timestamp = "20240315T102030Z"

    static let putBody = Array("not really a JPEG, but bytes all the same\n".utf8)
    static let metadata = [
        "derived-by": "imgfn", "source-key": "uploads/café 1.jpg", "config-hash": "9f86d081884c7d65",
    ]

    static let cases: [Case] = [
        Case(label: "plain key", key: "photo.jpg"),
        Case(label: "space", region: "eu-west-1", key: "with space.jpg"),
        Case(label: "plus", key: "a+b.jpg"),
        Case(label: "percent", key: "100%.jpg"),
        Case(label: "encoded-looking", key: "already%20encoded.jpg"),
        Case(label: "é", key: "café/é.jpg"),
        Case(label: "日本", region: "ap-northeast-1", key: "日本/写真.jpg"),
        Case(label: "deep path", key: "a/b/c.jpg"),
        Case(label: "reserved characters", key: "deep/x y/z+w/~!'()*&=;:@,$.jpg"),
        Case(label: "dot segments kept", key: "a/./b/../c//d.jpg"),
        Case(
            label: "list with query", endpoint: "http://127.0.0.1:9000", pathStyle: true, key: nil,
            query: [["list-type", "2"], ["prefix", "x y"]]),
        Case(
            label: "query with unicode and reserved", key: nil,
            query: [["prefix", "日本/é+%"], ["delimiter", "/"], ["list-type", "2"]]),
        Case(
            label: "put with metadata", region: "eu-central-1", key: "derived/photo 1/w320.webp", method: "PUT",
            headers: putHeaders, bodyBase64: Data(putBody).base64EncodedString()),
        Case(label: "unsigned payload", key: "a/b/c.jpg", unsignedPayload: true),
        Case(
            label: "head on localhost", endpoint: "http://localhost:4566", pathStyle: true, key: "k/é.jpg",
            method: "HEAD"),
        Case(label: "dotted bucket", endpoint: nil, pathStyle: true, bucket: "my.dotted.bucket", key: "x.jpg"),
        Case(label: "custom endpoint host", endpoint: "https://r2.example.com", key: "x y.jpg"),
    ]

    static var putHeaders: [[String]] {
        let attributes = BlobAttributes(
            contentType: "image/webp", cacheControl: "public, max-age=31536000, immutable", metadata: metadata)
        var headers = [["Content-Type", attributes.contentType], ["Cache-Control", attributes.cacheControl!]]
        headers += (try! S3BlobStore.metadataHeaders(attributes.metadata, what: "")).map { [$0.name, $0.value] }
        return headers
    }

    /// Runs botocore_sign.py once for all cases.
    static func signWithBotocore(_ cases: [Case]) throws -> [Signed] {
        struct Document: Encodable {
            var credentials: [String: String]
            var timestamp: String
            var requests: [Case]
        }
        let document = Document(
            credentials: [
                "access_key": credentials.accessKeyID, "secret_key": credentials.secretAccessKey,
                "token": credentials.sessionToken!,
            ],
            timestamp: timestamp, requests: cases)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "botocore_sign.py")
        let result = try ChildProcess.run(["python3", script.path], input: try JSONEncoder().encode(document))
        guard result.status == 0 else {
            throw ChildProcess.Failure(description: "botocore_sign.py exited with \(result.status): \(result.errors)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([Signed].self, from: result.output)
    }

    static let botocore: Result<[Signed], any Error> = Result { try signWithBotocore(cases) }

    @Test(arguments: zip(cases, cases.indices))
    func sameSignatureAsBotocore(_ testCase: Case, _ index: Int) throws {
        let expected = try Self.botocore.get()[index]
        let configuration = try S3Configuration(
            bucket: testCase.bucket, region: testCase.region, endpoint: testCase.endpoint,
            credentials: Self.credentials, environment: [:])
        #expect(configuration.addressing == (testCase.pathStyle ? .pathStyle : .virtualHosted))
        let body = Data(base64Encoded: testCase.bodyBase64).map { [UInt8]($0) } ?? []
        let request = S3BlobStore(configuration: configuration).makeRequest(
            HTTPMethod(rawValue: testCase.method), key: testCase.key,
            query: testCase.query.map { ($0[0], $0[1]) }, headers: testCase.headers.map { ($0[0], $0[1]) },
            body: testCase.method == "PUT" ? body : nil,
            payloadHash: testCase.unsignedPayload ? SigV4Signer.unsignedPayload : SigV4Signer.payloadHash(body),
            date: Self.date)
        // Same path byte for byte; the same query parameters (the store sends them sorted).
        func split(_ url: String) -> (String, [Substring]) {
            let parts = url.split(separator: "?", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].split(separator: "&").sorted() : [])
        }
        #expect(split(request.url) == split(expected.url))
        for name in ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"] {
            #expect(
                request.headers.first(name: name) == expected.headers[name],
                "\(name); botocore signed:\n\(expected.canonicalRequest)")
        }
    }

    @Test func everyCaseWasSigned() throws {
        #expect(try Self.botocore.get().count == Self.cases.count)
    }
}
