import Foundation
import ImageRequests
import Testing

/// Reading payload-2.0 events and shaping Lambda's answers, without a process (the bootstrap
/// with both event kinds runs in ResizeFunctionTests.HTTPEventTests).
@Suite struct LambdaHTTPEventTests {
    static func payload(rawPath: String, domain: String, stage: String = "$default") -> [UInt8] {
        let event: [String: Any] = [
            "version": "2.0", "rawPath": rawPath, "rawQueryString": "a=1", "headers": ["accept": "image/webp"],
            "requestContext": ["domainName": domain, "stage": stage, "http": ["method": "GET", "path": rawPath]],
        ]
        return [UInt8](try! JSONSerialization.data(withJSONObject: event))
    }

    @Test func functionURLPathsAreTakenAsSent() throws {
        let (request, origin) = try #require(
            LambdaHTTPEvent.decode(
                Self.payload(rawPath: "/w320/uploads/a%20b.jpg", domain: "x.lambda-url.eu-west-1.on.aws")))
        #expect(origin == .functionURL)
        #expect(request.path == "/w320/uploads/a%20b.jpg")
        #expect(request.query == "a=1")
        #expect(request.header("Accept") == "image/webp")
    }

    @Test func httpAPIPathsLoseTheirStageAndAreEncodedAgain() throws {
        let domain = "abc.execute-api.eu-west-1.amazonaws.com"
        // Decoded by API Gateway: encoded again as a URL builder sends it.
        var (request, origin) = try #require(
            LambdaHTTPEvent.decode(Self.payload(rawPath: "/prod/w320/uploads/a b é.jpg", domain: domain, stage: "prod"))
        )
        #expect(origin == .httpAPI)
        #expect(request.path == "/w320/uploads/a%20b%20%C3%A9.jpg")
        // Not decoded: unchanged.
        (request, _) = try #require(
            LambdaHTTPEvent.decode(
                Self.payload(rawPath: "/sig/w:10/plain/local:///uploads/a%20b.jpg@webp", domain: domain)))
        #expect(request.path == "/sig/w:10/plain/local:///uploads/a%20b.jpg@webp")
    }

    @Test func otherEventsAreNotHTTP() {
        #expect(LambdaHTTPEvent.decode(Array(#"{"Records":[{"eventSource":"aws:s3"}]}"#.utf8)) == nil)
        #expect(LambdaHTTPEvent.decode(Array(#"{"version":"0","detail-type":"Object Created"}"#.utf8)) == nil)
        #expect(LambdaHTTPEvent.decode(Array("not json".utf8)) == nil)
    }

    @Test func bufferedAnswersStayUnderSixMegabytes() throws {
        let small = HTTPResponse(
            status: 200, headers: [("Content-Type", "image/png"), ("Content-Length", "3")], body: [1, 2, 3])
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(LambdaHTTPEvent.bufferedResponse(small, method: "GET")))
                as? [String: Any])
        #expect(json["statusCode"] as? Int == 200)
        #expect(json["body"] as? String == "AQID")
        #expect(json["isBase64Encoded"] as? Bool == true)
        #expect((json["headers"] as? [String: String]) == ["Content-Type": "image/png"])
        // 4.5 MB of image is 6 MB of Base64: over.
        let large = HTTPResponse(status: 200, body: [UInt8](repeating: 7, count: 4_800_000))
        let refused = try #require(
            try JSONSerialization.jsonObject(with: Data(LambdaHTTPEvent.bufferedResponse(large, method: "GET")))
                as? [String: Any])
        #expect(refused["statusCode"] as? Int == 413)
    }

    @Test func streamedAnswersStartWithThePrelude() throws {
        let response = HTTPResponse(status: 404, headers: [("Content-Type", "text/plain")], body: Array("no\n".utf8))
        let (prelude, body) = LambdaHTTPEvent.streamedResponse(response, method: "GET")
        #expect(Array(prelude.suffix(8)) == [UInt8](repeating: 0, count: 8))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(prelude.dropLast(8))) as? [String: Any])
        #expect(json["statusCode"] as? Int == 404)
        #expect(body == Array("no\n".utf8))
        #expect(LambdaHTTPEvent.streamedResponse(response, method: "HEAD").body.isEmpty)
    }
}
