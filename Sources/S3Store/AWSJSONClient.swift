import AsyncHTTPClient
import ImgfnBase
import NIOCore
import NIOHTTP1

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Calls of an AWS service on its JSON protocol (SQS, EventBridge): `POST /` with
/// `X-Amz-Target: SERVICE.Operation` and a JSON body, signed with SigV4, retried like S3
/// requests (5xx, 429, throttling, connection failures), errors classified the same way.
struct AWSJSONClient: Sendable {
    /// `http` or `https`, the host (no port) and the port when not the scheme's default.
    var scheme: String
    var host: String
    var port: Int?
    var region: String
    /// The signing name (`sqs`, `events`).
    var service: String
    /// The `X-Amz-Target` prefix (`AmazonSQS`, `AWSEvents`).
    var targetPrefix: String
    /// `1.0` for SQS, `1.1` for EventBridge (`application/x-amz-json-VERSION`).
    var jsonVersion: String
    var credentials: AWSCredentials
    var retryPolicy: S3RetryPolicy
    var requestTimeout: Duration
    var httpClient: HTTPClient

    /// The response body of `operation` with the JSON `body`.
    /// - Throws: `.notFound`, `.accessDenied`, `.storeUnavailable` (after the retries), or
    ///   `.outputUnwritable` for other refusals, with the service's error type and message.
    func call(_ operation: String, body: [UInt8], what: String) async throws(ImgfnError) -> [UInt8] {
        try await retryPolicy.run(what) { () async throws(S3AttemptFailure) -> [UInt8] in
            let request = makeRequest(operation, body: body, date: Date())
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: S3BlobStore.timeAmount(requestTimeout))
            } catch {
                throw S3AttemptFailure.forTransportError(error, what: what)
            }
            let collected: ByteBuffer
            do { collected = try await response.body.collect(upTo: 4 << 20) } catch {
                throw S3AttemptFailure.forTransportError(error, what: what)
            }
            let bytes = Array(collected.readableBytesView)
            guard response.status.code / 100 == 2 else {
                throw S3AttemptFailure.forResponse(
                    status: Int(response.status.code), error: Self.errorResponse(bytes), what: what,
                    permanentCode: .outputUnwritable)
            }
            return bytes
        }
    }

    func makeRequest(_ operation: String, body: [UInt8], date: Date) -> HTTPClientRequest {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let hostHeader = port.map { "\(bracketed):\($0)" } ?? bracketed
        let headers: [(name: String, value: String)] = [
            ("Host", hostHeader), ("Content-Type", "application/x-amz-json-\(jsonVersion)"),
            ("Content-Length", String(body.count)), ("X-Amz-Target", "\(targetPrefix).\(operation)"),
        ]
        let signer = SigV4Signer(credentials: credentials, region: region, service: service)
        let signature = signer.sign(
            method: "POST", path: "/", query: [], headers: headers, payloadHash: SigV4Signer.payloadHash(body),
            date: date)
        var request = HTTPClientRequest(url: "\(scheme)://\(hostHeader)/")
        request.method = .POST
        for (name, value) in headers + signature.headers {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(body)
        return request
    }

    /// The service's error type (`__type`, without its `namespace#`) and message.
    static func errorResponse(_ body: [UInt8]) -> S3ErrorResponse {
        struct Body: Decodable {
            var type: String?
            var message: String?
            var pascalMessage: String?
            enum CodingKeys: String, CodingKey {
                case type = "__type"
                case message
                case pascalMessage = "Message"
            }
        }
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)) else {
            return S3ErrorResponse(code: nil, message: nil)
        }
        // `namespace#Code`, sometimes `Code:http://…` (botocore strips both).
        let code = decoded.type.map { type in
            let name = type.split(separator: "#").last.map(String.init) ?? type
            return name.split(separator: ":").first.map(String.init) ?? name
        }
        return S3ErrorResponse(code: code, message: decoded.message ?? decoded.pascalMessage)
    }

    /// `(scheme, host, port)` of a service endpoint URL (`https://sqs.us-east-1.amazonaws.com`,
    /// a queue URL, `http://127.0.0.1:5000`).
    static func endpoint(of url: String, what: String) throws(ImgfnError) -> (String, String, Int?) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else {
            throw ImgfnError(.invalidOptions, "\(what) \"\(url)\" is not an http(s) URL")
        }
        let unbracketed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let defaultPort = scheme == "https" ? 443 : 80
        return (scheme, unbracketed.lowercased(), parsed.port.flatMap { $0 == defaultPort ? nil : $0 })
    }
}
