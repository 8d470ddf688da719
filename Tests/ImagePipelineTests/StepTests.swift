import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

/// A step defined outside ImagePipeline, to prove the plug point: inverts the colour bands.
struct InvertStep: PipelineStep {
    static let op = "invert"
    let strength: Double

    init(parameters: ConfigReader) throws(ImgfnError) {
        strength = parameters.double("strength", in: 0...1) ?? 1
    }

    func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        let colourBands = image.hasAlpha ? image.bands - 1 : image.bands
        let multiply = Array(repeating: 1 - 2 * strength, count: colourBands) + (image.hasAlpha ? [1] : [])
        let add = Array(repeating: 255 * strength, count: colourBands) + (image.hasAlpha ? [0] : [])
        return try image.linear(multiply: multiply, add: add)
    }
}

@Suite struct StepTests {
    /// Derives one PNG derivative of `fixture` with `steps` (JSON objects) and decodes it.
    func derive(
        _ fixture: String, width: Int, height: Int? = nil, fit: String = "inside", steps: String,
        registry: StepRegistry = .builtIn
    ) throws -> PixelBuffer {
        let heightJSON = height.map { #", "height": \#($0)"# } ?? ""
        let json =
            #"{"derivatives": [{"name": "t", "width": \#(width)\#(heightJSON), "fit": "\#(fit)", "formats": ["png"], "steps": [\#(steps)]}]}"#
        let pipeline = try Pipeline(json: Array(json.utf8), registry: registry, baseDirectory: Fixtures.root)
        let set = try pipeline.derive(try Fixtures.bytes(fixture))
        return try PixelBuffer.decode(SourceBytes(set.files[0].image.bytes))
    }

    @Test func aStepRegisteredFromOutsideRuns() throws {
        var registry = StepRegistry.builtIn
        registry.register(InvertStep.self)
        #expect(registry.ops.contains("invert"))
        let plain = try derive("colour/bars.png", width: 128, steps: "")
        let inverted = try derive("colour/bars.png", width: 128, steps: #"{"op": "invert"}"#, registry: registry)
        #expect(plain.pixel(16, 16) == [255, 0, 0])
        #expect(inverted.pixel(16, 16) == [0, 255, 255])
        #expect(inverted.pixel(112, 16) == [0, 0, 0])  // white → black
    }

    @Test func unregisteredStepsAreRefusedAtLoad() {
        #expect(throws: ImgfnError.self) {
            try derive("colour/bars.png", width: 128, steps: #"{"op": "invert"}"#)
        }
    }

    @Test func rotateAndFlip() throws {
        let rotated = try derive("colour/bars.png", width: 128, steps: #"{"op": "rotate", "angle": 90}"#)
        #expect((rotated.width, rotated.height) == (32, 128))
        #expect(rotated.pixel(16, 16) == [255, 0, 0])  // red was left, is now top
        let flipped = try derive("colour/bars.png", width: 128, steps: #"{"op": "flip", "direction": "horizontal"}"#)
        #expect(flipped.pixel(16, 16) == [255, 255, 255])  // white was right, is now left
        let vertical = try derive("colour/bars.png", width: 128, steps: #"{"op": "flip", "direction": "vertical"}"#)
        #expect(vertical.pixel(16, 16) == [255, 0, 0])
    }

    @Test func extractCutsAnArea() throws {
        let cut = try derive(
            "colour/bars.png", width: 128, steps: #"{"op": "extract", "left": 64, "top": 0, "width": 32, "height": 10}"#
        )
        #expect((cut.width, cut.height) == (32, 10))
        #expect(cut.pixel(16, 5) == [0, 0, 255])  // the blue patch
    }

    @Test func grayscaleGivesOneBand() throws {
        let grey = try derive(Fixtures.photo, width: 64, steps: #"{"op": "grayscale"}"#)
        #expect(grey.bands == 1)
    }

    @Test func blurAndSharpenChangeDetailInOppositeDirections() throws {
        func detail(_ p: PixelBuffer) -> Int {
            var total = 0
            for y in 0..<p.height { for x in 1..<p.width { total += abs(Int(p[x, y, 0]) - Int(p[x - 1, y, 0])) } }
            return total
        }
        let plain = detail(try derive(Fixtures.photo, width: 320, steps: ""))
        let blurred = detail(try derive(Fixtures.photo, width: 320, steps: #"{"op": "blur", "sigma": 3}"#))
        let sharpened = detail(try derive(Fixtures.photo, width: 320, steps: #"{"op": "sharpen", "sigma": 1}"#))
        #expect(blurred < plain * 2 / 3)
        #expect(sharpened > plain)
    }

    @Test func flattenRemovesAlpha() throws {
        let flat = try derive(
            "colour/bars-alpha.png", width: 128, steps: ##"{"op": "flatten", "background": "#000000"}"##)
        #expect(flat.bands == 3)
        #expect(flat.pixel(80, 16) == [0, 0, 0])  // transparent blue → black
        #expect(flat.pixel(16, 16) == [255, 0, 0])
    }

    @Test func watermarkDrawsInItsCornerOnly() throws {
        let plain = try derive(Fixtures.photo, width: 400, steps: "")
        let marked = try derive(
            Fixtures.photo, width: 400,
            steps:
                #"{"op": "watermark", "image": "colour/bars.png", "gravity": "southeast", "opacity": 1, "margin": 10, "width": 0.25}"#
        )
        #expect((marked.width, marked.height, marked.bands) == (400, 267, 3))
        // The overlay is 100×25 at (290, 232): its white (rightmost) patch is at x 365…389.
        #expect(marked.pixel(380, 244) == [255, 255, 255])
        #expect(marked.pixel(300, 244)[0] > 240 && marked.pixel(300, 244)[1] < 20)  // red patch
        #expect(marked.pixel(20, 20) == plain.pixel(20, 20))  // far corner untouched
    }

    @Test func halfOpacityBlends() throws {
        let marked = try derive(
            "colour/bars.png", width: 256,
            steps:
                #"{"op": "watermark", "image": "colour/bars.png", "gravity": "northwest", "opacity": 0.5, "margin": 0, "width": 1}"#
        )
        // Overlay equals the image: blending equal colours at any opacity keeps them.
        #expect(marked.pixel(32, 32) == [255, 0, 0])
        let black = try derive(
            "colour/bars.png", width: 256,
            steps:
                #"{"op": "flip", "direction": "horizontal"}, {"op": "watermark", "image": "colour/bars.png", "gravity": "northwest", "opacity": 0.5, "margin": 0, "width": 1}"#
        )
        // Flipped: white under red overlay at 50 % → (255, 128, 128) ± rounding.
        let p = black.pixel(32, 32)
        #expect(p[0] >= 250 && (120...135).contains(p[1]) && (120...135).contains(p[2]), "\(p)")
    }

    @Test func resizeStepRunsAfterTheDerivativeResize() throws {
        let out = try derive(
            Fixtures.photo, width: 640, steps: #"{"op": "resize", "width": 100, "height": 100, "fit": "cover"}"#)
        #expect((out.width, out.height) == (100, 100))
    }
}
