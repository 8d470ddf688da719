import ImgfnBase
import NIOCore

// Deleting and listing: what keeping a bucket's derivatives true needs besides GET, HEAD, PUT.
extension S3BlobStore {
    /// DELETEs the object. S3 answers 204 whether or not there was one, so a repeated delete
    /// succeeds; in a versioned bucket this adds a delete marker, as any plain DELETE does.
    public func delete(_ key: String) async throws(ImgfnError) {
        let what = "DELETE \(configuration.location(of: key))"
        try Self.validate(key, what: what)
        try await withRetries(what) { () async throws(S3AttemptFailure) in
            let response = try await send(.DELETE, key: key, what: what)
            guard response.status.code / 100 == 2 else {
                let failure = await failure(response, what: what, permanentCode: .outputUnwritable)
                // Gone already is what a delete asks for; a missing bucket is still a failure.
                if case .permanent(let error) = failure, error.code == .notFound,
                    !error.message.contains("NoSuchBucket")
                {
                    return
                }
                throw failure
            }
            // The body is empty; read it so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        }
    }

    /// One ListObjectsV2 page (`encoding-type=url`, so any key survives the XML).
    public func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        let what = "LIST \(configuration.location(of: prefix))"
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("encoding-type", "url"), ("max-keys", String(min(max(limit, 1), 1000))),
        ]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let continuation { query.append(("continuation-token", continuation)) }
        return try await withRetries(what) { () async throws(S3AttemptFailure) -> ListPage in
            let response = try await send(.GET, key: nil, query: query, what: what)
            guard response.status.code / 100 == 2 else {
                throw await failure(response, what: what, permanentCode: .inputUnreadable)
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: 16 << 20)
            } catch {
                throw S3AttemptFailure.forTransportError(error, what: what)
            }
            guard let page = ListBucketResult(xml: String(buffer: body)) else {
                throw .transient("\(what): the listing is not a ListBucketResult document")
            }
            return page.listPage
        }
    }
}

/// The parts of a ListObjectsV2 answer a listing needs: each `<Contents>`' key, size and ETag,
/// whether it is truncated, and the next continuation token.
struct ListBucketResult: Equatable {
    var listPage: ListPage

    /// nil when `xml` is not a `ListBucketResult` or an entry cannot be read.
    init?(xml: String) {
        guard xml.contains("<ListBucketResult") else { return nil }
        let urlEncoded = S3ErrorResponse.element("EncodingType", in: xml) == "url"
        var objects: [ObjectInfo] = []
        var rest = xml[...]
        while let open = rest.firstRange(of: "<Contents>"),
            let close = rest[open.upperBound...].firstRange(of: "</Contents>")
        {
            let entry = String(rest[open.upperBound..<close.lowerBound])
            rest = rest[close.upperBound...]
            guard let rawKey = Self.rawElement("Key", in: entry),
                let key = urlEncoded
                    ? Self.formDecoded(S3ErrorResponse.decodeEntities(rawKey)) : S3ErrorResponse.decodeEntities(rawKey),
                let size = S3ErrorResponse.element("Size", in: entry).flatMap({ Int($0) })
            else { return nil }
            let etag = S3ErrorResponse.element("ETag", in: entry).map(ETag.unquoted)
            objects.append(ObjectInfo(key: key, size: size, etag: etag, attributes: BlobAttributes(contentType: "")))
        }
        let truncated = S3ErrorResponse.element("IsTruncated", in: xml) == "true"
        let next = Self.rawElement("NextContinuationToken", in: xml).map(S3ErrorResponse.decodeEntities)
        listPage = ListPage(objects: objects, continuation: truncated ? next : nil)
    }

    /// The text of the first `<name>…</name>` exactly (keys may hold spaces and line breaks).
    static func rawElement(_ name: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(name)>"),
            let close = xml[open.upperBound...].firstRange(of: "</\(name)>")
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    /// S3's `encoding-type=url`: `%XX` bytes, and `+` for a space (botocore reads it so too).
    static func formDecoded(_ text: String) -> String? { KeyEncoding.decode(text, plusAsSpace: true) }
}
