// ImageRequests — the pull side (layer 4, beside ServiceWiring): an HTTP request in, an image
// response out. URL/ reads the two URL forms (a configured derivative by name, `/{preset}/{key}`,
// and imgproxy's signed processing URLs) and checks signatures; Handler/ fetches the source
// from the store, renders through the same decode → derive → encode as a set, and writes the
// result through to the store. It knows no server: `imgfn serve` (SwiftNIO) and the Lambda
// bootstrap (API Gateway and Function URL events) both adapt `RequestHandler.handle`.

/// An HTTP request as the handler needs it, whichever server or event carried it.
public struct HTTPRequest: Sendable {
    /// `GET`, `HEAD`, … (upper case).
    public var method: String
    /// The path as sent, still percent-encoded, starting with `/`; without the query.
    public var path: String
    /// The query string without `?`, or nil.
    public var query: String?
    /// Header fields in the order received; names compare case-insensitively.
    public var headers: [(name: String, value: String)]
    /// When the answer is due, if the shell has a deadline (a Lambda invocation's, less its
    /// margin): a render stops there if that comes before `RequestSettings.renderTimeout`.
    public var deadline: ContinuousClock.Instant?

    public init(method: String, path: String, query: String? = nil, headers: [(name: String, value: String)] = []) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// Splits a request target (`/path?query`) into path and query.
    public init(method: String, target: String, headers: [(name: String, value: String)] = []) {
        if let mark = target.firstIndex(of: "?") {
            self.init(
                method: method, path: String(target[..<mark]), query: String(target[target.index(after: mark)...]),
                headers: headers)
        } else {
            self.init(method: method, path: target, headers: headers)
        }
    }

    /// The values of every field named `name`, joined with `, ` (RFC 9110's combination), or nil.
    public func header(_ name: String) -> String? {
        let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }
}

/// What the handler answers: a status, header fields and the whole body. Images are small next
/// to the memory a render takes, so bodies are whole; a shell may still send them in pieces
/// (the Function URL stream does).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    /// The body of a GET; a HEAD is answered with the same headers and no body (the shells
    /// drop it; `Content-Length` is the GET's).
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the first field named `name`, or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// A plain-text error: the reason as one line, never cached.
    public static func error(_ status: Int, _ reason: String, headers: [(name: String, value: String)] = [])
        -> HTTPResponse
    {
        let line = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        return HTTPResponse(
            status: status,
            headers: [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")] + headers,
            body: Array((line + "\n").utf8))
    }

    /// The reason phrase for the statuses imgfn answers with.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status \(status)"
        }
    }
}
