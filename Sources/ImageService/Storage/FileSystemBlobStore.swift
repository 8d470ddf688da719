import FoundationEssentials
import ImagePipeline
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// A directory used as a bucket: keys are relative paths below it, written atomically.
/// Attributes (content type, cache control, metadata) are kept beside the objects, in a hidden
/// tree: `ROOT/.imgfn-attributes/KEY.json`, so the visible tree holds only the objects.
public struct FileSystemBlobStore: BlobStore {
    public let root: String
    static let attributesDirectory = ".imgfn-attributes"

    /// - Parameter root: the directory; created (with parents) on first write.
    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public func get(_ key: String, maxBytes: Int) async throws(ImgfnError) -> StoredObject {
        guard let info = try await head(key) else { throw ImgfnError(.notFound, "no object \(key)") }
        do {
            return StoredObject(info: info, bytes: try SourceBytes.read(path: "\(root)/\(key)", maxBytes: maxBytes))
        } catch  where error.code == .inputUnreadable && errno == ENOENT {
            throw ImgfnError(.notFound, "no object \(key)")
        }
    }

    /// The entity tag is made from the file's size and modification time (like web servers'
    /// weak tags): it changes whenever the file is replaced.
    public func head(_ key: String) async throws(ImgfnError) -> ObjectInfo? {
        try Self.validate(key)
        var info = stat()
        guard stat("\(root)/\(key)", &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ImgfnError(.inputUnreadable, "cannot stat \(key): \(errnoText())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        return ObjectInfo(
            key: key, size: Int(info.st_size),
            etag: "\(String(info.st_size, radix: 16))-\(String(modified, radix: 16))",
            attributes: try attributes(of: key) ?? BlobAttributes(contentType: "application/octet-stream"))
    }

    public func put(_ key: String, bytes: [UInt8], attributes: BlobAttributes) async throws(ImgfnError) {
        try Self.validate(key)
        let path = "\(root)/\(key)"
        try Self.makeParents(of: path)
        try AtomicFile.write(bytes, to: path)
        let sidecar = "\(root)/\(Self.attributesDirectory)/\(key).json"
        try Self.makeParents(of: sidecar)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(attributes)).map { [UInt8]($0) } ?? []
        try AtomicFile.write(json, to: sidecar)
    }

    /// The stored attributes of `key`, or nil when it has none.
    public func attributes(of key: String) throws(ImgfnError) -> BlobAttributes? {
        try Self.validate(key)
        guard
            let bytes = try? SourceBytes.read(
                path: "\(root)/\(Self.attributesDirectory)/\(key).json", maxBytes: 1 << 20)
        else { return nil }
        return bytes.withUnsafeBytes { try? JSONDecoder().decode(BlobAttributes.self, from: Data($0)) }
    }

    /// Refuses keys that could leave the root or are not plain relative paths.
    static func validate(_ key: String) throws(ImgfnError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !key.hasSuffix("/"), !key.contains("\0"),
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
            parts.first != Substring(attributesDirectory)
        else {
            throw ImgfnError(.outputUnwritable, "key \"\(key)\" is not a relative path without \"..\" or empty parts")
        }
    }

    /// mkdir -p for the directory holding `path`.
    static func makeParents(of path: String) throws(ImgfnError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let directory = path[..<slash]
        var end = directory.startIndex
        while end < directory.endIndex {
            end = directory[directory.index(after: end)...].firstIndex(of: "/") ?? directory.endIndex
            let prefix = String(directory[..<end])
            if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw ImgfnError(.outputUnwritable, "cannot create directory \(prefix): \(errnoText())")
            }
        }
    }
}
