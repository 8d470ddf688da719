import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

/// The bars fixtures are red, green, blue and white patches, 64 px wide each; resized to 128
/// wide (32 high), the patch centres are at x = 16, 48, 80, 112, y = 16.
@Suite struct ColourTests {
    static let centres = (red: 16, green: 48, blue: 80, white: 112)

    func bars(_ fixture: String, encode: EncodeOptions = .init(format: .png), background: RGBColour = .white)
        throws -> (EncodedImage, PixelBuffer)
    {
        try resized(fixture, .init(width: 128, background: background), encode: encode)
    }

    func expectClose(_ got: [Int], _ want: [Int], within tolerance: Int, _ comment: Comment? = nil) {
        #expect(got.count == want.count, comment)
        for (g, w) in zip(got, want) { #expect(abs(g - w) <= tolerance, "\(got) vs \(want)") }
    }

    @Test func displayP3IsConvertedThroughItsProfile() throws {
        let info = try ImageResizer.info(of: try Fixtures.bytes("colour/bars-p3.jpg"))
        #expect(info.hasICCProfile)
        let (_, pixels) = try bars("colour/bars-p3.jpg")
        // The stored P3 values of sRGB red are about (234, 51, 35); through the profile they are red again.
        expectClose(pixels.pixel(Self.centres.red, 16), [255, 0, 0], within: 6)
        expectClose(pixels.pixel(Self.centres.green, 16), [0, 255, 0], within: 6)
        expectClose(pixels.pixel(Self.centres.blue, 16), [0, 0, 255], within: 6)
    }

    /// The HEIC and JPEG XL decoders (not libvips' loaders) hand over their profile and their
    /// deep samples: P3 bars come out sRGB red, green, blue; 10- and 16-bit bars come out at full
    /// range (white stays white, a wrong shift would darken them). A lossy (XYB) JPEG XL is
    /// rendered to sRGB by libjxl itself, so it needs no profile. HEVC subsamples chroma and
    /// lossy JPEG XL smears the bars' edges, so their tolerances are wider.
    @Test(arguments: [
        ("colour/bars-p3.heic", true, 8, 12), ("colour/bars-10bit.heic", false, 16, 12),
        ("colour/bars-p3.jxl", true, 8, 6), ("colour/bars-p3-lossy.jxl", false, 8, 24),
        ("colour/bars-16bit.jxl", false, 16, 1),
    ])
    func heicAndJPEGXLBarsComeOutSRGB(_ fixture: String, _ profiled: Bool, _ bitDepth: Int, _ tolerance: Int) throws {
        let info = try ImageResizer.info(of: try Fixtures.bytes(fixture))
        #expect(info.hasICCProfile == profiled, "\(fixture)")
        #expect(info.bitDepth == bitDepth, "\(fixture)")
        let (_, pixels) = try bars(fixture)
        expectClose(pixels.pixel(Self.centres.red, 16), [255, 0, 0], within: tolerance, "\(fixture)")
        expectClose(pixels.pixel(Self.centres.green, 16), [0, 255, 0], within: tolerance, "\(fixture)")
        expectClose(pixels.pixel(Self.centres.blue, 16), [0, 0, 255], within: tolerance, "\(fixture)")
        expectClose(pixels.pixel(Self.centres.white, 16), [255, 255, 255], within: tolerance, "\(fixture)")
    }

    @Test(arguments: ["colour/bars-cmyk.jpg", "colour/bars-cmyk-icc.jpg"])
    func cmykComesOutSRGB(_ fixture: String) throws {
        let info = try ImageResizer.info(of: try Fixtures.bytes(fixture))
        #expect(info.colourSpace == "cmyk" && info.bands == 4)
        let (encoded, pixels) = try bars(fixture, encode: .init(format: .jpeg))
        #expect(pixels.bands == 3)
        #expect(try ImageResizer.info(of: SourceBytes(encoded.bytes)).colourSpace == "srgb")
        // CMYK cannot hold sRGB's primaries exactly: each patch must still be clearly its colour.
        let red = pixels.pixel(Self.centres.red, 16)
        let blue = pixels.pixel(Self.centres.blue, 16)
        #expect(red[0] > 200 && red[1] < 80 && red[2] < 80, "\(red)")
        #expect(blue[2] > 120 && blue[0] < 80, "\(blue)")
        expectClose(pixels.pixel(Self.centres.white, 16), [255, 255, 255], within: 8)
    }

    @Test func sixteenBitBecomesEightBit() throws {
        let info = try ImageResizer.info(of: try Fixtures.bytes("colour/bars-16bit.png"))
        #expect(info.bitDepth == 16)
        let (encoded, pixels) = try bars("colour/bars-16bit.png")
        #expect(try ImageResizer.info(of: SourceBytes(encoded.bytes)).bitDepth == 8)
        expectClose(pixels.pixel(Self.centres.red, 16), [255, 0, 0], within: 1)
        expectClose(pixels.pixel(Self.centres.blue, 16), [0, 0, 255], within: 1)
    }

    @Test(arguments: [
        (RGBColour.white, [255, 255, 255]), (.black, [0, 0, 0]), (RGBColour(parsing: "#336699")!, [0x33, 0x66, 0x99]),
    ])
    func alphaIsFlattenedOntoTheBackgroundForJPEG(_ background: RGBColour, _ expected: [Int]) throws {
        let (encoded, pixels) = try bars("colour/bars-alpha.png", encode: .init(format: .jpeg), background: background)
        #expect(encoded.format == .jpeg && pixels.bands == 3)
        expectClose(pixels.pixel(Self.centres.red, 16), [255, 0, 0], within: 4)
        expectClose(pixels.pixel(Self.centres.blue, 16), expected, within: 4)  // transparent there
    }

    @Test(arguments: [OutputFormat.png, .webp])
    func alphaIsKeptWhereTheFormatHasIt(_ format: OutputFormat) throws {
        var encode = EncodeOptions(format: format)
        if format == .webp { encode.quality = 100 }
        let (_, pixels) = try bars("colour/bars-alpha.png", encode: encode)
        #expect(pixels.bands == 4)
        #expect(pixels[Self.centres.red, 16, 3] == 255)
        #expect(pixels[Self.centres.blue, 16, 3] == 0)
    }
}
