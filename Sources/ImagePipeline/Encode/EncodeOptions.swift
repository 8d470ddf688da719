/// Output formats imgfn writes.
public enum OutputFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, webp, avif

    /// File name extension, without the dot.
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
    public var contentType: String { "image/\(rawValue)" }
    /// Whether the format stores transparency; if not, alpha is flattened onto the background.
    public var supportsAlpha: Bool { self != .jpeg }

    /// The output format that keeps an input's format when it is one we write, else JPEG.
    public init(matching input: ImageFormat) {
        self = switch input {
        case .jpeg: .jpeg
        case .png: .png
        case .webp: .webp
        case .avif: .avif
        case .gif, .tiff, .heic: .jpeg
        }
    }
}

/// How an image is encoded. Every option and its default live here.
public struct EncodeOptions: Sendable, Equatable, Codable {
    /// nil: the input's format when imgfn writes it, else JPEG (`OutputFormat(matching:)`).
    public var format: OutputFormat?
    /// 1…100; nil takes the format's default (`defaultQuality`). Ignored for PNG.
    public var quality: Int?
    /// Progressive JPEG (or interlaced PNG). Off by default: baseline decodes faster and,
    /// for the small sizes most derivatives are, is about as small.
    public var progressive: Bool
    /// CPU effort: WebP 0…6 (default 4), AVIF 0…9 (default 4). Higher is smaller and slower.
    public var effort: Int?
    /// Keep EXIF/XMP/IPTC/ICC metadata. Off by default: nothing about the camera or the
    /// place (GPS) leaks into published files, and the files are smaller.
    public var keepMetadata: Bool

    public init(format: OutputFormat? = nil, quality: Int? = nil, progressive: Bool = false, effort: Int? = nil,
                keepMetadata: Bool = false) {
        self.format = format
        self.quality = quality
        self.progressive = progressive
        self.effort = effort
        self.keepMetadata = keepMetadata
    }

    /// The quality used for `format` when `quality` is nil.
    public static func defaultQuality(for format: OutputFormat) -> Int {
        switch format {
        case .jpeg: 80
        case .webp: 80
        case .avif: 50
        case .png: 100
        }
    }

    public static func effortRange(for format: OutputFormat) -> ClosedRange<Int> { format == .avif ? 0...9 : 0...6 }

    /// Checks ranges; `effort` against the range of `format` (or of the widest, when unknown).
    public func validate(for format: OutputFormat? = nil) throws(ImagePipelineError) {
        let format = self.format ?? format ?? .avif
        if let quality, !(1...100).contains(quality) {
            throw ImagePipelineError(.invalidOptions, "quality must be 1…100, got \(quality)")
        }
        let effortRange = Self.effortRange(for: format)
        if let effort, !effortRange.contains(effort) {
            throw ImagePipelineError(
                .invalidOptions,
                "effort for \(format.rawValue) must be \(effortRange.lowerBound)…\(effortRange.upperBound), got \(effort)")
        }
    }
}
