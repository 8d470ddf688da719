import FoundationEssentials

/// HTTP requests as Lambda delivers them: API Gateway HTTP API events and Function URL events
/// (payload format 2.0), and the two ways of answering them: buffered (a JSON document with the
/// body in Base64, at most 6 MB in all) or streamed (a JSON prelude, eight zero bytes, then the
/// body as it is; Function URLs with `InvokeMode: RESPONSE_STREAM`).
public enum LambdaHTTPEvent {
    /// Who sent the event.
    public enum Origin: String, Sendable {
        /// A Function URL (`requestContext.domainName` ends in `.on.aws`).
        case functionURL
        /// An API Gateway HTTP API.
        case httpAPI
    }

    /// The largest invocation response Lambda returns buffered: 6 MB.
    public static let maxBufferedPayload = 6 * 1024 * 1024
    /// The largest streamed response body Lambda delivers at full speed: 20 MB.
    public static let maxStreamedBody = 20 * 1024 * 1024

    private struct Payload: Decodable {
        struct Context: Decodable {
            struct HTTP: Decodable {
                var method: String
                var path: String?
            }
            var http: HTTP?
            var domainName: String?
            var stage: String?
        }
        var version: String?
        var rawPath: String?
        var rawQueryString: String?
        var headers: [String: String]?
        var requestContext: Context?
    }

    /// The request an invocation payload carries, or nil when the payload is not an HTTP event
    /// (then it is one of the push side's events).
    public static func decode(_ payload: some Collection<UInt8>) -> (request: HTTPRequest, origin: Origin)? {
        guard let event = try? JSONDecoder().decode(Payload.self, from: Data(payload)), event.version == "2.0",
            let http = event.requestContext?.http
        else { return nil }
        var path = event.rawPath ?? http.path ?? "/"
        let query = event.rawQueryString.flatMap { $0.isEmpty ? nil : $0 }
        let headers = (event.headers ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        let domain = event.requestContext?.domainName ?? ""
        let origin: Origin = domain.hasSuffix(".on.aws") && domain.contains(".lambda-url.") ? .functionURL : .httpAPI
        if origin == .httpAPI {
            // A named stage stays in front of the path; the routes start after it.
            if let stage = event.requestContext?.stage, stage != "$default", path.hasPrefix("/\(stage)/") {
                path = String(path.dropFirst(stage.count + 1))
            }
            // HTTP APIs are reported to hand over rawPath with percent-escapes decoded: what
            // cannot stand in a path as it is (spaces, %, non-ASCII) is encoded again, as a URL
            // builder encodes it, so a signature over the sent path still matches.
            path = reencoded(path)
        }
        return (HTTPRequest(method: http.method, path: path, query: query, headers: headers), origin)
    }

    /// `path` with every byte outside RFC 3986's path characters (unreserved, sub-delims, `:`,
    /// `@`, `/`) as `%XX`, upper-case hex. A path that was not decoded is returned as it is, but
    /// for a `%`, which only a decoded path can hold outside an escape.
    static func reencoded(_ path: String) -> String {
        var out = ""
        let bytes = Array(path.utf8)
        var i = 0
        func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(Character(Unicode.Scalar(byte)))
            case _ where "-._~!$&'()*+,;=:@/".utf8.contains(byte):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: "%") where i + 2 < bytes.count && isHex(bytes[i + 1]) && isHex(bytes[i + 2]):
                out.append("%")  // an escape still in place: the path was not decoded
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
            i += 1
        }
        return out
    }

    /// The buffered answer: `{"statusCode", "headers", "body" (Base64), "isBase64Encoded"}`. A
    /// body that would take it over `maxBufferedPayload` is answered with 413 instead, saying
    /// so (the Function URL streams and has no such limit).
    public static func bufferedResponse(_ response: HTTPResponse, method: String) -> [UInt8] {
        let body = method == "HEAD" ? [] : response.body
        let encoded = json(
            statusCode: response.status, headers: response.headers, body: Data(body).base64EncodedString())
        guard encoded.count > maxBufferedPayload else { return encoded }
        let refusal = HTTPResponse.error(
            413,
            "the answer is \(response.body.count) bytes, over what a buffered Lambda response carries (6 MB with Base64); ask for a smaller size or use the function URL, which streams"
        )
        return json(
            statusCode: refusal.status, headers: refusal.headers,
            body: Data(refusal.body).base64EncodedString())
    }

    /// The streamed answer's parts: the prelude (status and headers as JSON) followed by eight
    /// zero bytes, and the body. A body over `maxStreamedBody` is answered with 413 instead.
    public static func streamedResponse(_ response: HTTPResponse, method: String) -> (prelude: [UInt8], body: [UInt8]) {
        var response = response
        if response.body.count > maxStreamedBody {
            response = HTTPResponse.error(
                413, "the answer is \(response.body.count) bytes, over the 20 MB a streamed Lambda response carries")
        }
        struct Prelude: Encodable {
            var statusCode: Int
            var headers: [String: String]
            var cookies: [String] = []
        }
        let prelude = Prelude(statusCode: response.status, headers: headerMap(response.headers))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(prelude)).map { [UInt8]($0) } ?? Array("{\"statusCode\":500}".utf8)
        return (bytes + [UInt8](repeating: 0, count: 8), method == "HEAD" ? [] : response.body)
    }

    /// Header fields as one JSON object (repeated names joined with `, `); `Content-Length` is
    /// left to API Gateway and Lambda, which set it themselves.
    static func headerMap(_ headers: [(name: String, value: String)]) -> [String: String] {
        var map: [String: String] = [:]
        for (name, value) in headers where name.lowercased() != "content-length" {
            map[name] = map[name].map { "\($0), \(value)" } ?? value
        }
        return map
    }

    private static func json(statusCode: Int, headers: [(name: String, value: String)], body: String) -> [UInt8] {
        struct Buffered: Encodable {
            var statusCode: Int
            var headers: [String: String]
            var body: String
            var isBase64Encoded = true
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = Buffered(statusCode: statusCode, headers: headerMap(headers), body: body)
        return (try? encoder.encode(value)).map { [UInt8]($0) } ?? Array("{\"statusCode\":500}".utf8)
    }
}
