import ImgfnBase

/// `{"op": "resize", "width": 200, "height": 200, "fit": "cover", "gravity": "attention", "enlarge": false}`:
/// a second resize after the derivative's own (same options, same meaning).
public struct ResizeStep: PipelineStep {
    public static let op = "resize"
    let options: ResizeOptions

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        options = ResizeOptions(
            width: p.int("width", in: 1...ResizeOptions.maxDimension),
            height: p.int("height", in: 1...ResizeOptions.maxDimension),
            fit: p.choice("fit") ?? .inside, gravity: p.choice("gravity") ?? .centre,
            enlarge: p.bool("enlarge") ?? false)
        if options.width == nil && options.height == nil && !p.hasProblems {
            p.fail(nil, "needs a width, a height or both")
        }
    }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        var options = self.options
        options.background = context.background
        return try Thumbnailer.resize(image, options: options)
    }
}

/// `{"op": "extract", "left": 0, "top": 0, "width": 100, "height": 100}`: cuts out an area, in
/// pixels of the image at this point; the part outside the image is ignored.
public struct ExtractStep: PipelineStep {
    public static let op = "extract"
    let left: Int, top: Int, width: Int, height: Int

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        let range = 0...ResizeOptions.maxCoordinate
        left = p.int("left", in: range) ?? 0
        top = p.int("top", in: range) ?? 0
        width = p.int("width", in: 1...ResizeOptions.maxCoordinate) ?? 0
        height = p.int("height", in: 1...ResizeOptions.maxCoordinate) ?? 0
        if width == 0 || height == 0 { p.fail(nil, "needs width and height") }
    }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        let right = Swift.min(left + width, image.width)
        let bottom = Swift.min(top + height, image.height)
        guard right > left, bottom > top else {
            throw ImgfnError(
                .invalidOptions,
                "extract \(width)×\(height) at \(left),\(top) lies outside the \(image.width)×\(image.height) image")
        }
        return try image.cropped(left: left, top: top, width: right - left, height: bottom - top)
    }
}

/// `{"op": "rotate", "angle": 90}`: clockwise, by 90, 180 or 270 degrees.
public struct RotateStep: PipelineStep {
    public static let op = "rotate"
    let quarterTurns: Int

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        let angle = p.int("angle", in: -270...270) ?? 0
        if angle % 90 != 0 || angle == 0 {
            p.fail(p.path.isEmpty ? nil : "angle", "must be 90, 180 or 270 (or negative)")
        }
        quarterTurns = angle / 90
    }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        try image.rotated(quarterTurns: quarterTurns)
    }
}

/// `{"op": "flip", "direction": "horizontal"}` (mirror left–right) or `"vertical"`.
public struct FlipStep: PipelineStep {
    public static let op = "flip"
    enum Direction: String, CaseIterable { case horizontal, vertical }
    let direction: Direction

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        direction = p.choice("direction", Direction.self) ?? .horizontal
    }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        try image.flipped(horizontally: direction == .horizontal)
    }
}
