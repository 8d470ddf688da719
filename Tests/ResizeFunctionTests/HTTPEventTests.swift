import Foundation
import ImagePipeline
import ImageRequests
import ImgfnBase
import Testing

/// The bootstrap answering HTTP events, the request handler `imgfn serve` runs: an API Gateway
/// HTTP API event (buffered: JSON with a Base64 body, at most 6 MB) and a Function URL event
/// (streamed: prelude, eight zero bytes, the image), against the test Runtime API server.
@Suite(.serialized)
struct HTTPEventTests {
    static let key = "736563726574"
    static let salt = "68656c6c6f"

    /// A payload-2.0 event for `GET path` from a Function URL or an HTTP API.
    static func event(_ path: String, functionURL: Bool, accept: String? = nil, method: String = "GET") -> String {
        let domain =
            functionURL ? "abcdefg.lambda-url.us-east-1.on.aws" : "r3pmxmplak.execute-api.us-east-1.amazonaws.com"
        var headers: [String: String] = ["host": domain, "user-agent": "test"]
        if let accept { headers["accept"] = accept }
        let event: [String: Any] = [
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": headers, "isBase64Encoded": false,
            "requestContext": [
                "accountId": "123456789012", "apiId": "abcdefg", "domainName": domain, "stage": "$default",
                "requestId": "id", "timeEpoch": 1_583_348_638_390,
                "http": ["method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1"],
            ],
        ]
        let data = try! JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static let signedEnvironment = [
        "IMGFN_SIGNING_KEY": key, "IMGFN_SIGNING_SALT": salt,
        "IMGFN_CONFIG": #"{"derivatives": [{"name": "w64", "width": 64, "formats": ["jpeg", "webp"]}]}"#,
    ]

    @Test func httpAPIEventsAreAnsweredBuffered() async throws {
        try await Harness.run(sources: ["uploads/storm.jpg": "photos/storm.jpg"], environment: Self.signedEnvironment) {
            h in
            let signing = try URLSigning(keys: Self.key, salts: Self.salt)
            let path = "/rs:fill:120:80/plain/local:///uploads/storm.jpg@webp"
            h.server.enqueue(
                .init(requestId: "req-api", payload: Self.event("/\(signing.sign(path))\(path)", functionURL: false)))
            h.server.enqueue(.init(requestId: "req-bad", payload: Self.event("/AAAA\(path)", functionURL: false)))
            h.server.enqueue(
                .init(
                    requestId: "req-preset",
                    payload: Self.event("/w64/uploads/storm.jpg", functionURL: false, accept: "image/webp")))

            let answer = try await h.server.waitForResult(of: "req-api")
            #expect(answer.path.hasSuffix("/req-api/response"))
            #expect(answer.headers["Lambda-Runtime-Function-Response-Mode"].isEmpty)
            let json = try #require(answer.json)
            #expect(number(json["statusCode"]) == 200)
            #expect(json["isBase64Encoded"] as? Bool == true)
            let headers = try #require(json["headers"] as? [String: String])
            #expect(headers["Content-Type"] == "image/webp")
            #expect(headers["ETag"]?.hasPrefix("W/\"") == true)
            let body = try #require(Data(base64Encoded: json["body"] as? String ?? ""))
            let info = try ImageResizer.info(of: SourceBytes([UInt8](body)))
            #expect((info.format, info.width, info.height) == (.webp, 120, 80))
            // Written through, as imgfn serve does.
            #expect(FileManager.default.fileExists(atPath: h.bucket + "/derived/_requests/storm.jpg"))

            let refused = try #require(try await h.server.waitForResult(of: "req-bad").json)
            #expect(number(refused["statusCode"]) == 403)
            let reason = Data(base64Encoded: refused["body"] as? String ?? "").map {
                String(decoding: $0, as: UTF8.self)
            }
            #expect(reason == "invalid signature\n")

            let preset = try #require(try await h.server.waitForResult(of: "req-preset").json)
            #expect(number(preset["statusCode"]) == 200)
            #expect((preset["headers"] as? [String: String])?["Vary"] == "Accept")
            #expect(h.exists("derived/storm/w64.webp"))

            let line = try #require(
                h.logLines().first { $0["message"] as? String == "http request" && $0["status"] as? Int == 403 })
            #expect(line["origin"] as? String == "httpAPI")
            #expect(line["reason"] as? String == "invalid signature")

            // One EMF line per invocation, with the HTTP figures.
            let metrics = h.metricLines()
            #expect(metrics.count == 3)
            #expect(metrics.compactMap { number($0["HTTPRequests"]) } == [1, 1, 1])
            #expect(metrics.compactMap { number($0["HTTP4xx"]) }.reduce(0, +) == 1)
            #expect(metrics.compactMap { number($0["Rendered"]) }.reduce(0, +) == 2)
        }
    }

    /// A render that would run past the invocation's deadline less its margin is stopped and
    /// answered 504, and the invocation answers in time; the next one renders as usual.
    @Test func aRenderIsStoppedInTimeToAnswer() async throws {
        var environment = Self.signedEnvironment
        environment["IMGFN_DEADLINE_MARGIN_MS"] = "3000"
        try await Harness.run(
            sources: ["uploads/big.jpg": "large/kleiber-24mp.jpg", "uploads/storm.jpg": "photos/storm.jpg"],
            environment: environment
        ) { h in
            let signing = try URLSigning(keys: Self.key, salts: Self.salt)
            let slow = "/rs:fit:4000:0/plain/local:///uploads/big.jpg@png"
            h.server.enqueue(
                .init(
                    requestId: "req-late", payload: Self.event("/\(signing.sign(slow))\(slow)", functionURL: false),
                    deadlineIn: .milliseconds(3100)))
            let quick = "/rs:fit:64:0/plain/local:///uploads/storm.jpg@jpg"
            h.server.enqueue(
                .init(requestId: "req-next", payload: Self.event("/\(signing.sign(quick))\(quick)", functionURL: false))
            )

            let late = try #require(try await h.server.waitForResult(of: "req-late").json)
            #expect(number(late["statusCode"]) == 504)
            let reason = Data(base64Encoded: late["body"] as? String ?? "").map { String(decoding: $0, as: UTF8.self) }
            #expect(reason?.hasPrefix("the render was stopped at the invocation's deadline") == true, "\(reason ?? "")")
            #expect(!FileManager.default.fileExists(atPath: h.bucket + "/derived/_requests/big.jpg"))
            let next = try #require(try await h.server.waitForResult(of: "req-next").json)
            #expect(number(next["statusCode"]) == 200)
        }
    }

    @Test func functionURLEventsAreStreamed() async throws {
        try await Harness.run(
            sources: ["uploads/big.jpg": "large/kleiber-24mp.jpg"], environment: Self.signedEnvironment
        ) { h in
            let signing = try URLSigning(keys: Self.key, salts: Self.salt)
            // A PNG of ~7 MB and more: over what a buffered response can carry, streamed whole.
            let path = "/rs:fit:2400:0/plain/local:///uploads/big.jpg@png"
            h.server.enqueue(
                .init(requestId: "req-url", payload: Self.event("/\(signing.sign(path))\(path)", functionURL: true)))
            h.server.enqueue(
                .init(requestId: "req-api", payload: Self.event("/\(signing.sign(path))\(path)", functionURL: false)))

            let streamed = try await h.server.waitForResult(of: "req-url")
            #expect(streamed.headers["Lambda-Runtime-Function-Response-Mode"] == ["streaming"])
            #expect(streamed.headers["Content-Type"] == ["application/vnd.awslambda.http-integration-response"])
            #expect(streamed.headers["Transfer-Encoding"] == ["chunked"])
            let bytes = streamed.bytes
            let zeros = [UInt8](repeating: 0, count: 8)
            let split = try #require((0..<(bytes.count - 8)).first { Array(bytes[$0..<$0 + 8]) == zeros })
            let prelude = try #require(
                try JSONSerialization.jsonObject(with: Data(bytes[..<split])) as? [String: Any])
            #expect(number(prelude["statusCode"]) == 200)
            #expect((prelude["headers"] as? [String: String])?["Content-Type"] == "image/png")
            let image = Array(bytes[(split + 8)...])
            #expect(image.count > LambdaHTTPEvent.maxBufferedPayload)
            let info = try ImageResizer.info(of: SourceBytes(image))
            #expect((info.format, info.width) == (.png, 2400))

            // The same image to API Gateway (buffered) does not fit: a clear 413, not a failed invocation.
            let buffered = try #require(try await h.server.waitForResult(of: "req-api").json)
            #expect(number(buffered["statusCode"]) == 413)
            let reason = Data(base64Encoded: buffered["body"] as? String ?? "").map {
                String(decoding: $0, as: UTF8.self)
            }
            #expect(reason?.contains("6 MB") == true)
        }
    }
}
