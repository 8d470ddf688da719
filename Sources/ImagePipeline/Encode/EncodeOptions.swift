import ImgfnBase

/// Output formats imgfn writes.
public enum OutputFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, webp, avif

    /// File name extension, without the dot.
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
    public var contentType: String { "image/\(rawValue)" }
    /// Whether the format stores transparency; if not, alpha is flattened onto the background.
    public var supportsAlpha: Bool { self != .jpeg }

    /// The largest width or height this format holds as libvips writes it and decoders read
    /// it back: JPEG 65 500 (libjpeg's limit), WebP 16 383 (the format's 14-bit sizes), AVIF
    /// 16 384 (libheif refuses to read larger images by default, and AV1 levels stop there),
    /// PNG 1 000 000 (libpng's default read limit).
    public var maxDimension: Int {
        switch self {
        case .jpeg: 65_500
        case .webp: 16_383
        case .avif: 16_384
        case .png: 1_000_000
        }
    }

    /// Why a `width`×`height` image cannot be written in this format, or nil when it can.
    public func sizeRefusal(width: Int, height: Int) -> String? {
        guard width > maxDimension || height > maxDimension else { return nil }
        return "\(width)×\(height) is over \(displayName)'s limit of \(maxDimension) px a side"
    }

    /// The format's usual written name (`WebP`).
    public var displayName: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .webp: "WebP"
        case .avif: "AVIF"
        }
    }

    /// The output format that keeps an input's format when it is one we write, else JPEG.
    public init(matching input: ImageFormat) {
        self =
            switch input {
            case .jpeg: .jpeg
            case .png: .png
            case .webp: .webp
            case .avif: .avif
            case .gif, .tiff, .heic, .jxl: .jpeg
            }
    }
}

/// How an image is encoded. Every option and its default live here; a pipeline configuration's
/// `encode` settings (`EncodeSettings`) leave what they do not set to these, except that a
/// derivative set writes progressive JPEGs (`EncodeSettings.defaults`).
public struct EncodeOptions: Sendable, Equatable, Codable {
    /// nil: the input's format when imgfn writes it, else JPEG (`OutputFormat(matching:)`).
    public var format: OutputFormat?
    /// 1…100; nil takes the format's default (`defaultQuality`). Ignored for PNG.
    public var quality: Int?
    /// A SSIMULACRA2 score to reach instead of a fixed quality (`"quality": {"target": 75}`,
    /// or `"auto"` = `autoTarget`): the lowest quality whose file scores at least this against
    /// the image given to the encoder is chosen (`QualitySearch`). Not for PNG or lossless WebP.
    public var target: Double?
    /// Progressive JPEG (or interlaced PNG). Off by default: baseline decodes faster and,
    /// for the small sizes most derivatives are, is about as small.
    public var progressive: Bool
    /// CPU effort: WebP 0…6, AVIF 0…9; nil takes `defaultEffort(for:)` (WebP 2, AVIF 0). Higher
    /// is smaller and slower.
    public var effort: Int?
    /// WebP only: lossless encoding (quality then trades speed for size).
    public var lossless: Bool
    /// JPEG (and AVIF) chroma subsampling.
    public var chromaSubsampling: ChromaSubsampling
    /// PNG zlib compression level 0…9.
    public var compression: Int
    /// Which metadata survives. Nothing by default: nothing about the camera or the place (GPS)
    /// leaks into published files, and the files are smaller.
    public var metadata: MetadataPolicy

    public init(
        format: OutputFormat? = nil, quality: Int? = nil, target: Double? = nil, progressive: Bool = false,
        effort: Int? = nil,
        lossless: Bool = false, chromaSubsampling: ChromaSubsampling = .auto, compression: Int = 6,
        metadata: MetadataPolicy = .none
    ) {
        self.format = format
        self.quality = quality
        self.target = target
        self.progressive = progressive
        self.effort = effort
        self.lossless = lossless
        self.chromaSubsampling = chromaSubsampling
        self.compression = compression
        self.metadata = metadata
    }

    /// The quality used for `format` when `quality` is nil. WebP's and AVIF's are set with
    /// their `defaultEffort` so that, against the source resized in float, they score at least
    /// what WebP 75 / AVIF 50 at effort 4 scored (SSIMULACRA2, the benchmark photos, 320–2048
    /// px; README "Quality and cost").
    public static func defaultQuality(for format: OutputFormat) -> Int {
        switch format {
        case .jpeg: 80
        case .webp: 76
        case .avif: 54
        case .png: 100
        }
    }

    /// What `"quality": "auto"` aims for: SSIMULACRA2 75, between the metric's "high" (70) and
    /// "very high" (80) quality, about what a 1280-px JPEG at 80 scores.
    public static let autoTarget = 75.0

    /// The effort used when `effort` is nil, chosen by measurement (bytes × score × CPU):
    /// WebP 2 (a third of effort 4's CPU for ~8 % more bytes at the same score), AVIF 0
    /// (libaom's fastest: 1/30 of effort 4's CPU, 3.2 s → 0.1 s for a 2048-px file, for
    /// 30–70 % more bytes at the same score, still about a fifth below WebP).
    public static func defaultEffort(for format: OutputFormat) -> Int {
        switch format {
        case .webp: 2
        case .avif: 0
        case .jpeg, .png: 0
        }
    }

    public static func effortRange(for format: OutputFormat) -> ClosedRange<Int> { format == .avif ? 0...9 : 0...6 }

    /// Checks ranges; `effort` against the range of `format` (or of the widest, when unknown).
    public func validate(for format: OutputFormat? = nil) throws(ImgfnError) {
        let format = self.format ?? format ?? .avif
        if let quality, !(1...100).contains(quality) {
            throw ImgfnError(.invalidOptions, "quality must be 1…100, got \(quality)")
        }
        if let target {
            guard (1...100).contains(target) else {
                throw ImgfnError(.invalidOptions, "a quality target must be a SSIMULACRA2 score 1…100, got \(target)")
            }
            guard format != .png && !(format == .webp && lossless) else {
                throw ImgfnError(.invalidOptions, "a quality target needs a lossy format, not \(format.displayName)")
            }
        }
        if !(0...9).contains(compression) {
            throw ImgfnError(.invalidOptions, "PNG compression must be 0…9, got \(compression)")
        }
        let effortRange = Self.effortRange(for: format)
        if let effort, !effortRange.contains(effort) {
            throw ImgfnError(
                .invalidOptions,
                "effort for \(format.rawValue) must be \(effortRange.lowerBound)…\(effortRange.upperBound), got \(effort)"
            )
        }
    }
}

/// Chroma subsampling: `auto` lets libvips choose (4:2:0 below quality 90, 4:4:4 from 90 up).
public enum ChromaSubsampling: String, Sendable, Codable, CaseIterable {
    case auto
    case on = "4:2:0"
    case off = "4:4:4"
}

/// Which metadata an output keeps. GPS position is never kept unless `gps` is asked for.
public struct MetadataPolicy: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The EXIF copyright and artist tags.
    public static let copyright = MetadataPolicy(rawValue: 1 << 0)
    /// The ICC profile (after conversion, the sRGB profile).
    public static let icc = MetadataPolicy(rawValue: 1 << 1)
    /// Camera EXIF (make, model, exposure, date…), without the GPS block.
    public static let exif = MetadataPolicy(rawValue: 1 << 2)
    /// The EXIF GPS block: where the picture was taken.
    public static let gps = MetadataPolicy(rawValue: 1 << 3)
    /// XMP.
    public static let xmp = MetadataPolicy(rawValue: 1 << 4)

    public static let none: MetadataPolicy = []
    public static let all: MetadataPolicy = [.copyright, .icc, .exif, .gps, .xmp]

    /// Names as used in configuration (`"metadata": {"keep": [...]}`).
    public static let names: [(String, MetadataPolicy)] = [
        ("copyright", .copyright), ("icc", .icc), ("exif", .exif), ("gps", .gps), ("xmp", .xmp),
    ]
}

extension OutputFormat: CodingKeyRepresentable {}
