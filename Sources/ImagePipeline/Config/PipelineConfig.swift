/// The whole pipeline configuration: which uploads are processed, where and under which keys
/// derivatives go, which derivatives are made and how they are encoded. One JSON document;
/// `Pipeline(json:)` parses and validates it, `PipelineConfig.default` works with no document.
public struct PipelineConfig: Sendable, Equatable, Codable {
    public var source: SourceConfig
    public var output: OutputConfig
    public var derivatives: [DerivativeSpec]
    /// Per-format encoder defaults; a derivative may override them.
    public var encode: [OutputFormat: EncodeSettings]
    /// Which metadata outputs keep (none by default).
    public var metadata: MetadataPolicy

    public init(
        source: SourceConfig = SourceConfig(), output: OutputConfig = OutputConfig(), derivatives: [DerivativeSpec],
        encode: [OutputFormat: EncodeSettings] = EncodeSettings.defaults, metadata: MetadataPolicy = .none
    ) {
        self.source = source
        self.output = output
        self.derivatives = derivatives
        self.encode = encode
        self.metadata = metadata
    }

    /// The encode options for one output of one derivative: the format's defaults, then the
    /// derivative's overrides, then the metadata policy.
    public func encodeOptions(for derivative: DerivativeSpec, format: OutputFormat) -> EncodeOptions {
        var settings = encode[format] ?? EncodeSettings()
        if let override = derivative.encode[format] { settings.merge(override) }
        return settings.options(for: format, metadata: metadata)
    }
}

/// Which objects are inputs, and the limits applied to them before decoding.
public struct SourceConfig: Sendable, Equatable, Codable {
    /// Only keys under this prefix are processed ("" for all: then derivatives must go to
    /// another bucket, or they would be inputs too).
    public var prefix: String
    /// Only keys ending in one of these (case-insensitive) are processed; empty for all. The
    /// format is still sniffed from the bytes: a suffix only filters events cheaply.
    public var suffixes: [String]
    public var limits: DecodeLimits

    public init(
        prefix: String = "uploads/", suffixes: [String] = SourceConfig.imageSuffixes, limits: DecodeLimits = .default
    ) {
        self.prefix = prefix
        self.suffixes = suffixes
        self.limits = limits
    }

    public static let imageSuffixes = [
        ".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".heic", ".heif", ".avif", ".jxl",
    ]
}

/// Where derivatives are written and how they are named.
public struct OutputConfig: Sendable, Equatable, Codable {
    /// Bucket for derivatives; nil writes beside the source, in the source's bucket.
    public var bucket: String?
    /// Prefix every derivative key starts with.
    public var prefix: String
    /// Key template of one derivative file. Variables: `{prefix}`, `{dir}` (the source key's
    /// directory below the source prefix, with a trailing `/`), `{stem}` (file name without
    /// extension), `{file}` (file name with it: tells `a.jpg` and `a.png` apart), `{name}`
    /// (derivative name), `{ext}`, `{format}`, `{width}`, `{height}`.
    public var key: String
    /// Key template of the manifest (same variables but `{name}`, `{ext}`, `{format}`, `{width}`, `{height}`).
    public var manifestKey: String
    /// Key template of the failure record written for a source that cannot be derived
    /// (same variables as `manifestKey`), so operators can find bad uploads.
    public var failureKey: String
    /// `Cache-Control` stored with each derivative.
    public var cacheControl: String

    public init(
        bucket: String? = nil, prefix: String = "derived/", key: String = "{prefix}{dir}{stem}/{name}.{ext}",
        manifestKey: String = "{prefix}{dir}{stem}/manifest.json",
        failureKey: String = "{prefix}_failures/{dir}{stem}.json",
        cacheControl: String = "public, max-age=31536000, immutable"
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.key = key
        self.manifestKey = manifestKey
        self.failureKey = failureKey
        self.cacheControl = cacheControl
    }
}

/// One derivative: a geometry, the steps that follow the resize, and the formats it is
/// written in (one file per format).
public struct DerivativeSpec: Sendable, Equatable, Codable {
    public var name: String
    public var resize: ResizeOptions
    public var formats: [OutputFormat]
    /// Steps after the resize, in order (`{"op": "sharpen", "sigma": 0.5}`).
    public var steps: [StepSpec]
    /// Per-format encoder settings overriding the configuration's `encode`.
    public var encode: [OutputFormat: EncodeSettings]

    public init(
        name: String, resize: ResizeOptions, formats: [OutputFormat], steps: [StepSpec] = [],
        encode: [OutputFormat: EncodeSettings] = [:]
    ) {
        self.name = name
        self.resize = resize
        self.formats = formats
        self.steps = steps
        self.encode = encode
    }
}

/// A step as configured: its `op` name and its other keys, which the step itself validates.
public struct StepSpec: Sendable, Equatable, Codable {
    public var op: String
    public var parameters: [String: JSONValue]

    public init(op: String, parameters: [String: JSONValue] = [:]) {
        self.op = op
        self.parameters = parameters
    }
}

/// Encoder settings for one format as configured; nil fields take the encoder's defaults.
public struct EncodeSettings: Sendable, Equatable, Codable {
    public var quality: Int?
    /// A SSIMULACRA2 score to reach instead of a fixed `quality` (`EncodeOptions.target`).
    public var target: Double?
    public var progressive: Bool?
    public var effort: Int?
    public var lossless: Bool?
    public var chromaSubsampling: ChromaSubsampling?
    public var compression: Int?

    public init(
        quality: Int? = nil, target: Double? = nil, progressive: Bool? = nil, effort: Int? = nil,
        lossless: Bool? = nil, chromaSubsampling: ChromaSubsampling? = nil, compression: Int? = nil
    ) {
        self.quality = quality
        self.target = target
        self.progressive = progressive
        self.effort = effort
        self.lossless = lossless
        self.chromaSubsampling = chromaSubsampling
        self.compression = compression
    }

    /// Fields set in `other` replace ours.
    public mutating func merge(_ other: EncodeSettings) {
        // A fixed quality and a target replace each other.
        if other.quality != nil || other.target != nil {
            quality = other.quality
            target = other.target
        }
        progressive = other.progressive ?? progressive
        effort = other.effort ?? effort
        lossless = other.lossless ?? lossless
        chromaSubsampling = other.chromaSubsampling ?? chromaSubsampling
        compression = other.compression ?? compression
    }

    /// These settings over `EncodeOptions`' defaults.
    public func options(for format: OutputFormat, metadata: MetadataPolicy) -> EncodeOptions {
        var options = EncodeOptions(
            format: format, quality: quality, target: target, effort: effort, metadata: metadata)
        if let progressive { options.progressive = progressive }
        if let lossless { options.lossless = lossless }
        if let chromaSubsampling { options.chromaSubsampling = chromaSubsampling }
        if let compression { options.compression = compression }
        return options
    }

    /// A set's encoder settings: `EncodeOptions`' defaults (the one place their values live),
    /// spelt out so that they are part of the configuration hash, except that a set writes
    /// progressive JPEG (smaller at large sizes, rendering early on a page).
    public static let defaults: [OutputFormat: EncodeSettings] = [
        .jpeg: EncodeSettings(quality: EncodeOptions.defaultQuality(for: .jpeg), progressive: true),
        .webp: EncodeSettings(
            quality: EncodeOptions.defaultQuality(for: .webp), effort: EncodeOptions.defaultEffort(for: .webp)),
        .avif: EncodeSettings(
            quality: EncodeOptions.defaultQuality(for: .avif), effort: EncodeOptions.defaultEffort(for: .avif)),
        .png: EncodeSettings(compression: EncodeOptions().compression),
    ]
}

extension PipelineConfig {
    /// The built-in configuration: 320, 640, 1280 and 2048 wide (never upscaled), JPEG and WebP
    /// for every size, AVIF as well for the two large ones, under `derived/`.
    public static let `default` = PipelineConfig(
        derivatives: [
            DerivativeSpec(name: "w320", resize: ResizeOptions(width: 320), formats: [.jpeg, .webp]),
            DerivativeSpec(name: "w640", resize: ResizeOptions(width: 640), formats: [.jpeg, .webp]),
            DerivativeSpec(name: "w1280", resize: ResizeOptions(width: 1280), formats: [.jpeg, .webp, .avif]),
            DerivativeSpec(name: "w2048", resize: ResizeOptions(width: 2048), formats: [.jpeg, .webp, .avif]),
        ])
}
