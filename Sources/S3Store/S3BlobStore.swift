// S3Store — the S3 client (layer 2, beside ImagePipeline): SigV4 signing, the S3 REST calls
// with retries and classified errors, and `S3BlobStore`. It links AsyncHTTPClient and
// swift-crypto, never libvips.

import AsyncHTTPClient
import ImgfnBase
import NIOCore
import NIOHTTP1

/// A `BlobStore` on an S3 bucket (AWS or S3-compatible), over the S3 REST API.
///
/// Requests are signed with `SigV4Signer` (payloads hashed: PUT bodies with their SHA-256,
/// GET and HEAD with the empty hash). Transient failures are retried by
/// `S3Configuration.retryPolicy`; then they surface as `.storeUnavailable`. Inside a trace
/// (`TraceContext`, which the bootstrap sets per invocation), each request carries it as
/// `X-Amzn-Trace-Id`.
///
/// Errors: `.notFound` (404, `NoSuchKey`, `NoSuchBucket`), `.accessDenied` (403 and the
/// credential errors), `.storeUnavailable` (5xx, 429, `SlowDown`, …, connection failures, after
/// the retries), `.overLimit` (an object over `maxBytes`), `.invalidOptions` (metadata that
/// cannot be sent), and for other refusals `.inputUnreadable` (reads) or `.outputUnwritable`
/// (writes), with S3's error code in the message. Messages name the object and never the
/// credentials.
public struct S3BlobStore: BlobStore {
    /// Where requests go, as whom, and how they are retried.
    public let configuration: S3Configuration
    let httpClient: HTTPClient

    /// A store for `configuration.bucket`.
    ///
    /// - Parameter httpClient: shared by all requests; the caller owns it (the default,
    ///   `HTTPClient.shared`, is never shut down).
    public init(configuration: S3Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// GETs the object. Refuses it (`.overLimit`) by its Content-Length before reading the
    /// body, and stops reading a body without one as soon as it passes `maxBytes`.
    public func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
        let what = "GET \(configuration.location(of: key))"
        try Self.validate(key, what: what)
        return try await withRetries(what) { () async throws(S3AttemptFailure) -> StoredObject in
            let response = try await send(.GET, key: key, what: what)
            guard response.status.code / 100 == 2 else {
                throw await failure(response, what: what, permanentCode: .inputUnreadable)
            }
            let declared = response.headers.first(name: "content-length").flatMap { Int($0) }
            if let declared, declared > maxBytes {
                throw .permanent(Self.overLimit(what, size: declared, maxBytes: maxBytes))
            }
            if let declared {
                return try await Self.read(
                    response.body, declared: declared, key: key, headers: response.headers, what: what)
            }
            var bytes: [UInt8] = []
            var overLimit = false
            do {
                for try await buffer in response.body {
                    guard bytes.count + buffer.readableBytes <= maxBytes else {
                        overLimit = true
                        break
                    }
                    bytes.append(contentsOf: buffer.readableBytesView)
                }
            } catch {
                throw S3AttemptFailure.forTransportError(error, what: what)
            }
            if overLimit {
                throw .permanent(Self.overLimit(what, size: nil, maxBytes: maxBytes))
            }
            let info = Self.objectInfo(key: key, size: bytes.count, headers: response.headers)
            return StoredObject(info: info, bytes: SourceBytes(bytes))
        }
    }

    /// Reads a body of `declared` bytes straight into the source buffer the decoder will read,
    /// so the object is held once. A body that ends early or runs long is a transport failure
    /// (retried), never a shorter image.
    private static func read(
        _ body: HTTPClientResponse.Body, declared: Int, key: String, headers: HTTPHeaders, what: String
    ) async throws(S3AttemptFailure) -> StoredObject {
        let bytes = SourceBytes(capacity: declared)
        var filled = 0
        do {
            for try await buffer in body {
                guard filled + buffer.readableBytes <= declared else {
                    throw S3AttemptFailure.transient(
                        "\(what): the body is longer than its Content-Length of \(declared)")
                }
                buffer.withUnsafeReadableBytes { chunk in
                    if let start = chunk.baseAddress {
                        (bytes.base + filled).copyMemory(from: start, byteCount: chunk.count)
                    }
                }
                filled += buffer.readableBytes
            }
        } catch let failure as S3AttemptFailure {
            throw failure
        } catch {
            throw S3AttemptFailure.forTransportError(error, what: what)
        }
        guard filled == declared else {
            throw .transient("\(what): the body ended after \(filled) of its \(declared) bytes")
        }
        return StoredObject(info: objectInfo(key: key, size: declared, headers: headers), bytes: bytes)
    }

    /// HEADs the object: nil on 404 (a HEAD response has no body to tell a missing key from a
    /// missing bucket).
    public func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? {
        let what = "HEAD \(configuration.location(of: key))"
        try Self.validate(key, what: what)
        return try await withRetries(what) { () async throws(S3AttemptFailure) -> ObjectInfo? in
            let response = try await send(.HEAD, key: key, what: what)
            if response.status.code == 404 {
                return nil
            }
            guard response.status.code / 100 == 2 else {
                throw await failure(response, what: what, permanentCode: .inputUnreadable)
            }
            let size = response.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            return Self.objectInfo(key: key, size: size, headers: response.headers)
        }
    }

    /// Stores the object in one PUT, so readers see the old object or the new one, never a mix.
    /// Metadata names must be lower-case HTTP token characters; values that are not printable
    /// ASCII are sent RFC 2047-encoded, which S3 decodes.
    public func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
        let what = "PUT \(configuration.location(of: key))"
        try Self.validate(key, what: what)
        var headers: [(name: String, value: String)] = [("Content-Type", attributes.contentType)]
        if let cacheControl = attributes.cacheControl {
            headers.append(("Cache-Control", cacheControl))
        }
        headers += try Self.metadataHeaders(attributes.metadata, what: what)
        try Self.validateHeaderValues(headers, what: what)
        let payloadHash = SigV4Signer.payloadHash(bytes)
        try await withRetries(what) { () async throws(S3AttemptFailure) in
            let response = try await send(
                .PUT, key: key, headers: headers, body: bytes, payloadHash: payloadHash, what: what)
            guard response.status.code / 100 == 2 else {
                throw await failure(response, what: what, permanentCode: .outputUnwritable)
            }
        }
    }

    /// Creates the bucket in the configured region. Succeeds when it exists already and is ours
    /// (`BucketAlreadyOwnedByYou`), so it can run before every test or deployment.
    public func createBucket() async throws(ImgfnError) {
        let what = "create bucket \(configuration.location(of: nil))"
        var body: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        if configuration.region != "us-east-1" {
            body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>")
                    .utf8)
            headers.append(("Content-Type", "application/xml"))
        }
        let payloadHash = SigV4Signer.payloadHash(body)
        try await withRetries(what) { () async throws(S3AttemptFailure) in
            let response = try await send(
                .PUT, key: nil, headers: headers, body: body, payloadHash: payloadHash, what: what)
            guard response.status.code / 100 == 2 else {
                let text = try? await response.body.collect(upTo: 64 * 1024)
                let error = S3ErrorResponse(xml: text.map { String(buffer: $0) } ?? "")
                if error.code == "BucketAlreadyOwnedByYou" {
                    return
                }
                throw S3AttemptFailure.forResponse(
                    status: Int(response.status.code), error: error, what: what, permanentCode: .outputUnwritable)
            }
        }
    }

    /// Refuses keys S3 cannot hold: empty (that would address the bucket) or over 1024 bytes.
    static func validate(_ key: String, what: String) throws(ImgfnError) {
        guard !key.isEmpty, key.utf8.count <= 1024 else {
            throw ImgfnError(.invalidOptions, "\(what): an S3 key must be 1 to 1024 bytes long")
        }
    }

    static func overLimit(_ what: String, size: Int?, maxBytes: Int) -> ImgfnError {
        let size = size.map { "is \($0) bytes, " } ?? "is "
        return ImgfnError(.overLimit, "\(what): object \(size)over the byte limit of \(maxBytes)")
    }
}
