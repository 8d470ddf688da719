import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

/// SSIMULACRA2 against the reference implementation and its expected behaviour.
@Suite struct QualityScoreTests {
    func decoded(_ fixture: String) throws -> VipsImage { try VipsImage.decode(try Fixtures.bytes(fixture)) }

    /// The pairs in Fixtures/quality, scored by the PyPI `ssimulacra2` package 0.3.0 (float64;
    /// Fixtures/README.md): ours computes in float32, so it may differ in the second decimal.
    @Test(arguments: [("quality/jpeg-q35.png", 57.487382378787885), ("quality/blurred.png", 71.77038628203103)])
    func agreesWithTheReferenceImplementation(_ fixture: String, _ expected: Double) throws {
        let score = try Ssimulacra2.score(reference: decoded("quality/reference.png"), distorted: decoded(fixture))
        #expect(abs(score - expected) < 0.05, "\(fixture): \(score), reference implementation \(expected)")
    }

    @Test func anImageScoresOneHundredAgainstItself() throws {
        let image = try decoded("quality/reference.png")
        #expect(try Ssimulacra2.score(reference: image, distorted: image) == 100)
    }

    /// Lower JPEG quality, lower score; and the scores fall in the metric's documented bands.
    @Test func scoresFallWithJPEGQuality() throws {
        let source = try Fixtures.bytes(Fixtures.photo)
        var scores: [Double] = []
        for quality in [20, 50, 80, 95] {
            let jpeg = try ImageResizer.resize(
                source, .init(width: 640), encode: .init(format: .jpeg, quality: quality))
            scores += try QualityScore.scores(of: [SourceBytes(jpeg.bytes)], against: source).map { try $0.get() }
        }
        #expect(scores == scores.sorted() && Set(scores).count == 4, "\(scores)")
        #expect(scores[0] < 60 && scores[3] > 85, "\(scores)")
    }

    /// 1920×1280 at 320 wide is 213.33 rows: libvips keeps one scale and rounds the height
    /// (the content ends a third of a row early), Pillow and a forced fit stretch it to 213.
    /// Both are faithful resizes and score alike (each against the reference in its own
    /// alignment); scored only against the stretched reference the first lost ~9 points.
    @Test func bothResizeAlignmentsScoreAlike() throws {
        let source = try Fixtures.bytes(Fixtures.photo)
        let png = EncodeOptions(format: .png)
        let uniform = try ImageResizer.resize(source, .init(width: 320), encode: png)
        let stretched = try ImageResizer.resize(source, .init(width: 320, height: 213, fit: .fill), encode: png)
        #expect(uniform.width == 320 && uniform.height == 213 && stretched.height == 213)
        let scores = try QualityScore.scores(
            of: [SourceBytes(uniform.bytes), SourceBytes(stretched.bytes)], against: source
        ).map { try $0.get() }
        #expect(scores.allSatisfy { $0 > 92 } && abs(scores[0] - scores[1]) < 2, "\(scores)")
    }

    /// With alpha, both images are blended onto a dark and a light grey: a change only in
    /// transparency still costs points.
    @Test func transparencyCounts() throws {
        let opaque = try decoded("colour/bars-alpha.png").flattened(onto: .white).withAlpha()
        let original = try decoded("colour/bars-alpha.png")
        #expect(original.hasAlpha && opaque.hasAlpha)
        #expect(try Ssimulacra2.score(reference: original, distorted: original) == 100)
        #expect(try Ssimulacra2.score(reference: original, distorted: opaque) < 90)
    }

    @Test func imagesOfDifferentSizesAreRefused() throws {
        let image = try decoded("quality/reference.png")
        let smaller = try image.resized(scale: 0.5)
        #expect(throws: ImgfnError.self) { try Ssimulacra2.score(reference: image, distorted: smaller) }
    }
}
