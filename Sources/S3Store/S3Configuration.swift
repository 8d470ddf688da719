import ImgfnBase

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where an `S3BlobStore` sends its requests, and as whom.
///
/// AWS S3 by default; any S3-compatible service (MinIO, Cloudflare R2, moto, …) through
/// `endpoint`. Credentials come from the standard environment variables unless given.
public struct S3Configuration: Sendable {
    /// How the bucket appears in request URLs.
    public enum Addressing: Sendable, Equatable {
        /// `https://BUCKET.s3.REGION.amazonaws.com/KEY`: what AWS recommends.
        case virtualHosted
        /// `https://s3.REGION.amazonaws.com/BUCKET/KEY`: for endpoints given as an IP address or
        /// `localhost`, for bucket names that are not DNS labels, and for many local servers.
        case pathStyle
    }

    /// The bucket every key lives in.
    public var bucket: String
    /// The bucket's region, part of every signature (a wrong one gets 400/301 from AWS).
    public var region: String
    /// `http` or `https`.
    public var scheme: String
    /// The service host without the bucket, e.g. `s3.eu-west-1.amazonaws.com` or `127.0.0.1`.
    public var host: String
    /// nil for the scheme's default port.
    public var port: Int?
    /// Whether the bucket is in the host name or the path.
    public var addressing: Addressing
    /// Who signs the requests. Never printed: see `AWSCredentials`.
    public var credentials: AWSCredentials
    /// How transient failures are retried.
    public var retryPolicy: S3RetryPolicy
    /// The time one attempt (request and response body) may take.
    public var requestTimeout: Duration

    /// A configuration for `bucket`.
    ///
    /// - Parameters:
    ///   - region: the bucket's region; default `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
    ///     `us-east-1`.
    ///   - endpoint: a base URL such as `http://127.0.0.1:9000` for S3-compatible services; nil
    ///     for AWS (`https://s3.REGION.amazonaws.com`).
    ///   - addressing: nil chooses: path-style when the endpoint host is an IP address or
    ///     `localhost` or the bucket name is not a plain DNS label (dots, upper case, `_`), else
    ///     virtual-hosted.
    ///   - credentials: nil reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    ///     `AWS_SESSION_TOKEN` from `environment`.
    ///   - environment: where defaults are read from; the process environment unless a test
    ///     gives its own.
    /// - Throws: `.invalidOptions` for an empty bucket name, an endpoint that is not
    ///   `http(s)://host[:port]`, or no credentials in the environment.
    public init(
        bucket: String,
        region: String? = nil,
        endpoint: String? = nil,
        addressing: Addressing? = nil,
        credentials: AWSCredentials? = nil,
        retryPolicy: S3RetryPolicy = S3RetryPolicy(),
        requestTimeout: Duration = .seconds(30),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ImgfnError) {
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw ImgfnError(.invalidOptions, "S3 bucket name \"\(bucket)\" is empty or contains \"/\"")
        }
        let region = AWSCredentials.region(region, environment: environment)
        let credentials = try AWSCredentials.resolve(credentials, environment: environment)
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        if let endpoint {
            (scheme, host, port) = try Self.parseEndpoint(endpoint)
        } else {
            scheme = "https"
            host = "s3.\(region).amazonaws.com" + (region.hasPrefix("cn-") ? ".cn" : "")
            port = nil
        }
        self.addressing =
            addressing ?? (Self.isLocalOrIP(host) || !Self.isDNSLabel(bucket) ? .pathStyle : .virtualHosted)
    }

    /// The `Host` header value: the bucket's host for virtual-hosted addressing, with the port
    /// when it is not the scheme's default.
    var requestHost: String {
        let base = addressing == .virtualHosted ? "\(bucket).\(host)" : host
        let bracketed = base.contains(":") ? "[\(base)]" : base
        return port.map { "\(bracketed):\($0)" } ?? bracketed
    }

    /// The encoded URL path of `key` (the bucket's root for nil).
    func path(for key: String?) -> String {
        let bucketPrefix = addressing == .pathStyle ? "/" + URIEncoding.encode(bucket) : ""
        guard let key else { return bucketPrefix.isEmpty ? "/" : bucketPrefix }
        return bucketPrefix + "/" + URIEncoding.encodeKey(key)
    }

    /// `s3://bucket/key`, for messages.
    func location(of key: String?) -> String {
        "s3://\(bucket)/\(key ?? "")"
    }

    static func parseEndpoint(_ endpoint: String) throws(ImgfnError) -> (String, String, Int?) {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil
        else {
            throw ImgfnError(
                .invalidOptions, "S3 endpoint \"\(endpoint)\" is not of the form http(s)://host[:port]")
        }
        let unbracketed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let defaultPort = scheme == "https" ? 443 : 80
        return (scheme, unbracketed.lowercased(), url.port.flatMap { $0 == defaultPort ? nil : $0 })
    }

    /// True for `localhost` and IPv4/IPv6 literals, which cannot carry a bucket subdomain.
    static func isLocalOrIP(_ host: String) -> Bool {
        if host == "localhost" || host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }

    /// True when `bucket` can be a host name label: 3–63 of `a–z 0–9 -`, not starting or ending
    /// with `-`. Names with dots are valid buckets but break TLS wildcard certificates.
    static func isDNSLabel(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
    }
}
