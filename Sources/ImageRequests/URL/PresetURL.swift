import ImagePipeline
import ImgfnBase

/// `/{preset}/{sourceKey}` or `/{preset}/{sourceKey}.{ext}`: one of the configuration's
/// derivatives, by name, of a key of the store. The file is the one a derivative set holds
/// (same key, same encoder settings), so a pre-generated file is served as it is.
///
/// The format is the extension's when the path ends in one the derivative is made in after
/// the source key's own extension (`photo.jpg.webp`); otherwise it is negotiated from
/// `Accept` among the derivative's formats.
public struct PresetURL: Sendable, Equatable {
    public var derivative: DerivativeSpec
    /// The source key, percent-decoded.
    public var key: String
    public var format: OutputFormat?

    /// nil when the first segment names no derivative (the path is not a preset URL).
    public static func parse(_ path: String, derivatives: [DerivativeSpec]) throws(ProcessingURL.Problem) -> PresetURL?
    {
        guard path.hasPrefix("/") else { return nil }
        let rest = path.dropFirst()
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        guard let name = KeyEncoding.decode(String(rest[..<slash]), plusAsSpace: false),
            let derivative = derivatives.first(where: { $0.name == name })
        else { return nil }
        guard var key = KeyEncoding.decode(String(rest[rest.index(after: slash)...]), plusAsSpace: false),
            !key.isEmpty
        else {
            throw ProcessingURL.Problem(
                status: 400, reason: "the key after /\(name)/ is empty or not valid percent-encoding")
        }
        var format: OutputFormat?
        let file = key.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        if let last = file.lastIndex(of: "."), file[..<last].contains("."),
            let chosen = OutputFormat(extension: String(file[file.index(after: last)...])),
            derivative.formats.contains(chosen)
        {
            format = chosen
            key = String(key.dropLast(file.distance(from: last, to: file.endIndex)))
        }
        return PresetURL(derivative: derivative, key: key, format: format)
    }
}

/// What a client accepts, normalised to the three answers imgfn can give: `Accept` carries
/// many spellings of the same wish, and a CDN keyed on the raw header would store one copy per
/// browser version. `Vary: Accept` goes with every negotiated answer.
public enum AcceptedFormat: String, Sendable, Equatable, CaseIterable {
    case avif, webp, original

    /// From an `Accept` header: AVIF when `image/avif` is listed with q > 0, else WebP when
    /// `image/webp` is, else the original. `image/*` and `*/*` say nothing about new formats
    /// (browsers send them without decoding AVIF).
    public init(accept: String?) {
        var avif = false
        var webp = false
        for item in (accept ?? "").split(separator: ",") {
            let fields = item.split(separator: ";").map { $0.trimmingCharacters() }
            guard let type = fields.first?.lowercased() else { continue }
            var q = 1.0
            for parameter in fields.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 1
            }
            if q > 0 && type == "image/avif" { avif = true }
            if q > 0 && type == "image/webp" { webp = true }
        }
        self = avif ? .avif : webp ? .webp : .original
    }

    /// The format for a derivative made in `formats`: the accepted modern one when it is made,
    /// else its first JPEG or PNG, else its first format.
    public func choose(among formats: [OutputFormat]) -> OutputFormat {
        if self == .avif, formats.contains(.avif) { return .avif }
        if self != .original, formats.contains(.webp) { return .webp }
        return formats.first { $0 == .jpeg || $0 == .png } ?? formats[0]
    }

    /// The format for an ad-hoc request from a source in `input`: the accepted modern one,
    /// else PNG for a PNG or any source with transparency, JPEG for the rest (a WebP or AVIF
    /// source goes to a client that did not say it decodes them as JPEG or PNG).
    public func choose(forInput input: ImageFormat, hasAlpha: Bool) -> OutputFormat {
        switch self {
        case .avif: .avif
        case .webp: .webp
        case .original: input == .png || hasAlpha ? .png : .jpeg
        }
    }
}

extension OutputFormat {
    /// The format a file extension names (`jpg`, `jpeg`, `png`, `webp`, `avif`).
    init?(extension text: String) {
        switch text.lowercased() {
        case "jpg", "jpeg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "avif": self = .avif
        default: return nil
        }
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
