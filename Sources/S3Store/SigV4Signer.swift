import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// AWS Signature Version 4 for requests signed in headers (`Authorization: AWS4-HMAC-SHA256 …`).
///
/// Pure computation: give it the request as it will be sent and it returns the headers to add.
/// It follows the AWS documentation and is checked against the official test vectors and
/// botocore. S3 differs from other services in how the path enters the canonical request: S3
/// signs the path exactly as sent (already encoded once, never normalised); other services
/// normalise it (`.`/`..`, repeated slashes) and percent-encode it once more. The defaults
/// follow `service`; the flags can be set for services that differ.
public struct SigV4Signer: Sendable {
    /// The payload hash for a body that is not signed (S3 only; the body is then covered by TLS).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of no bytes, the payload hash of GET and HEAD requests.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Who signs; the access key ID goes into the `Authorization` header, the secret into the
    /// signing key only.
    public var credentials: AWSCredentials
    /// The region in the credential scope, e.g. `eu-west-1`.
    public var region: String
    /// The service in the credential scope, e.g. `s3`.
    public var service: String
    /// Remove `.` and `..` segments and empty segments from the path before signing.
    /// True for every service except S3.
    public var normalizesPath: Bool
    /// Percent-encode the path (which the caller already encoded for the wire) once more for the
    /// canonical request. True for every service except S3.
    public var encodesPath: Bool
    /// Add and sign `x-amz-content-sha256` with the payload hash. True for S3, which requires it.
    public var addsContentSHA256Header: Bool
    /// Include `X-Amz-Security-Token` in the signature. True except for the few services
    /// (IoT websockets) that want the token added after signing.
    public var signsSessionToken: Bool

    /// Headers that proxies and the HTTP stack may add or change on the way: signing them
    /// would only make valid requests fail.
    static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id",
    ]

    /// A signer for `service` (`"s3"`, …) in `region`, with that service's path rules.
    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
        let isS3 = service == "s3"
        normalizesPath = !isS3
        encodesPath = !isS3
        addsContentSHA256Header = isS3
        signsSessionToken = true
    }

    /// Signs one request.
    ///
    /// - Parameters:
    ///   - method: the HTTP method, e.g. `GET`.
    ///   - path: the URL path as sent on the wire, percent-encoded (for S3: each key segment
    ///     encoded per RFC 3986, slashes kept).
    ///   - query: the query parameters, not encoded; they are encoded and sorted here. The
    ///     request's URL must carry the same parameters (in any order and encoding S3 decodes
    ///     to the same values).
    ///   - headers: every header that will be sent and should be signed, `Host` included; a name
    ///     may repeat. Headers the signer sets itself (`X-Amz-Date`, …) are replaced.
    ///   - payloadHash: the lower-case hex SHA-256 of the body, or `unsignedPayload`.
    ///   - date: the signing time; AWS refuses requests more than 15 minutes off.
    /// - Returns: the headers to add to the request, and the intermediate values.
    public func sign(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        payloadHash: String,
        date: Date
    ) -> SigV4Signature {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if addsContentSHA256Header {
            added.append(("x-amz-content-sha256", payloadHash))
        }
        if let token = credentials.sessionToken {
            added.append(("X-Amz-Security-Token", token))
        }
        let replaced = Set(added.map { $0.name.lowercased() } + ["authorization"])
        var toSign = headers.filter { !replaced.contains($0.name.lowercased()) }
        toSign += added.filter { signsSessionToken || $0.name != "X-Amz-Security-Token" }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(toSign)
        let canonicalRequest = [
            method.uppercased(),
            canonicalURI(path),
            Self.canonicalQuery(query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Self.hmac(part, key))
        }
        let signature = Self.hex(Self.hmac(stringToSign, key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        added.append(("Authorization", authorization))
        return SigV4Signature(
            headers: added, authorization: authorization, canonicalRequest: canonicalRequest,
            stringToSign: stringToSign, signature: signature, signedHeaders: signedHeaders)
    }

    /// The path as it enters the canonical request.
    func canonicalURI(_ path: String) -> String {
        var uri = path.isEmpty ? "/" : path
        if normalizesPath {
            uri = Self.removeDotSegments(uri)
        }
        if encodesPath {
            uri = URIEncoding.encode(uri, keepSlash: true)
        }
        return uri
    }

    /// RFC 3986 dot-segment removal, also dropping empty segments (`//`), as the AWS SDKs do.
    static func removeDotSegments(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var kept: [Substring] = []
        for segment in segments {
            switch segment {
            case "", ".": continue
            case "..": _ = kept.popLast()
            default: kept.append(segment)
            }
        }
        let endsInDirectory = path.hasSuffix("/") || segments.last == "." || segments.last == ".."
        let joined = "/" + kept.joined(separator: "/")
        return endsInDirectory && !kept.isEmpty ? joined + "/" : joined
    }

    /// `name=value` pairs, encoded, sorted by encoded name and then value, joined by `&`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }  // encoded, so ASCII: byte order
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The canonical header block (one `name:value\n` line per name) and the signed-header list.
    /// Names are lower-cased and sorted; values trimmed with inner whitespace runs (folded lines
    /// included) collapsed to one space; repeated names joined by `,` in the order sent.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signed: String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            guard !unsignedHeaderNames.contains(lower) else { continue }
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            values[lower, default: []].append(words.joined(separator: " "))
        }
        let names = values.keys.sorted()
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func amzDate(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2)
            + pad(secondOfDay % 3600 / 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    static func hmac(_ message: String, _ key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key))
    }

    /// Lower-case hex of `bytes`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case hex SHA-256 of `bytes`: the payload hash of a body.
    public static func payloadHash(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }
}

/// What `SigV4Signer.sign` produced: the headers to send and, for tests and debugging, the
/// intermediate values. Holds no secret (the session token appears only as a header value).
public struct SigV4Signature: Sendable {
    /// The headers to add: `X-Amz-Date`, `x-amz-content-sha256` (S3), `X-Amz-Security-Token`
    /// (temporary credentials), `Authorization`.
    public var headers: [(name: String, value: String)]
    /// The `Authorization` header value, also in `headers`.
    public var authorization: String
    /// The canonical request that was hashed (AWS's step 1).
    public var canonicalRequest: String
    /// The string that was signed (step 2): algorithm, time, scope, canonical request hash.
    public var stringToSign: String
    /// The hex signature, as in `authorization`.
    public var signature: String
    /// The `;`-separated lower-case names of the signed headers.
    public var signedHeaders: String
}
