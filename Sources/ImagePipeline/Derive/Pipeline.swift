import FoundationEssentials
import ImgfnBase

/// A validated configuration with its steps instantiated: what derives images.
public struct Pipeline: Sendable {
    public let config: PipelineConfig
    /// The steps of each derivative, in the order of `config.derivatives`.
    let steps: [[any PipelineStep]]
    /// Identifies the configuration (a hash of its normalised JSON): recorded in manifests so a
    /// changed configuration re-derives and an unchanged one can skip.
    public let configHash: String

    /// Parses and validates a configuration document and makes its steps.
    /// - Parameter baseDirectory: where relative paths in it (watermark images) are resolved.
    /// - Throws: `.invalidConfig` naming every problem with its JSON path (see `PipelineConfig.parse`).
    public init(
        json: some Collection<UInt8>, registry: StepRegistry = .builtIn, baseDirectory: String? = nil
    ) throws(ImgfnError) {
        try self.init(
            PipelineConfig.parse(json: json, baseDirectory: baseDirectory), registry: registry,
            baseDirectory: baseDirectory)
    }

    /// Validates a configuration built in code (JSON documents go through `init(json:)`).
    /// - Throws: `.invalidConfig` naming every problem with its path.
    public init(_ config: PipelineConfig, registry: StepRegistry = .builtIn, baseDirectory: String? = nil)
        throws(ImgfnError)
    {
        let problems = ConfigReader.Problems()
        var steps: [[any PipelineStep]] = []
        if config.derivatives.isEmpty { problems.list.append("derivatives: must list at least one derivative") }
        if let loop = Self.recursionProblem(config) { problems.list.append(loop) }
        for (i, derivative) in config.derivatives.enumerated() {
            if derivative.formats.isEmpty {
                problems.list.append("derivatives[\(i)].formats: must list at least one format")
            }
            do { try derivative.resize.validate() } catch {
                problems.list.append("derivatives[\(i)]: \(error.message)")
            }
            // Settings that cannot go together (a quality target on lossless WebP) are refused
            // here, not at the first upload.
            for format in derivative.formats {
                do { try config.encodeOptions(for: derivative, format: format).validate(for: format) } catch {
                    problems.list.append("derivatives[\(i)].encode.\(format.rawValue): \(error.message)")
                }
            }
            var made: [any PipelineStep] = []
            for (j, spec) in derivative.steps.enumerated() {
                let path = "derivatives[\(i)].steps[\(j)]"
                guard let type = registry.type(for: spec.op) else {
                    problems.list.append(
                        "\(path).op: unknown step \"\(spec.op)\"; known: \(registry.ops.joined(separator: ", "))")
                    continue
                }
                let reader = ConfigReader(
                    spec.parameters, path: path, problems: problems, baseDirectory: baseDirectory,
                    pattern: "derivatives[].steps[]<\(spec.op)>")
                do {
                    made.append(try type.init(parameters: reader))
                    reader.finish()
                } catch {
                    problems.list.append("\(path): \(error.message)")
                }
            }
            steps.append(made)
        }
        if !problems.list.isEmpty { throw ImgfnError(.invalidConfig, problems.list.joined(separator: "; ")) }
        self.config = config
        self.steps = steps
        self.configHash = Self.hash(config)
    }

    /// Derivatives written where the source filter would pick them up again would be derived
    /// again, forever. With no output bucket (the source's bucket), the output and failure
    /// keys must therefore lie outside the source prefix, and that prefix must not be empty.
    static func recursionProblem(_ config: PipelineConfig) -> String? {
        guard config.output.bucket == nil else { return nil }
        let source = config.source.prefix
        if source.isEmpty {
            return
                "source.prefix: must not be empty when output.bucket is null: derivatives in the source bucket would be inputs again; set a source prefix (e.g. \"uploads/\") or an output bucket"
        }
        let output = config.output.prefix
        for (name, template) in [
            ("key", config.output.key), ("manifestKey", config.output.manifestKey),
            ("failureKey", config.output.failureKey),
        ] {
            // The fixed start of the template, where {prefix} is the output prefix.
            var fixed = template.replacing("{prefix}", with: output)
            if let brace = fixed.firstIndex(of: "{") { fixed = String(fixed[..<brace]) }
            if fixed.hasPrefix(source) || source.hasPrefix(fixed) {
                return
                    "output.\(name): keys starting \"\(fixed)\" can fall under source.prefix \"\(source)\" in the same bucket, so derivatives would be derived again; use an output prefix outside it or an output bucket"
            }
        }
        return nil
    }

    /// FNV-1a (64-bit) of the configuration's JSON with sorted keys: stable across runs and
    /// machines, and not a security boundary (it only identifies a configuration).
    ///
    /// The source filter (`source.prefix`, `source.suffixes`) is left out: it picks which uploads
    /// are derived, not what their sets hold, so widening it (a new input format's suffix) leaves
    /// every existing set current.
    static func hash(_ config: PipelineConfig) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var derivation = config
        derivation.source.prefix = ""
        derivation.source.suffixes = []
        let bytes = (try? encoder.encode(derivation)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
