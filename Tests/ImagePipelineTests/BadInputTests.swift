import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

@Suite struct BadInputTests {
    @Test(arguments: [
        ("bad/empty.jpg", ImgfnError.Code.emptyInput, "empty"),
        ("bad/random.jpg", .unsupportedFormat, "not a supported image (unrecognised data)"),
        ("bad/text.jpg", .unsupportedFormat, "not a supported image (text)"),
        ("bad/vector.jpg", .unsupportedFormat, "not a supported image (SVG)"),
        ("bad/truncated.jpg", .corruptImage, "truncated JPEG"),
        ("bad/truncated-progressive.jpg", .corruptImage, "truncated JPEG"),
        ("bad/bomb.jpg", .overLimit, "30000×30000 (900 MP), over the pixel limit of 100 MP"),
        ("bad/bomb.png", .overLimit, "30000×30000 (900 MP), over the pixel limit of 100 MP"),
        ("bad/bomb.jxl", .overLimit, "30000×30000 (900 MP), over the pixel limit of 100 MP"),
    ])
    func badInputFailsWithItsReason(_ fixture: String, _ code: ImgfnError.Code, _ reason: String) throws {
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(try Fixtures.bytes(fixture), .init(width: 100))
        }
        #expect(error?.code == code)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
        #expect(error?.code.isInputFault == true)
    }

    @Test func pixelLimitIsConfigurable() throws {
        let limits = DecodeLimits(maxPixels: 2_000_000)  // the photo is 2.46 MP
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.info(of: try Fixtures.bytes(Fixtures.photo), limits: limits)
        }
        #expect(error?.code == .overLimit)
        #expect(
            try ImageResizer.info(of: try Fixtures.bytes(Fixtures.photo), limits: .init(maxPixels: 2_500_000)).width
                == 1920)
    }

    /// Every decoder (libvips' loaders, CHeif, CJxl) reports the header's size, and the limit
    /// refuses one pixel over it.
    @Test(arguments: [
        "formats/photo.webp", "formats/photo.avif", "formats/photo.heic", "formats/photo.jxl",
        "formats/recompressed.jxl", "formats/photo.tif", "colour/bars.png",
    ])
    func pixelLimitHoldsForEveryFormat(_ fixture: String) throws {
        let bytes = try Fixtures.bytes(fixture)
        let info = try ImageResizer.info(of: bytes)
        let limits = DecodeLimits(maxPixels: info.width * info.height - 1)
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(bytes, .init(width: 64), limits: limits)
        }
        #expect(error?.code == .overLimit, "\(fixture): \(error?.message ?? "")")
        #expect(error?.message.contains("over the pixel limit") == true, "\(fixture): \(error?.message ?? "")")
        #expect(
            try ImageResizer.resize(bytes, .init(width: 64), limits: .init(maxPixels: info.width * info.height))
                .bytes.count > 0)
    }

    @Test func byteLimitIsCheckedBeforeReading() throws {
        let error = #expect(throws: ImgfnError.self) {
            try SourceBytes.read(path: Fixtures.path(Fixtures.photo), maxBytes: 100_000)
        }
        #expect(error?.code == .overLimit)
        #expect(error?.message.contains("695070 bytes, over the byte limit of 100000") == true)
    }

    @Test func frameLimitIsChecked() throws {
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.info(of: try Fixtures.bytes("formats/animated.gif"), limits: .init(maxFrames: 2))
        }
        #expect(error?.code == .overLimit)
        #expect(error?.message.contains("3 frames") == true)
    }

    @Test func missingFileIsUnreadable() throws {
        let error = #expect(throws: ImgfnError.self) {
            try SourceBytes.read(path: Fixtures.path("no/such/file.jpg"), maxBytes: 1000)
        }
        #expect(error?.code == .inputUnreadable)
        #expect(error?.code.isInputFault == false)
    }
}
