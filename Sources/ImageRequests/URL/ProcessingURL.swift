import ImagePipeline
import ImgfnBase

/// An imgproxy processing URL, read: `/%signature/%options/plain/%source@%extension` or
/// `/%signature/%options/%base64url_source.%extension` (the Base64 may be split by `/`).
///
/// Options are `name:arg1:arg2…` segments, applied in order (a later one overrides an earlier
/// one, a preset where it stands); the first segment without `:` starts the source. Sources are
/// keys of the configured store, never fetched URLs: `local:///KEY` (the filesystem store) or
/// `s3://BUCKET/KEY`.
public struct ProcessingURL: Sendable, Equatable {
    /// The first path segment, as sent.
    public var signature: String
    /// What the signature signs: the path after the signature segment, from its `/`, as sent.
    public var signedPath: String
    public var options: ProcessingOptions
    public var source: SourceReference

    /// The reason a URL is refused, with the HTTP status it maps to (400, or 403 for a source
    /// that is not a key of the store).
    public struct Problem: Error, Sendable, Equatable {
        public var status: Int
        public var reason: String
    }

    /// Splits `path` (still percent-encoded) into signature and the signed rest, without
    /// reading the options: the signature is checked before anything else is parsed.
    public static func split(_ path: String) -> (signature: String, signedPath: String)? {
        guard path.hasPrefix("/") else { return nil }
        let rest = path.dropFirst()
        guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex else { return nil }
        return (String(rest[..<slash]), String(rest[slash...]))
    }

    /// Reads a whole processing URL path.
    /// - Parameter presets: the configuration's derivatives, for `pr:`/`preset:`.
    public static func parse(_ path: String, presets: [DerivativeSpec], maxDimension: Int) throws(Problem)
        -> ProcessingURL
    {
        guard let (signature, signedPath) = split(path) else {
            throw Problem(status: 404, reason: "no such route: expected /SIGNATURE/OPTIONS/plain/SOURCE or /PRESET/KEY")
        }
        let segments = signedPath.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var options = ProcessingOptions()
        var index = 0
        while index < segments.count, segments[index].contains(":") {
            // `plain/s3://…` holds a colon in the source, but only after the `plain` segment.
            try options.apply(String(segments[index]), presets: presets, maxDimension: maxDimension)
            index += 1
        }
        let factor = options.dpr * options.zoom
        for (side, value) in [("width", options.width), ("height", options.height)]
        where Double(value) * factor > Double(maxDimension) {
            throw Problem(
                status: 400,
                reason: "\(side) \(value) × \(factor) (dpr and zoom) is over the largest side, \(maxDimension)")
        }
        if options.extend && options.resizingType != .fit {
            throw Problem(
                status: 400,
                reason:
                    "extend (ex) is supported with the fit resizing type only, not \(options.resizingType.rawValue)")
        }
        let sourceSegments = segments[index...]
        guard let first = sourceSegments.first, !first.isEmpty else {
            throw Problem(status: 400, reason: "no source: the path ends after the options")
        }
        let sourceText: String
        var extensionText: String?
        if first == "plain" {
            var plain = sourceSegments.dropFirst().joined(separator: "/")
            if let at = plain.lastIndex(of: "@") {
                extensionText = String(plain[plain.index(after: at)...])
                plain = String(plain[..<at])
            }
            guard let decoded = KeyEncoding.decode(plain, plusAsSpace: false) else {
                throw Problem(status: 400, reason: "the plain source is not valid percent-encoding")
            }
            sourceText = decoded
        } else if first == "enc" {
            throw Problem(status: 400, reason: "encrypted sources (enc/) are not supported; use plain/ or Base64")
        } else {
            var encoded = sourceSegments.joined()
            if let dot = encoded.lastIndex(of: ".") {
                extensionText = String(encoded[encoded.index(after: dot)...])
                encoded = String(encoded[..<dot])
            }
            guard let bytes = Base64URL.decode(encoded), let text = String(validating: bytes, as: UTF8.self) else {
                throw Problem(status: 400, reason: "the source is neither plain/… nor URL-safe Base64")
            }
            sourceText = text
        }
        if let extensionText, !extensionText.isEmpty {
            options.format = try ProcessingOptions.format(extensionText, option: "extension")
        }
        return ProcessingURL(
            signature: signature, signedPath: signedPath, options: options,
            source: try SourceReference(parsing: sourceText))
    }
}

/// Where a requested source is: a key of the store serving requests. Never a URL to fetch.
public enum SourceReference: Sendable, Equatable {
    /// `local:///KEY`: a key of the filesystem store.
    case local(key: String)
    /// `s3://BUCKET/KEY`.
    case s3(bucket: String, key: String)

    public var key: String {
        switch self {
        case .local(let key), .s3(_, let key): key
        }
    }

    /// - Throws: 403 for `http(s)://` and other schemes (nothing is fetched from the network),
    ///   400 for a source of neither form.
    init(parsing text: String) throws(ProcessingURL.Problem) {
        if text.hasPrefix("local:///") {
            self = .local(key: String(text.dropFirst("local:///".count)))
        } else if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex else {
                throw ProcessingURL.Problem(status: 400, reason: "source \(text) is not s3://BUCKET/KEY")
            }
            self = .s3(bucket: String(rest[..<slash]), key: String(rest[rest.index(after: slash)...]))
        } else if text.contains("://") {
            throw ProcessingURL.Problem(
                status: 403,
                reason:
                    "source \(text.prefix(200)) is not allowed: imgfn reads keys of its store (local:///KEY, s3://BUCKET/KEY), never URLs"
            )
        } else {
            throw ProcessingURL.Problem(
                status: 400, reason: "source \(text.prefix(200)) is not local:///KEY or s3://BUCKET/KEY")
        }
    }
}

/// imgproxy's resizing types.
public enum ResizingType: String, Sendable, Equatable, CaseIterable {
    /// Keep the aspect ratio, fit inside the box.
    case fit
    /// Keep the aspect ratio, fill the box, crop what overflows (by gravity).
    case fill
    /// As `fill`, but never enlarging: a source smaller than the box is cropped to the box's
    /// shape at the largest size it fills.
    case fillDown = "fill-down"
    /// Stretch to the box.
    case force
    /// `fill` when source and box have the same orientation, else `fit`.
    case auto
}

/// The processing options of one request, after every option segment was applied.
public struct ProcessingOptions: Sendable, Equatable {
    public var resizingType: ResizingType = .fit
    /// 0: not bounded by this side.
    public var width = 0
    public var height = 0
    public var enlarge = false
    /// Pad to the requested box (fit only), placed by `extendGravity`.
    public var extend = false
    public var extendGravity: Gravity = .centre
    public var gravity: Gravity = .centre
    /// nil: the configuration's quality for the format.
    public var quality: Int?
    /// nil: negotiated from `Accept`, else the source's format.
    public var format: OutputFormat?
    public var background: RGBColour?
    /// The presets applied (`pr:`), by name.
    public var presets: [String] = []
    /// `dpr` (device pixel ratio) and `z`/`zoom`: the requested size is multiplied by both, or,
    /// with neither side given, the source's (enlarging only with `el:1`).
    public var dpr = 1.0
    public var zoom = 1.0
    /// Gaussian blur and sharpening after the resize, by sigma (`bl`, `sh`); 0: none.
    public var blur = 0.0
    public var sharpen = 0.0
    /// `sm`, `kcr`, `scp`: the configuration's metadata policy changed for this request; nil
    /// where the URL does not say (see `metadata(from:)`).
    public var stripMetadata: Bool?
    public var keepCopyright: Bool?
    public var stripColourProfile: Bool?
    /// `exp`: the Unix time after which the URL answers 404.
    public var expires: Int?
    /// `fn` and `att`: the answer's `Content-Disposition` (none unless either is given).
    public var filename: String?
    public var attachment = false

    public init() {}

    /// The same options in one fixed spelling: equal options, equal text. Part of the ETag and
    /// the stored result's key, so `w:300/h:200` and `rs:fit:300:200` share them.
    public var canonical: String {
        var parts = [
            "rt:\(resizingType.rawValue)", "w:\(width)", "h:\(height)", "el:\(enlarge ? 1 : 0)",
            "ex:\(extend ? 1 : 0):\(extendGravity.rawValue)", "g:\(gravity.rawValue)",
        ]
        if let quality { parts.append("q:\(quality)") }
        if let background { parts.append("bg:\(background.red):\(background.green):\(background.blue)") }
        // Only what changes the bytes, and only when set, so that older URLs keep their ETags.
        if dpr * zoom != 1 { parts.append("scale:\(dpr * zoom)") }
        if blur > 0 { parts.append("bl:\(blur)") }
        if sharpen > 0 { parts.append("sh:\(sharpen)") }
        for (name, value) in [("sm", stripMetadata), ("kcr", keepCopyright), ("scp", stripColourProfile)] {
            if let value { parts.append("\(name):\(value ? 1 : 0)") }
        }
        return parts.joined(separator: "/")
    }

    /// The metadata kept for this request: `policy` (the configuration's for the format) with
    /// `sm:1` dropping the camera EXIF, GPS and XMP (`sm:0` keeping them), `kcr` keeping or
    /// dropping the copyright, `scp:1` dropping the (sRGB) profile and `scp:0` keeping it.
    public func metadata(from policy: MetadataPolicy) -> MetadataPolicy {
        var policy = policy
        switch stripMetadata {
        case true?: policy.subtract([.exif, .gps, .xmp])
        case false?: policy.formUnion([.exif, .gps, .xmp])
        case nil: break
        }
        switch keepCopyright {
        case true?: policy.insert(.copyright)
        case false?: policy.remove(.copyright)
        case nil: break
        }
        switch stripColourProfile {
        case true?: policy.remove(.icc)
        case false?: policy.insert(.icc)
        case nil: break
        }
        return policy
    }

    /// The steps after the resize: blur, then sharpening, as imgproxy applies them.
    public var steps: [any PipelineStep] {
        var steps: [any PipelineStep] = []
        if blur > 0 { steps.append(BlurStep(sigma: blur)) }
        if sharpen > 0 { steps.append(SharpenStep(sigma: sharpen)) }
        return steps
    }

    /// `Content-Disposition` for an answer in `format` from the source `key`: nil unless `fn`
    /// or `att` was given. The name is `fn`'s or the source's, with the format's extension; a
    /// plain-ASCII `filename` beside an RFC 8187 `filename*` for the exact one.
    public func contentDisposition(sourceKey key: String, format: OutputFormat) -> String? {
        guard filename != nil || attachment else { return nil }
        var stem = filename ?? String(key.split(separator: "/").last ?? "image")
        if filename == nil, let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = String(stem[..<dot]) }
        let name = stem + "." + (format == .jpeg ? "jpg" : format.rawValue)
        let ascii = String(
            name.unicodeScalars.map { scalar -> Character in
                let safe =
                    scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7f && scalar != "\"" && scalar != "\\"
                return safe ? Character(scalar) : "_"
            })
        // RFC 3986 percent-encoding; a name never holds a `/` (checked where it is read).
        let encoded = KeyEncoding.encode(name, spaceAsPlus: false)
        return "\(attachment ? "attachment" : "inline"); filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }

    /// The resize for a source of `width`×`height` (upright): `auto` and `fill-down` need it.
    public func resizeOptions(sourceWidth: Int, sourceHeight: Int) -> ResizeOptions {
        let background = self.background ?? .white
        let factor = dpr * zoom
        func scaled(_ side: Int) -> Int { Swift.max(1, Int((Double(side) * factor).rounded())) }
        var w = width > 0 ? scaled(width) : nil
        var h = height > 0 ? scaled(height) : nil
        guard w != nil || h != nil else {
            if factor < 1 || (factor > 1 && enlarge) {
                // Neither side given, with dpr or zoom: the source's size times the factor.
                return ResizeOptions(
                    width: scaled(sourceWidth), height: scaled(sourceHeight), fit: .inside, enlarge: enlarge,
                    background: background)
            }
            // Neither side given: the source's own size (imgproxy's 0:0), never enlarged.
            return ResizeOptions(
                width: ResizeOptions.maxDimension, height: ResizeOptions.maxDimension, fit: .inside,
                background: background)
        }
        var type = resizingType
        if type == .fillDown, let boxWidth = w, let boxHeight = h {
            // A source smaller than the box gets the largest box of the same shape it fills.
            let factor = Swift.min(1, Double(sourceWidth) / Double(boxWidth), Double(sourceHeight) / Double(boxHeight))
            w = Swift.max(1, Int((Double(boxWidth) * factor).rounded()))
            h = Swift.max(1, Int((Double(boxHeight) * factor).rounded()))
        }
        if type == .auto {
            let sourceLandscape = sourceWidth >= sourceHeight
            let boxLandscape = (w ?? 0) >= (h ?? 0)
            type = w != nil && h != nil && sourceLandscape == boxLandscape ? .fill : .fit
        }
        let fit: Fit
        var gravity = self.gravity
        switch type {
        case .fit, .auto:
            fit = extend && w != nil && h != nil ? .contain : .inside
            if fit == .contain { gravity = extendGravity }
        case .fill, .fillDown: fit = w != nil && h != nil ? .cover : .inside
        case .force: fit = w != nil && h != nil ? .fill : .inside
        }
        return ResizeOptions(
            width: w, height: h, fit: fit, gravity: gravity, enlarge: enlarge && type != .fillDown,
            background: background)
    }

    /// Applies one `name:args…` segment.
    mutating func apply(_ segment: String, presets: [DerivativeSpec], maxDimension: Int) throws(ProcessingURL.Problem) {
        let parts = segment.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        let args = Array(parts.dropFirst())
        func bad(_ reason: String) -> ProcessingURL.Problem {
            ProcessingURL.Problem(status: 400, reason: "option \(segment.prefix(100)): \(reason)")
        }
        func size(_ text: String, _ side: String) throws(ProcessingURL.Problem) -> Int? {
            if text.isEmpty { return nil }
            guard let value = Int(text), value >= 0 else { throw bad("\(side) must be a whole number ≥ 0") }
            guard value <= maxDimension else { throw bad("\(side) \(value) is over the largest side, \(maxDimension)") }
            return value
        }
        func flag(_ text: String) throws(ProcessingURL.Problem) -> Bool? {
            switch text {
            case "": nil
            case "1", "t", "true": true
            case "0", "f", "false": false
            default: throw bad("\"\(text)\" is not a boolean (1, t, true, 0, f, false)")
            }
        }
        func count(_ range: ClosedRange<Int>) throws(ProcessingURL.Problem) {
            guard range.contains(args.count) else {
                throw bad(
                    "takes \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)…\(range.upperBound)") arguments"
                )
            }
        }
        switch name {
        case "resize", "rs":
            try count(1...5)
            if !args[0].isEmpty { resizingType = try Self.resizingType(args[0], bad) }
            if args.count > 1, let w = try size(args[1], "width") { width = w }
            if args.count > 2, let h = try size(args[2], "height") { height = h }
            if args.count > 3, let e = try flag(args[3]) { enlarge = e }
            if args.count > 4, let e = try flag(args[4]) { extend = e }
        case "size", "s":
            try count(1...4)
            if let w = try size(args[0], "width") { width = w }
            if args.count > 1, let h = try size(args[1], "height") { height = h }
            if args.count > 2, let e = try flag(args[2]) { enlarge = e }
            if args.count > 3, let e = try flag(args[3]) { extend = e }
        case "resizing_type", "rt":
            try count(1...1)
            resizingType = try Self.resizingType(args[0], bad)
        case "width", "w":
            try count(1...1)
            width = try size(args[0], "width") ?? 0
        case "height", "h":
            try count(1...1)
            height = try size(args[0], "height") ?? 0
        case "enlarge", "el":
            try count(1...1)
            enlarge = try flag(args[0]) ?? false
        case "extend", "ex":
            try count(1...4)
            extend = try flag(args[0]) ?? false
            if args.count > 1, !args[1].isEmpty { extendGravity = try Self.gravity(args[1], bad) }
            try Self.noOffsets(args.dropFirst(2), bad)
        case "gravity", "g":
            try count(1...3)
            gravity = try Self.gravity(args[0], bad)
            try Self.noOffsets(args.dropFirst(1), bad)
        case "quality", "q":
            try count(1...1)
            guard let q = Int(args[0]), (0...100).contains(q) else { throw bad("quality must be 0…100") }
            quality = q == 0 ? nil : q
        case "format", "f", "ext":
            try count(1...1)
            format = try Self.format(args[0], option: "option \(name)")
        case "background", "bg":
            try count(1...3)
            if args.count == 2 { throw bad("give R:G:B, each 0…255, or a hex colour") }
            if args.count == 3 {
                guard let r = UInt8(args[0]), let g = UInt8(args[1]), let b = UInt8(args[2]) else {
                    throw bad("give R:G:B, each 0…255, or a hex colour")
                }
                background = RGBColour(red: r, green: g, blue: b)
            } else if args[0].isEmpty {
                background = nil
            } else {
                guard let colour = RGBColour(parsing: "#" + args[0]) else {
                    throw bad("\(args[0]) is not a hex colour")
                }
                background = colour
            }
        case "dpr":
            try count(1...1)
            guard let value = Double(args[0]), value > 0, value <= 8 else {
                throw bad("dpr must be a number over 0, at most 8")
            }
            dpr = value
        case "zoom", "z":
            try count(1...2)
            let values = args.map { Double($0) }
            guard values.allSatisfy({ $0.map { $0 > 0 && $0 <= 8 } ?? false }) else {
                throw bad("zoom must be a number over 0, at most 8")
            }
            guard values.count == 1 || values[0] == values[1] else {
                throw bad("different horizontal and vertical zoom is not supported; give one factor")
            }
            zoom = values[0]!
        case "blur", "bl":
            try count(1...1)
            guard let value = Double(args[0]), value == 0 || (0.1...100).contains(value) else {
                throw bad("blur sigma must be 0 (none) or 0.1…100")
            }
            blur = value
        case "sharpen", "sh":
            try count(1...1)
            guard let value = Double(args[0]), value == 0 || (0.1...10).contains(value) else {
                throw bad("sharpen sigma must be 0 (none) or 0.1…10")
            }
            sharpen = value
        case "strip_metadata", "sm":
            try count(1...1)
            stripMetadata = try flag(args[0])
        case "keep_copyright", "kcr":
            try count(1...1)
            keepCopyright = try flag(args[0])
        case "strip_color_profile", "scp":
            try count(1...1)
            stripColourProfile = try flag(args[0])
        case "auto_rotate", "ar":
            try count(1...1)
            if try flag(args[0]) == false { throw bad("images are always turned upright by their EXIF orientation") }
        case "cachebuster", "cb":
            break  // signed with the rest of the path; changes nothing in the answer
        case "expires", "exp":
            try count(1...1)
            if args[0].isEmpty {
                expires = nil
            } else {
                guard let value = Int(args[0]), value >= 0 else { throw bad("give a Unix time in seconds") }
                expires = value
            }
        case "filename", "fn":
            try count(1...2)
            let encoded = args.count > 1 ? try flag(args[1]) ?? false : false
            let decoded: String?
            if encoded {
                decoded = Base64URL.decode(args[0]).flatMap { String(validating: $0, as: UTF8.self) }
            } else {
                decoded = KeyEncoding.decode(args[0], plusAsSpace: false)
            }
            guard let name = decoded, !name.isEmpty, name.utf8.count <= 200,
                !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "/" || $0.value == 0x7f })
            else {
                throw bad("a file name of 1…200 bytes without / or control characters")
            }
            filename = name
        case "return_attachment", "att":
            try count(1...1)
            attachment = try flag(args[0]) ?? false
        case "preset", "pr":
            guard !args.isEmpty else { throw bad("name a preset") }
            for presetName in args {
                guard let preset = presets.first(where: { $0.name == presetName }) else {
                    let known = presets.map(\.name).joined(separator: ", ")
                    throw bad("no preset \"\(presetName)\"; presets are the configuration's derivatives: \(known)")
                }
                apply(preset)
            }
        default:
            throw ProcessingURL.Problem(
                status: 400,
                reason:
                    "unknown option \(name.prefix(40)); supported: rs, s, rt, w, h, dpr, z, el, ex, g, q, f, bg, bl, sh, sm, kcr, scp, ar, cb, exp, fn, att, pr (and their long names)"
            )
        }
    }

    /// A configured derivative's geometry as options (`pr:NAME`).
    mutating func apply(_ preset: DerivativeSpec) {
        let resize = preset.resize
        presets.append(preset.name)
        width = resize.width ?? 0
        height = resize.height ?? 0
        enlarge = resize.enlarge
        switch resize.fit {
        case .inside: (resizingType, extend) = (.fit, false)
        case .contain: (resizingType, extend, extendGravity) = (.fit, true, resize.gravity)
        case .cover: (resizingType, gravity) = (.fill, resize.gravity)
        case .fill: resizingType = .force
        }
        if resize.background != .white { background = resize.background }
    }

    static func resizingType(_ text: String, _ bad: (String) -> ProcessingURL.Problem) throws(ProcessingURL.Problem)
        -> ResizingType
    {
        guard let type = ResizingType(rawValue: text) else {
            throw bad("resizing type \(text.prefix(20)) is not one of fit, fill, fill-down, force, auto")
        }
        return type
    }

    static func gravity(_ text: String, _ bad: (String) -> ProcessingURL.Problem) throws(ProcessingURL.Problem)
        -> Gravity
    {
        switch text {
        case "ce": return .centre
        case "no": return .north
        case "so": return .south
        case "ea": return .east
        case "we": return .west
        case "noea": return .northeast
        case "nowe": return .northwest
        case "soea": return .southeast
        case "sowe": return .southwest
        case "sm": return .attention
        case "fp": throw bad("focus-point gravity (fp) is not supported; use a compass gravity or sm")
        default: throw bad("gravity \(text.prefix(20)) is not one of ce, no, so, ea, we, noea, nowe, soea, sowe, sm")
        }
    }

    static func noOffsets(_ args: ArraySlice<String>, _ bad: (String) -> ProcessingURL.Problem)
        throws(ProcessingURL.Problem)
    {
        for arg in args where !arg.isEmpty && Double(arg) != 0 {
            throw bad("gravity offsets are not supported (give 0 or leave them out)")
        }
    }

    static func format(_ text: String, option: String) throws(ProcessingURL.Problem) -> OutputFormat {
        switch text.lowercased() {
        case "jpg", "jpeg": return .jpeg
        case "png": return .png
        case "webp": return .webp
        case "avif": return .avif
        default:
            throw ProcessingURL.Problem(
                status: 400, reason: "\(option): format \(text.prefix(20)) is not one of jpg, png, webp, avif")
        }
    }
}
