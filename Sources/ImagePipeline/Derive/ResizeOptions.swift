import ImgfnBase

/// How an image is sized. Every option and its default live here.
public struct ResizeOptions: Sendable, Equatable, Codable {
    /// Target width; nil leaves the width unbounded (set by the height and the aspect ratio).
    public var width: Int?
    /// Target height; nil leaves the height unbounded.
    public var height: Int?
    public var fit: Fit
    /// Which part to keep when `fit` is `cover`, or where to place the image when `contain`.
    public var gravity: Gravity
    /// Allow output larger than the input. Off by default: images are never upscaled.
    public var enlarge: Bool
    /// Colour used to pad (`contain`) and to flatten alpha when the output format has none.
    public var background: RGBColour

    public init(
        width: Int? = nil, height: Int? = nil, fit: Fit = .inside, gravity: Gravity = .centre,
        enlarge: Bool = false, background: RGBColour = .white
    ) {
        self.width = width
        self.height = height
        self.fit = fit
        self.gravity = gravity
        self.enlarge = enlarge
        self.background = background
    }

    /// The largest width or height a resize, a derivative or a resize step asks for (AVIF's
    /// limit, one above WebP's): the one limit, for configurations read from JSON and built
    /// in code alike.
    public static let maxDimension = 16_384

    /// A coordinate beyond any image imgfn decodes: the bound of an extract step's area, and
    /// what a resize given only one dimension uses for the other ("unbounded").
    public static let maxCoordinate = 100_000

    /// Checks ranges: at least one of width/height, each 1…`maxDimension`.
    public func validate() throws(ImgfnError) {
        guard width != nil || height != nil else {
            throw ImgfnError(.invalidOptions, "give a width, a height or both")
        }
        for (name, value) in [("width", width), ("height", height)] {
            if let value, !(1...Self.maxDimension).contains(value) {
                throw ImgfnError(.invalidOptions, "\(name) must be 1…\(Self.maxDimension), got \(value)")
            }
        }
    }
}

/// How the image is fitted into a width × height box. With only one of width and height
/// there is no box, and every fit behaves like `inside`.
public enum Fit: String, Sendable, Codable, CaseIterable {
    /// Keep the aspect ratio; as large as possible within the box.
    case inside
    /// Keep the aspect ratio; fill the box exactly, cropping the overflow (see `Gravity`).
    case cover
    /// Ignore the aspect ratio; stretch to the box exactly.
    case fill
    /// Keep the aspect ratio; fit inside, then pad to the box with the background.
    case contain
}

/// Which part of the image `cover` keeps, or where `contain` places it.
public enum Gravity: String, Sendable, Codable, CaseIterable {
    case centre, north, northeast, east, southeast, south, southwest, west, northwest
    /// Keep the region most likely to draw the eye (skin tones, saturation, edges).
    case attention
    /// Keep the region with the most detail (Shannon entropy).
    case entropy

    /// Horizontal and vertical placement in 0…1 (0 = left/top), for compass directions.
    var anchor: (x: Double, y: Double) {
        switch self {
        case .north: (0.5, 0)
        case .northeast: (1, 0)
        case .east: (1, 0.5)
        case .southeast: (1, 1)
        case .south: (0.5, 1)
        case .southwest: (0, 1)
        case .west: (0, 0.5)
        case .northwest: (0, 0)
        case .centre, .attention, .entropy: (0.5, 0.5)
        }
    }
}
