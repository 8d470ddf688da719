import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

/// `"quality": {"target": S}` / `"auto"`: the lowest quality reaching the score, and that score.
@Suite struct QualitySearchTests {
    static let source = try! Fixtures.bytes(Fixtures.photo)

    func encode(_ format: OutputFormat, target: Double, width: Int = 640) throws -> EncodedImage {
        try ImageResizer.resize(Self.source, .init(width: width), encode: .init(format: format, target: target))
    }

    /// The recorded score is the file's true score against the pixels it was encoded from
    /// (the same resize, written losslessly), and it meets the target.
    @Test(arguments: [OutputFormat.jpeg, .webp, .avif])
    func theChosenFileMeetsItsTargetAndSaysSo(_ format: OutputFormat) throws {
        let file = try encode(format, target: 80)
        let score = try #require(file.score)
        let quality = try #require(file.chosenQuality)
        #expect(score >= 80, "\(format): \(score) at quality \(quality)")
        #expect((20...95).contains(quality))
        let reference = try VipsImage.decode(
            SourceBytes(try ImageResizer.resize(Self.source, .init(width: 640), encode: .init(format: .png)).bytes))
        let distorted = try VipsImage.decode(SourceBytes(file.bytes))
        #expect(abs(try Ssimulacra2.score(reference: reference, distorted: distorted) - score) < 1e-9)
    }

    /// A lower target costs fewer bytes and a lower quality; the search is deterministic.
    @Test func aLowerTargetIsSmallerAndTheSearchIsDeterministic() throws {
        let high = try encode(.jpeg, target: 85)
        let low = try encode(.jpeg, target: 60)
        #expect(try #require(low.chosenQuality) < #require(high.chosenQuality))
        #expect(low.bytes.count < high.bytes.count)
        #expect(try encode(.jpeg, target: 60).bytes == low.bytes)
    }

    /// The lowest quality that meets the target: one step down misses it.
    @Test func oneQualityLessWouldMissTheTarget() throws {
        let file = try encode(.webp, target: 75)
        let quality = try #require(file.chosenQuality)
        try #require(quality > 20, "the photo at 640 px needs more than quality 20 for 75")
        let below = try ImageResizer.resize(
            Self.source, .init(width: 640), encode: .init(format: .webp, quality: quality - 1))
        let reference = try VipsImage.decode(
            SourceBytes(try ImageResizer.resize(Self.source, .init(width: 640), encode: .init(format: .png)).bytes))
        #expect(try Ssimulacra2.score(reference: reference, distorted: VipsImage.decode(SourceBytes(below.bytes))) < 75)
    }

    /// Under 8 px a side the metric measures nothing: the default quality, no score.
    @Test func aTinyImageIsNotSearched() throws {
        let tiny = try ImageResizer.resize(Self.source, .init(width: 6), encode: .init(format: .jpeg, target: 90))
        #expect(tiny.chosenQuality == nil && tiny.score == nil && !tiny.bytes.isEmpty)
    }

    @Test func configurationSpellings() throws {
        let auto = try Pipeline(
            json: Array(
                #"{"derivatives": [{"name": "a", "width": 64, "formats": ["jpeg"]}], "encode": {"jpeg": {"quality": "auto"}}}"#
                    .utf8))
        let options = auto.config.encodeOptions(for: auto.config.derivatives[0], format: .jpeg)
        #expect(options.target == EncodeOptions.autoTarget && options.quality == nil)
        let targeted = try Pipeline(
            json: Array(
                #"{"derivatives": [{"name": "a", "width": 64, "formats": ["webp"], "encode": {"webp": {"quality": {"target": 82.5}}}}]}"#
                    .utf8))
        #expect(targeted.config.encodeOptions(for: targeted.config.derivatives[0], format: .webp).target == 82.5)
        let error = #expect(throws: ImgfnError.self) {
            try Pipeline(
                json: Array(
                    #"{"derivatives": [{"name": "a", "width": 64, "formats": ["jpeg"]}], "encode": {"jpeg": {"quality": {"score": 80}}}}"#
                        .utf8))
        }
        #expect(error?.message.contains("encode.jpeg.quality: must be {\"target\"") == true, "\(error?.message ?? "")")
        #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(Self.source, .init(width: 64), encode: .init(format: .png, target: 80))
        }
        // A target on lossless WebP is refused when the configuration loads, not at the first upload.
        let lossless = #expect(throws: ImgfnError.self) {
            try Pipeline(
                json: Array(
                    #"{"derivatives": [{"name": "a", "width": 64, "formats": ["webp"], "encode": {"webp": {"lossless": true}}}], "encode": {"webp": {"quality": "auto"}}}"#
                        .utf8))
        }
        #expect(lossless?.code == .invalidConfig && lossless?.message.contains("derivatives[0].encode.webp") == true)
    }
}
