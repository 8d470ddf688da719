import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

/// The time budget lowers AVIF effort, then leaves AVIF out, and never touches the other formats.
@Suite struct EncodeBudgetTests {
    static let pipeline = try! Pipeline(
        json: Array(
            #"""
            {"derivatives": [{"name": "big", "width": 1920, "formats": ["jpeg", "avif"]},
                             {"name": "small", "width": 320, "formats": ["webp"]}],
             "encode": {"avif": {"effort": 6}}}
            """#.utf8))

    func derive(cpus: Double = 1, left: Duration?) throws -> DerivativeSet {
        let budget = left.map { left in EncodeBudget(cpus: cpus) { left } }
        return try Self.pipeline.derive(try Fixtures.bytes(Fixtures.photo), jobs: 2, budget: budget)
    }

    @Test func withoutABudgetTheConfiguredEffortIsUsed() throws {
        let set = try derive(left: nil)
        #expect(
            set.files.map { "\($0.name).\($0.image.format.fileExtension)" } == ["big.jpg", "big.avif", "small.webp"])
        #expect(set.files.allSatisfy { $0.loweredEffort == nil } && set.omitted.isEmpty)
    }

    /// 2.5 MP at effort 6 is estimated at ~6.6 s of one core; with a second left, the effort
    /// comes down to the highest that fits (3, ~0.8 s), and the file is still made.
    @Test func aTightBudgetLowersTheAVIFEffort() throws {
        let set = try derive(left: .seconds(1))
        let avif = try #require(set.files.first { $0.image.format == .avif })
        #expect(avif.loweredEffort == 3)
        #expect(avif.image.width == 1920 && !avif.image.bytes.isEmpty)
        #expect(set.files.filter { $0.image.format != .avif }.allSatisfy { $0.loweredEffort == nil })
        #expect(set.omitted.isEmpty)
        // More CPUs do not split one encode: effort 4 (~3 s of one core) does not fit a second
        // on eight of them either.
        #expect(try derive(cpus: 8, left: .seconds(1)).files.first { $0.image.format == .avif }?.loweredEffort == 3)
        // With ~3.5 s, effort 4 fits and 5 (~4.4 s) does not.
        #expect(try derive(left: .milliseconds(3500)).files.first { $0.image.format == .avif }?.loweredEffort == 4)
    }

    /// No time at all: AVIF is left out with the reason; JPEG and WebP are still made.
    @Test func noTimeLeavesAVIFOutAndKeepsTheRest() throws {
        let set = try derive(left: .milliseconds(1))
        #expect(set.files.map { "\($0.name).\($0.image.format.fileExtension)" } == ["big.jpg", "small.webp"])
        #expect(set.omitted.count == 1)
        #expect(set.omitted.first?.format == .avif && set.omitted.first?.name == "big")
        #expect(set.omitted.first?.reason.hasPrefix("left out to finish in time") == true)
    }
}
