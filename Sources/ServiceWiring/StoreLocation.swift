import ImgfnBase

/// Which store serves a bucket, as a shell names it (`--store`, `IMGFN_STORE`).
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// S3 (or an S3-compatible service); `bucket` nil means each event's own bucket.
    case s3(bucket: String?)
    /// One directory serves every bucket: the embedded filesystem store.
    case fileSystem(root: String)

    /// Parses `s3://`, `s3://BUCKET`, `file:///absolute/dir` and, when `plainPaths` (the CLI),
    /// a directory path as it is.
    /// - Throws: `.invalidOptions` for `s3://BUCKET/PREFIX` (a key prefix is not a store), a
    ///   relative `file://` path, or anything else.
    public init(parsing text: String, plainPaths: Bool) throws(ImgfnError) {
        if text.hasPrefix("s3://") {
            var bucket = text.dropFirst("s3://".count)
            if bucket.hasSuffix("/") { bucket = bucket.dropLast() }
            guard !bucket.contains("/") else {
                throw ImgfnError(.invalidOptions, "\"\(text)\" names a key prefix; use s3://BUCKET or s3://")
            }
            self = .s3(bucket: bucket.isEmpty ? nil : String(bucket))
        } else if text.hasPrefix("file://") {
            var root = String(text.dropFirst("file://".count))
            while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
            guard root.hasPrefix("/") else {
                throw ImgfnError(.invalidOptions, "\"\(text)\" must be file:///absolute/directory")
            }
            self = .fileSystem(root: root)
        } else if plainPaths && !text.isEmpty && !text.contains("://") {
            self = .fileSystem(root: text)
        } else {
            let accepted =
                plainPaths
                ? "a directory, s3://, s3://BUCKET or file:///absolute/directory"
                : "s3://, s3://BUCKET or file:///absolute/directory"
            throw ImgfnError(.invalidOptions, "\"\(text)\" is not \(accepted)")
        }
    }

    public var description: String {
        switch self {
        case .s3(let bucket): "s3://\(bucket ?? "")"
        case .fileSystem(let root): "file://\(root)"
        }
    }
}
