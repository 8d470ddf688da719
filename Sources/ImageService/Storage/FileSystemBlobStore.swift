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
            etag: Self.etag(size: Int(info.st_size), modified: modified),
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

    /// Removes the file and its attributes; empty directories left behind are removed too, up
    /// to the root, so a deleted set leaves no empty folders.
    public func delete(_ key: String) async throws(ImgfnError) {
        try Self.validate(key)
        let path = "\(root)/\(key)"
        if unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR {
            throw ImgfnError(.outputUnwritable, "cannot delete \(key): \(errnoText())")
        }
        let sidecar = "\(root)/\(Self.attributesDirectory)/\(key).json"
        unlink(sidecar)
        removeEmptyParents(of: key, below: root)
        removeEmptyParents(of: "\(key).json", below: "\(root)/\(Self.attributesDirectory)")
    }

    /// Lists regular files below `prefix` in S3's key order. The continuation is the last key
    /// of the page; the walk skips whole directories that sort before it, so each page costs
    /// about one directory read per level, not a walk of everything before it. The attributes
    /// tree and `AtomicFile`'s temporary files are not objects and are not listed.
    public func list(prefix: String, continuation: String?, limit: Int) async throws(ImgfnError) -> ListPage {
        var walk = Walk(
            root: root, prefix: Array(prefix.utf8), after: continuation.map { Array($0.utf8) }, limit: max(1, limit))
        try walk.visit(directory: [])
        let last = walk.found.last?.key
        return ListPage(objects: walk.found, continuation: walk.truncated ? last : nil)
    }

    /// A sorted depth-first walk that collects up to `limit` keys that start with `prefix` and
    /// sort after `after`.
    private struct Walk {
        let root: String
        let prefix: [UInt8]
        let after: [UInt8]?
        let limit: Int
        var found: [ObjectInfo] = []
        var truncated = false

        /// `directory` is the key prefix of the directory, with its trailing `/` ([] for the root).
        mutating func visit(directory: [UInt8]) throws(ImgfnError) {
            let path = directory.isEmpty ? root : "\(root)/\(String(decoding: directory.dropLast(), as: UTF8.self))"
            guard let dir = opendir(path) else {
                if errno == ENOENT || errno == ENOTDIR { return }
                throw ImgfnError(.inputUnreadable, "cannot list \(path): \(errnoText())")
            }
            var entries: [(key: [UInt8], isDirectory: Bool, info: stat)] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                if name == Array(".".utf8) || name == Array("..".utf8) { continue }
                if directory.isEmpty && name == Array(attributesDirectory.utf8) { continue }
                if AtomicFile.isTemporary(name: name) { continue }
                var info = stat()
                let key = directory + name
                guard lstat("\(root)/\(String(decoding: key, as: UTF8.self))", &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: entries.append((key + [UInt8(ascii: "/")], true, info))
                case S_IFREG: entries.append((key, false, info))
                default: continue
                }
            }
            closedir(dir)
            // A directory sorts as its name with the `/` every key below it carries.
            entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
            for entry in entries {
                guard found.count < limit else {
                    truncated = true
                    return
                }
                // Below or above the prefix: a directory may hold keys that start with it.
                let common = min(entry.key.count, prefix.count)
                guard entry.key.prefix(common).elementsEqual(prefix.prefix(common)) else { continue }
                if entry.isDirectory {
                    if let after, !after.starts(with: entry.key), entry.key.lexicographicallyPrecedes(after) {
                        continue  // every key below it sorts before `after`
                    }
                    try visit(directory: entry.key)
                    if truncated { return }
                } else {
                    guard entry.key.count >= prefix.count else { continue }
                    if let after, !after.lexicographicallyPrecedes(entry.key) { continue }
                    let info = entry.info
                    let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
                    found.append(
                        ObjectInfo(
                            key: String(decoding: entry.key, as: UTF8.self), size: Int(info.st_size),
                            etag: FileSystemBlobStore.etag(size: Int(info.st_size), modified: modified),
                            attributes: BlobAttributes(contentType: "")))
                }
            }
        }
    }

    /// Removes the directories holding `key` below `base` while they are empty.
    private func removeEmptyParents(of key: String, below base: String) {
        var parts = key.split(separator: "/").dropLast()
        while !parts.isEmpty {
            guard rmdir("\(base)/\(parts.joined(separator: "/"))") == 0 else { return }
            parts = parts.dropLast()
        }
    }

    static func etag(size: Int, modified: Int) -> String {
        "\(String(size, radix: 16))-\(String(modified, radix: 16))"
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
        // Bytes, not Characters: a "/" followed by a combining mark is one Character in Swift.
        let parts = Array(key.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { Array($0) }
        guard !key.isEmpty, !key.utf8.contains(0),
            parts.allSatisfy({ !$0.isEmpty && $0 != Array(".".utf8) && $0 != Array("..".utf8) }),
            parts.first != Array(attributesDirectory.utf8)
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
