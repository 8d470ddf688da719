import ImgfnBase

/// `{"op": "sharpen", "sigma": 0.5}`: unsharp mask; small sigmas (0.5–1) restore crispness lost
/// in downscaling.
public struct SharpenStep: PipelineStep {
    public static let op = "sharpen"
    let sigma: Double

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        sigma = p.double("sigma", in: 0.1...10) ?? 0.5
    }

    /// Sharpening of `sigma` (0.1…10), as a request asks for it (`sh:`).
    public init(sigma: Double) { self.sigma = sigma }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        try image.sharpened(sigma: sigma)
    }
}

/// `{"op": "blur", "sigma": 4}`: Gaussian blur (e.g. for background or spoiler images).
public struct BlurStep: PipelineStep {
    public static let op = "blur"
    let sigma: Double

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        sigma = p.double("sigma", in: 0.1...100) ?? 2
    }

    /// A blur of `sigma` (0.1…100), as a request asks for it (`bl:`).
    public init(sigma: Double) { self.sigma = sigma }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        try image.blurred(sigma: sigma)
    }
}

/// `{"op": "grayscale"}`: one grey band (alpha kept).
public struct GrayscaleStep: PipelineStep {
    public static let op = "grayscale"

    public init(parameters p: ConfigReader) throws(ImgfnError) {}

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        try image.grayscale()
    }
}

/// `{"op": "flatten", "background": "#ffffff"}`: removes alpha by blending onto a colour
/// (default: the derivative's background), also for formats that could keep alpha.
public struct FlattenStep: PipelineStep {
    public static let op = "flatten"
    let colour: RGBColour?

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        colour = p.colour("background")
    }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        try image.flattened(onto: colour ?? context.background)
    }
}

extension ConfigReader {
    /// A colour: `#rrggbb`, `#rgb`, `white` or `black`.
    public func colour(_ key: String) -> RGBColour? {
        guard let text = string(key) else { return nil }
        guard let colour = RGBColour(parsing: text) else {
            fail(key, "must be a colour like \"#336699\", \"white\" or \"black\", got \"\(text)\"")
            return nil
        }
        return colour
    }
}
