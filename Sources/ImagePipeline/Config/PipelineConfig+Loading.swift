import FoundationEssentials
import ImgfnBase

extension PipelineConfig {
    /// Parses and checks a configuration document without making its steps
    /// (`Pipeline(json:)` does both): for callers that adjust it before building the `Pipeline`.
    /// - Parameter baseDirectory: where relative paths in it (watermark images) are resolved.
    /// - Throws: `.invalidConfig` naming every problem with its JSON path, e.g.
    ///   `derivatives[2].width: must be 1…16384, got 0; encode.webp.speed: unknown key`.
    public static func parse(json: some Collection<UInt8>, baseDirectory: String? = nil) throws(ImgfnError)
        -> PipelineConfig
    {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(json))
        } catch {
            throw ImgfnError(.invalidConfig, "configuration is not valid JSON: \(describe(error))")
        }
        guard case .object(let object) = root else {
            throw ImgfnError(.invalidConfig, "configuration must be a JSON object, not \(root.typeName)")
        }
        let problems = ConfigReader.Problems()
        let reader = ConfigReader(object, path: "", problems: problems, baseDirectory: baseDirectory)
        let config = parse(reader)
        if !problems.list.isEmpty { throw ImgfnError(.invalidConfig, problems.list.joined(separator: "; ")) }
        return config
    }

    static let templateVariables: Set = ["prefix", "dir", "stem", "file", "name", "ext", "format", "width", "height"]
    static let manifestTemplateVariables: Set = ["prefix", "dir", "stem", "file"]

    private static func parse(_ r: ConfigReader) -> PipelineConfig {
        var config = PipelineConfig.default
        if let s = r.object("source") {
            if let prefix = s.string("prefix") { config.source.prefix = prefix }
            if let suffixes = s.strings("suffixes") {
                for (i, suffix) in suffixes.enumerated() where !suffix.hasPrefix(".") || suffix.count < 2 {
                    s.fail("suffixes[\(i)]", "must start with \".\", like \".jpg\"")
                }
                config.source.suffixes = suffixes.map { $0.lowercased() }
            }
            if let v = s.int("maxPixels", in: 1...1_000_000_000_000) { config.source.limits.maxPixels = v }
            if let v = s.int("maxBytes", in: 1...(4 << 30)) { config.source.limits.maxBytes = v }
            if let v = s.int("maxFrames", in: 1...100_000) { config.source.limits.maxFrames = v }
            s.finish()
        }
        if let o = r.object("output") {
            if let bucket = o.value("bucket") {
                if case .string(let name) = bucket, !name.isEmpty {
                    config.output.bucket = name
                } else {
                    o.fail("bucket", "must be a bucket name or null")
                }
            }
            if let prefix = o.string("prefix") { config.output.prefix = prefix }
            if let key = o.string("key") {
                checkTemplate(key, variables: templateVariables, at: "key", in: o)
                if !(key.contains("{name}") && (key.contains("{ext}") || key.contains("{format}"))) {
                    o.fail(
                        "key", "must contain {name} and {ext} (or {format}) so every derivative file gets its own key")
                }
                config.output.key = key
            }
            if let key = o.string("manifestKey") {
                checkTemplate(key, variables: manifestTemplateVariables, at: "manifestKey", in: o)
                config.output.manifestKey = key
            }
            if let key = o.string("failureKey") {
                checkTemplate(key, variables: manifestTemplateVariables, at: "failureKey", in: o)
                config.output.failureKey = key
            }
            if let cacheControl = o.string("cacheControl") { config.output.cacheControl = cacheControl }
            o.finish()
        }
        if let items = r.objects("derivatives") {
            if items.isEmpty { r.fail("derivatives", "must list at least one derivative") }
            config.derivatives = items.compactMap(parseDerivative)
            var seen: Set<String> = []
            for (i, d) in config.derivatives.enumerated() where !seen.insert(d.name).inserted {
                r.fail("derivatives[\(i)].name", "\"\(d.name)\" is used by an earlier derivative")
            }
        }
        if let e = r.object("encode") {
            for format in OutputFormat.allCases {
                if let f = e.object(format.rawValue) {
                    var settings = config.encode[format] ?? EncodeSettings()
                    settings.merge(parseEncode(f, format: format))
                    config.encode[format] = settings
                }
            }
            e.finish()
        }
        if let m = r.object("metadata") {
            config.metadata = []
            for name in m.strings("keep") ?? [] {
                if let entry = MetadataPolicy.names.first(where: { $0.0 == name }) {
                    config.metadata.insert(entry.1)
                } else {
                    m.fail(
                        "keep",
                        "\"\(name)\" is not one of \(MetadataPolicy.names.map { "\"\($0.0)\"" }.joined(separator: ", "))"
                    )
                }
            }
            m.finish()
        }
        r.finish()
        return config
    }

    private static func parseDerivative(_ d: ConfigReader) -> DerivativeSpec? {
        let name = d.string("name") ?? ""
        if name.isEmpty || name.count > 64
            || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            d.fail("name", "must be 1–64 characters of letters, digits, \"-\" or \"_\"")
        }
        let dimension = 1...ResizeOptions.maxDimension
        let resize = ResizeOptions(
            width: d.int("width", in: dimension), height: d.int("height", in: dimension),
            fit: d.choice("fit") ?? .inside, gravity: d.choice("gravity") ?? .centre,
            enlarge: d.bool("enlarge") ?? false, background: d.colour("background") ?? .white)
        if resize.width == nil && resize.height == nil && d.value("width") == nil && d.value("height") == nil {
            d.fail(nil, "needs a width, a height or both")
        }
        var formats: [OutputFormat] = []
        if let names = d.strings("formats") {
            for (i, text) in names.enumerated() {
                guard let format = OutputFormat(rawValue: text) else {
                    d.fail(
                        "formats[\(i)]",
                        "must be one of \(OutputFormat.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(text)\""
                    )
                    continue
                }
                if formats.contains(format) {
                    d.fail("formats[\(i)]", "\"\(text)\" is listed twice")
                } else {
                    formats.append(format)
                }
            }
            if names.isEmpty { d.fail("formats", "must list at least one format") }
        } else {
            d.fail("formats", "is required: a list of \"jpeg\", \"png\", \"webp\", \"avif\"")
        }
        var steps: [StepSpec] = []
        for item in d.array("steps") ?? [] {
            guard case .object(var object) = item.value else {
                d.fail(nil, "\(item.path): must be an object with an \"op\"")
                continue
            }
            guard case .string(let op)? = object.removeValue(forKey: "op") else {
                d.fail(nil, "\(item.path).op: is required: the step's name")
                continue
            }
            steps.append(StepSpec(op: op, parameters: object))
        }
        var encode: [OutputFormat: EncodeSettings] = [:]
        if let e = d.object("encode") {
            for format in OutputFormat.allCases {
                if let f = e.object(format.rawValue) { encode[format] = parseEncode(f, format: format) }
            }
            e.finish()
        }
        d.finish()
        return DerivativeSpec(name: name, resize: resize, formats: formats, steps: steps, encode: encode)
    }

    private static func parseEncode(_ f: ConfigReader, format: OutputFormat) -> EncodeSettings {
        var settings = EncodeSettings()
        if format != .png {
            // A quality 1…100, "auto" (a SSIMULACRA2 target of EncodeOptions.autoTarget), or
            // {"target": score}.
            switch f.value("quality") {
            case nil: break
            case .string("auto")?: settings.target = EncodeOptions.autoTarget
            case .object(let object)?:
                if case .number(let score)? = object["target"], object.count == 1, (1...100).contains(score) {
                    settings.target = score
                } else {
                    f.fail("quality", "must be {\"target\": a SSIMULACRA2 score 1…100}")
                }
            default: settings.quality = f.int("quality", in: 1...100)
            }
        }
        if format == .jpeg { settings.progressive = f.bool("progressive") }
        if format == .png {
            settings.progressive = f.bool("interlace")
            settings.compression = f.int("compression", in: 0...9)
        }
        if format == .webp || format == .avif {
            settings.effort = f.int("effort", in: EncodeOptions.effortRange(for: format))
        }
        if format == .webp { settings.lossless = f.bool("lossless") }
        if format == .jpeg || format == .avif { settings.chromaSubsampling = f.choice("chromaSubsampling") }
        f.finish()
        return settings
    }

    private static func checkTemplate(
        _ template: String, variables: Set<String>, at key: String, in reader: ConfigReader
    ) {
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                reader.fail(key, "has an unclosed \"{\"")
                return
            }
            let name = String(rest[rest.index(after: open)..<close])
            if !variables.contains(name) {
                reader.fail(
                    key,
                    "{\(name)} is not a variable here; use \(variables.sorted().map { "{\($0)}" }.joined(separator: ", "))"
                )
            }
            rest = rest[rest.index(after: close)...]
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
            return underlying.split(separator: "\n").first.map(String.init) ?? "malformed"
        default: return "malformed"
        }
    }
}
