import ImgfnBase

/// `{"op": "watermark", "image": "logo.png", "gravity": "southeast", "opacity": 0.5, "margin": 16, "width": 0.2}`:
/// draws an image (PNG with alpha, usually) over the derivative.
///
/// `image` is a path, relative to the configuration file; it is read and checked when the
/// configuration loads. `width`, if given, scales the overlay to that fraction of the
/// derivative's width; an overlay larger than the derivative is always scaled down to fit.
public struct WatermarkStep: PipelineStep {
    public static let op = "watermark"
    let overlay: SourceBytes
    let gravity: Gravity
    let opacity: Double
    let margin: Int
    let relativeWidth: Double?

    public init(parameters p: ConfigReader) throws(ImgfnError) {
        gravity = p.choice("gravity") ?? .southeast
        opacity = p.double("opacity", in: 0...1) ?? 0.5
        margin = p.int("margin", in: 0...10_000) ?? 16
        relativeWidth = p.double("width", in: 0.01...1)
        if gravity == .attention || gravity == .entropy { p.fail("gravity", "must be centre or a compass direction") }
        guard let file = p.string("image") else {
            p.fail(nil, "needs \"image\": the path of the overlay")
            overlay = SourceBytes([0])
            return
        }
        do {
            let bytes = try SourceBytes.read(path: p.resolve(file), maxBytes: 20 << 20)
            _ = try ImageResizer.info(of: bytes)
            overlay = bytes
        } catch {
            p.fail("image", "\(p.resolve(file)): \(error.message)")
            overlay = SourceBytes([0])
        }
    }

    public func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        var mark = try VipsImage.decode(overlay).srgb().withAlpha()
        var scale = relativeWidth.map { Double(image.width) * $0 / Double(mark.width) } ?? 1
        scale = Swift.min(scale, Double(image.width) / Double(mark.width), Double(image.height) / Double(mark.height))
        if scale != 1 { mark = try mark.resized(scale: scale) }
        if opacity < 1 { mark = try mark.linear(multiply: [1, 1, 1, opacity], add: [0, 0, 0, 0]) }
        let base = try image.srgb()
        let (ax, ay) = gravity.anchor
        let freeX = Swift.max(0, base.width - mark.width - 2 * margin)
        let freeY = Swift.max(0, base.height - mark.height - 2 * margin)
        let x = Swift.min(base.width - mark.width, margin + Int((Double(freeX) * ax).rounded()))
        let y = Swift.min(base.height - mark.height, margin + Int((Double(freeY) * ay).rounded()))
        let marked = try base.composited(with: mark, x: Swift.max(0, x), y: Swift.max(0, y))
        // The blend adds an (opaque) alpha band to an image that had none: drop it again.
        return image.hasAlpha ? marked : try marked.flattened(onto: context.background)
    }
}
