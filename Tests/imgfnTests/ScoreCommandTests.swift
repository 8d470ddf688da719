import Foundation
import ImagePipeline
import ImgfnBase
import Testing

/// `imgfn score` and `imgfn resize --target`, through the binary.
@Suite struct ScoreCommandTests {
    let photo = CLI.fixtures + "/photos/storm.jpg"

    /// A file made with --target reports its quality and score, and `imgfn score` (against the
    /// float-resized source, a slightly different reference) puts it near that score; a worse
    /// file scores lower; a file that is not an image is exit 65.
    @Test func resizeToATargetThenScoreIt() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try CLI.run(["resize", photo, "--width", "640", "--target", "80", "-o", dir + "/t.jpg"])
        #expect(made.status == 0, "\(made.stderr)")
        let report = try #require(made.stderr.split(separator: "\n").first { $0.contains("SSIMULACRA2") })
        let reported = try #require(Double(report.split(separator: " ").last ?? ""))
        #expect(reported >= 80)
        let low = try CLI.run(["resize", photo, "--width", "640", "--quality", "20", "-o", dir + "/low.jpg"])
        #expect(low.status == 0, "\(low.stderr)")

        let scored = try CLI.run(["score", photo, dir + "/t.jpg", dir + "/low.jpg", "--json"])
        #expect(scored.status == 0, "\(scored.stderr)")
        struct Row: Decodable {
            let file: String
            let ssimulacra2: Double
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(scored.stdoutText.utf8))
        #expect(rows.map(\.file) == [dir + "/t.jpg", dir + "/low.jpg"])
        #expect(abs(rows[0].ssimulacra2 - reported) < 5, "\(rows[0].ssimulacra2) vs \(reported)")
        #expect(rows[1].ssimulacra2 < rows[0].ssimulacra2 - 15)

        let bad = try CLI.run(["score", photo, CLI.fixtures + "/bad/text.jpg"])
        #expect(bad.status == 65)
        #expect(bad.stderr.hasPrefix("imgfn: "))
        #expect(try CLI.run(["resize", photo, "-w", "64", "-q", "50", "--target", "70"]).status == 64)
    }
}
