import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

@Suite struct FormatTests {
    @Test(arguments: [
        ("photos/storm.jpg", ImageFormat.jpeg), ("formats/progressive.jpg", .jpeg), ("colour/bars.png", .png),
        ("formats/photo.webp", .webp), ("formats/animated.gif", .gif), ("formats/photo.tif", .tiff),
        ("formats/photo.heic", .heic), ("formats/photo.avif", .avif), ("formats/photo.jxl", .jxl),
        ("formats/recompressed.jxl", .jxl),
    ])
    func formatIsSniffedFromTheBytes(_ fixture: String, _ format: ImageFormat) throws {
        let bytes = try Fixtures.bytes(fixture)
        #expect(bytes.withUnsafeBytes(ImageFormat.sniff) == format)
        let info = try ImageResizer.info(of: bytes)
        #expect(info.format == format)
        #expect(info.width > 0 && info.height > 0)
    }

    @Test(arguments: [
        ("photos/storm.jpg", OutputFormat.jpeg), ("colour/bars.png", .png), ("formats/photo.webp", .webp),
        ("formats/photo.avif", .avif), ("formats/animated.gif", .jpeg), ("formats/photo.tif", .jpeg),
        ("formats/photo.heic", .jpeg), ("formats/photo.jxl", .jpeg),
    ])
    func outputDefaultsToTheInputFormatWhenWritable(_ fixture: String, _ expected: OutputFormat) throws {
        let encoded = try ImageResizer.resize(try Fixtures.bytes(fixture), .init(width: 64))
        #expect(encoded.format == expected)
        #expect(try ImageResizer.info(of: SourceBytes(encoded.bytes)).format.rawValue == expected.rawValue)
    }

    @Test(arguments: OutputFormat.allCases)
    func everyOutputFormatEncodes(_ format: OutputFormat) throws {
        let encoded = try ImageResizer.resize(
            try Fixtures.bytes(Fixtures.photo), .init(width: 200), encode: .init(format: format, quality: 70, effort: 2)
        )
        let info = try ImageResizer.info(of: SourceBytes(encoded.bytes))
        #expect(info.format.rawValue == format.rawValue)
        #expect((info.width, info.height) == (200, 133))
    }

    @Test func progressiveJPEGIsInterlaced() throws {
        let baseline = try ImageResizer.resize(try Fixtures.bytes(Fixtures.photo), .init(width: 400))
        let progressive = try ImageResizer.resize(
            try Fixtures.bytes(Fixtures.photo), .init(width: 400), encode: .init(progressive: true))
        #expect(try !ImageResizer.info(of: SourceBytes(baseline.bytes)).interlaced)
        #expect(try ImageResizer.info(of: SourceBytes(progressive.bytes)).interlaced)
    }

    @Test func higherQualityMakesLargerFiles() throws {
        let low = try ImageResizer.resize(
            try Fixtures.bytes(Fixtures.photo), .init(width: 400), encode: .init(quality: 30))
        let high = try ImageResizer.resize(
            try Fixtures.bytes(Fixtures.photo), .init(width: 400), encode: .init(quality: 95))
        #expect(low.bytes.count < high.bytes.count)
    }

    @Test func animatedGIFDecodesItsFirstFrame() throws {
        let info = try ImageResizer.info(of: try Fixtures.bytes("formats/animated.gif"))
        #expect(info.frames == 3)
        #expect((info.width, info.height) == (96, 64))
        let (_, pixels) = try resized("formats/animated.gif", .init(width: 48), encode: .init(format: .png))
        #expect(pixels.height == 32)
        let first = pixels.pixel(24, 16)
        #expect(first[0] > 240 && first[1] < 16 && first[2] < 16, "\(first)")  // frame 1 is red
    }

    @Test(arguments: [
        EncodeOptions(quality: 0), EncodeOptions(quality: 101), EncodeOptions(format: .webp, effort: 7),
        EncodeOptions(format: .avif, effort: 10),
    ])
    func invalidEncodeOptionsAreRefused(_ encode: EncodeOptions) throws {
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(try Fixtures.bytes(Fixtures.photo), .init(width: 10), encode: encode)
        }
        #expect(error?.code == .invalidOptions)
    }
}
