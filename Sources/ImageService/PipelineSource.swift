import ImagePipeline
import ImgfnBase

/// Where a shell's pipeline configuration comes from, and the one way it is loaded.
public enum PipelineSource: Sendable, Equatable {
    /// `PipelineConfig.default`.
    case builtIn
    /// A JSON document given inline (`IMGFN_CONFIG={…}`).
    case inline(String)
    /// A JSON file (`--config FILE`, `IMGFN_CONFIG=path`).
    case file(path: String)

    /// Parses and validates the configuration, after `adjust` (a shell's overrides, e.g.
    /// `--prefix`). Relative paths inside a file resolve against its directory, inside an
    /// inline document against `inlineBaseDirectory`.
    /// - Throws: `.invalidConfig` naming every problem with its JSON path, `.inputUnreadable`
    ///   when the file cannot be read.
    public func load(
        inlineBaseDirectory: String? = nil, adjust: (inout PipelineConfig) -> Void = { _ in }
    ) throws(ImgfnError) -> Pipeline {
        var config = PipelineConfig.default
        var directory: String? = nil
        switch self {
        case .builtIn:
            break
        case .inline(let json):
            directory = inlineBaseDirectory
            config = try PipelineConfig.parse(json: Array(json.utf8), baseDirectory: directory)
        case .file(let path):
            let slash = path.lastIndex(of: "/")
            directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
            let bytes = try SourceBytes.read(path: path, maxBytes: 1 << 20)
            let parsed = bytes.withUnsafeBytes { raw in
                Result { () throws(ImgfnError) in try PipelineConfig.parse(json: raw, baseDirectory: directory) }
            }
            config = try parsed.get()
        }
        adjust(&config)
        return try Pipeline(config, baseDirectory: directory)
    }

    /// What to name in an error message about it.
    public var subject: String {
        switch self {
        case .builtIn: "the built-in configuration"
        case .inline: "the inline configuration"
        case .file(let path): path
        }
    }
}
