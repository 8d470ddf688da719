import ImagePipeline

/// Expands the output key templates of `OutputConfig` for one source.
public struct OutputKeys: Sendable {
    public let output: OutputConfig
    /// The source key's directory below the source prefix, with a trailing `/` ("" at the top).
    public let dir: String
    /// The source file name without its extension.
    public let stem: String
    /// The source file name with its extension.
    public let file: String

    /// - Parameters:
    ///   - sourceKey: the source object's key (or a path relative to an input directory).
    ///   - sourcePrefix: removed from the front of `sourceKey` when present.
    public init(sourceKey: String, sourcePrefix: String, output: OutputConfig) {
        self.output = output
        var relative = Substring(sourceKey)
        if !sourcePrefix.isEmpty && relative.hasPrefix(sourcePrefix) {
            relative = relative.dropFirst(sourcePrefix.count)
        }
        if let slash = relative.lastIndex(of: "/") {
            dir = String(relative[...slash])
            relative = relative[relative.index(after: slash)...]
        } else {
            dir = ""
        }
        file = String(relative)
        if let dot = relative.lastIndex(of: "."), dot != relative.startIndex { relative = relative[..<dot] }
        stem = String(relative)
    }

    /// The key of one derivative file.
    public func key(name: String, format: OutputFormat, width: Int, height: Int) -> String {
        expand(
            output.key,
            [
                "name": name, "ext": format.fileExtension, "format": format.rawValue, "width": "\(width)",
                "height": "\(height)",
            ])
    }

    /// The key of the manifest.
    public var manifestKey: String { expand(output.manifestKey, [:]) }

    /// The key of the failure record.
    public var failureKey: String { expand(output.failureKey, [:]) }

    /// Where results made on demand for this source are stored, one per request
    /// (`{output.prefix}_requests/{dir}{file}/`): the pull side writes them, a removal of the
    /// source removes them.
    public var requestResultsPrefix: String { "\(output.prefix)_requests/\(dir)\(file)/" }

    private func expand(_ template: String, _ extra: [String: String]) -> String {
        var values = extra
        values["prefix"] = output.prefix
        values["dir"] = dir
        values["stem"] = stem
        values["file"] = file
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            result += values[name] ?? "{\(name)}"
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}

/// The metadata every object imgfn writes carries (`derived-by: imgfn`): the handler skips an
/// object that has it, so a derivative written where uploads land never becomes an input.
public enum DerivedBy {
    public static let metadata = ["derived-by": "imgfn"]

    /// Whether `metadata` marks an object as one of ours.
    public static func marks(_ metadata: [String: String]) -> Bool { metadata["derived-by"] == "imgfn" }
}
