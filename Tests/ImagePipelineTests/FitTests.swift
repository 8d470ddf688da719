import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

@Suite struct FitTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let options: ResizeOptions
        let width: Int, height: Int
        var testDescription: String {
            "\(options.fit) \(options.width.map(String.init) ?? "-")×\(options.height.map(String.init) ?? "-") \(options.gravity)\(options.enlarge ? " enlarge" : "") → \(width)×\(height)"
        }
    }

    /// The photo is 1920×1280 (3:2).
    @Test(arguments: [
        Case(options: .init(width: 320), width: 320, height: 213),
        Case(options: .init(height: 100), width: 150, height: 100),
        Case(options: .init(width: 320, height: 320), width: 320, height: 213),
        Case(options: .init(width: 320, height: 100), width: 150, height: 100),
        Case(options: .init(width: 200, height: 200, fit: .cover), width: 200, height: 200),
        Case(options: .init(width: 200, height: 200, fit: .cover, gravity: .attention), width: 200, height: 200),
        Case(options: .init(width: 200, height: 200, fit: .cover, gravity: .entropy), width: 200, height: 200),
        Case(options: .init(width: 300, height: 100, fit: .cover, gravity: .north), width: 300, height: 100),
        Case(options: .init(width: 100, height: 300, fit: .cover, gravity: .southeast), width: 100, height: 300),
        Case(options: .init(width: 300, height: 100, fit: .fill), width: 300, height: 100),
        Case(options: .init(width: 300, height: 300, fit: .contain), width: 300, height: 300),
        Case(options: .init(width: 4000), width: 1920, height: 1280),
        Case(options: .init(width: 3840, enlarge: true), width: 3840, height: 2560),
        Case(options: .init(width: 4000, height: 100, fit: .fill), width: 1920, height: 100),
        Case(options: .init(width: 4000, height: 4000, fit: .cover), width: 1920, height: 1280),
    ])
    func outputDimensions(_ c: Case) throws {
        let encoded = try ImageResizer.resize(try Fixtures.bytes(Fixtures.photo), c.options)
        #expect((encoded.width, encoded.height) == (c.width, c.height))
        let info = try ImageResizer.info(of: SourceBytes(encoded.bytes))
        #expect((info.width, info.height) == (c.width, c.height))
    }

    @Test func widthAloneKeepsATallImageTall() throws {
        let tall = try ImageResizer.resize(
            try Fixtures.bytes(Fixtures.photo), .init(width: 200, height: 400, fit: .cover), encode: .init(format: .png)
        )
        #expect((tall.width, tall.height) == (200, 400))
        let out = try ImageResizer.resize(SourceBytes(tall.bytes), .init(width: 100))
        #expect((out.width, out.height) == (100, 200))
    }

    /// Bars are red, green, blue, white from left to right, 64 px each.
    @Test(arguments: [(Gravity.west, [255, 0, 0]), (.east, [255, 255, 255]), (.centre, [0, 255, 0])])
    func coverKeepsTheSideGravityNames(_ gravity: Gravity, _ colour: [Int]) throws {
        let (_, pixels) = try resized("colour/bars.png", .init(width: 48, height: 64, fit: .cover, gravity: gravity))
        #expect((pixels.width, pixels.height) == (48, 64))
        // Centre of a 256-wide strip cut to 48 spans x 104…152: mostly green then blue; sample left of middle.
        let x = gravity == .centre ? 10 : 24
        for (got, want) in zip(pixels.pixel(x, 32), colour) { #expect(abs(got - want) <= 3) }
    }

    @Test func containPadsWithTheBackground() throws {
        let (_, pixels) = try resized(
            Fixtures.photo, .init(width: 300, height: 300, fit: .contain, background: .black),
            encode: .init(format: .png))
        #expect((pixels.width, pixels.height) == (300, 300))
        #expect(pixels.pixel(150, 2) == [0, 0, 0])  // padding above the 300×200 picture
        #expect(pixels.pixel(150, 297) == [0, 0, 0])
        #expect(pixels.pixel(150, 150) != [0, 0, 0])
    }

    @Test func containKeepsPaddingTransparentWhenTheImageHasAlpha() throws {
        let (_, pixels) = try resized("colour/bars-alpha.png", .init(width: 256, height: 256, fit: .contain))
        #expect(pixels.bands == 4)
        #expect(pixels[128, 4, 3] == 0)
        #expect(pixels.pixel(10, 128) == [255, 0, 0, 255])
    }

    @Test(arguments: [
        ResizeOptions(), ResizeOptions(width: 0), ResizeOptions(height: -1), ResizeOptions(width: 200_000),
    ])
    func invalidGeometryIsRefused(_ options: ResizeOptions) throws {
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(try Fixtures.bytes(Fixtures.photo), options)
        }
        #expect(error?.code == .invalidOptions)
    }
}
