import AsyncHTTPClient
import ImgfnBase
import NIOCore
import NIOHTTP1

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Building, signing, sending and retrying requests; reading objects' descriptions back.
extension S3BlobStore {
    /// Runs `attempt` under the configuration's retry policy (`S3RetryPolicy.run`).
    func withRetries<T>(
        _ what: String,
        _ attempt: () async throws(S3AttemptFailure) -> T
    ) async throws(ImgfnError) -> T {
        try await configuration.retryPolicy.run(what, attempt)
    }

    /// Signs and sends one request for `key` (the bucket itself for nil) and returns the
    /// response, whatever its status; its body is still to be read.
    func send(
        _ method: HTTPMethod,
        key: String?,
        query: [(name: String, value: String)] = [],
        headers extra: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        payloadHash: String = SigV4Signer.emptyPayloadHash,
        what: String
    ) async throws(S3AttemptFailure) -> HTTPClientResponse {
        let request = makeRequest(
            method, key: key, query: query, headers: extra, body: body, payloadHash: payloadHash, date: Date(),
            traceID: TraceContext.headerValue)
        do {
            return try await httpClient.execute(request, timeout: Self.timeAmount(configuration.requestTimeout))
        } catch {
            throw S3AttemptFailure.forTransportError(error, what: what)
        }
    }

    /// The signed request. Separate from `send` so tests can compare it with other signers.
    func makeRequest(
        _ method: HTTPMethod,
        key: String?,
        query: [(name: String, value: String)] = [],
        headers extra: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        payloadHash: String,
        date: Date,
        traceID: String? = nil
    ) -> HTTPClientRequest {
        let host = configuration.requestHost
        let path = configuration.path(for: key)
        var headers: [(name: String, value: String)] = [("Host", host)]
        if let body, method == .PUT || method == .POST {
            headers.append(("Content-Length", String(body.count)))
        }
        headers += extra
        var signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3")
        signer.addsContentSHA256Header = true
        let signature = signer.sign(
            method: method.rawValue, path: path, query: query, headers: headers, payloadHash: payloadHash, date: date)
        let queryString = SigV4Signer.canonicalQuery(query)
        var request = HTTPClientRequest(
            url: "\(configuration.scheme)://\(host)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
        request.method = method
        for (name, value) in headers + signature.headers {
            request.headers.add(name: name, value: value)
        }
        if let traceID {
            // Not signed: the trace ID may be rewritten on the way, and that must not break the signature.
            request.headers.add(name: "X-Amzn-Trace-Id", value: traceID)
        }
        if let body {
            request.body = .bytes(body)
        }
        return request
    }

    /// The failure for a response with an error status; reads S3's error document if any.
    func failure(
        _ response: HTTPClientResponse, what: String, permanentCode: ImgfnError.Code
    ) async -> S3AttemptFailure {
        var error = S3ErrorResponse(code: nil, message: nil)
        if let text = try? await response.body.collect(upTo: 64 * 1024) {
            error = S3ErrorResponse(xml: String(buffer: text))
        }
        return S3AttemptFailure.forResponse(
            status: Int(response.status.code), error: error, what: what, permanentCode: permanentCode,
            bucketRegion: response.headers.first(name: "x-amz-bucket-region"))
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// What a HEAD or GET response says about the object.
    static func objectInfo(key: String, size: Int, headers: HTTPHeaders) -> ObjectInfo {
        var metadata: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            guard lower.hasPrefix("x-amz-meta-"), lower.count > 11 else { continue }
            let metaName = String(lower.dropFirst(11))
            if metadata[metaName] == nil {
                metadata[metaName] = MetadataEncoding.decode(value)
            }
        }
        let attributes = BlobAttributes(
            contentType: headers.first(name: "content-type") ?? "application/octet-stream",
            cacheControl: headers.first(name: "cache-control"),
            metadata: metadata)
        return ObjectInfo(
            key: key, size: size, etag: headers.first(name: "etag").map(ETag.unquoted),
            versionId: headers.first(name: "x-amz-version-id"), attributes: attributes)
    }

    /// `x-amz-meta-NAME` headers, sorted by name.
    static func metadataHeaders(
        _ metadata: [String: String], what: String
    ) throws(ImgfnError) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, name.utf8.allSatisfy(MetadataEncoding.isNameByte) else {
                throw ImgfnError(
                    .invalidOptions,
                    "\(what): metadata name \"\(name)\" must be lower-case letters, digits, \"-\", \"_\" or \".\"")
            }
            headers.append(("x-amz-meta-\(name)", MetadataEncoding.encode(value)))
        }
        return headers
    }

    /// Refuses header values with control characters before they reach the HTTP client.
    static func validateHeaderValues(
        _ headers: [(name: String, value: String)], what: String
    ) throws(ImgfnError) {
        for (name, value) in headers where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw ImgfnError(.invalidOptions, "\(what): \(name) contains control characters")
        }
    }
}
