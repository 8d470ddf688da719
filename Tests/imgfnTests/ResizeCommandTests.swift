import Foundation
import ImagePipeline
import ImgfnBase
import Testing

@Suite struct ResizeCommandTests {
    let photo = CLI.fixtures + "/photos/storm.jpg"

    @Test func writesBesideTheInputAndPrintsThePath() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: photo, toPath: dir + "/storm.jpg")
        let result = try CLI.run(["resize", dir + "/storm.jpg", "--width", "320"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == dir + "/storm-320w.jpg\n")
        let info = try ImageResizer.info(of: SourceBytes.read(path: dir + "/storm-320w.jpg", maxBytes: 1 << 20))
        #expect((info.format, info.width, info.height) == (.jpeg, 320, 213))
        #expect(CLI.files(in: dir) == ["storm-320w.jpg", "storm.jpg"])
    }

    @Test func heightOnlyNamesTheFileByHeight() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try CLI.run(["resize", photo, "--height", "100", "-o", dir])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(CLI.files(in: dir) == ["storm-100h.jpg"])
    }

    @Test(arguments: [("out.webp", ImageFormat.webp), ("out.png", .png), ("out.avif", .avif), ("out.jpeg", .jpeg)])
    func outputExtensionChoosesTheFormat(_ name: String, _ format: ImageFormat) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try CLI.run(["resize", photo, "-w", "120", "-o", "\(dir)/\(name)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try ImageResizer.info(of: SourceBytes.read(path: "\(dir)/\(name)", maxBytes: 1 << 20)).format == format)
    }

    @Test func formatOptionWinsOverTheExtension() throws {
        let result = try CLI.run(["resize", photo, "-w", "64", "--format", "png", "-o", "-"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try ImageResizer.info(of: SourceBytes(result.stdout)).format == .png)
    }

    @Test func readsStandardInputAndWritesStandardOutput() throws {
        let result = try CLI.run(
            ["resize", "-", "-w", "100", "--fit", "cover", "--height", "100", "-o", "-"], stdinPath: photo)
        #expect(result.status == 0, "\(result.stderr)")
        let info = try ImageResizer.info(of: SourceBytes(result.stdout))
        #expect((info.format, info.width, info.height) == (.jpeg, 100, 100))
        #expect(result.stderr.isEmpty)
    }

    @Test func standardInputNeedsAnOutput() throws {
        let result = try CLI.run(["resize", "-", "-w", "100"], stdinPath: photo)
        #expect(result.status == 64)
        #expect(result.stderr.contains("give -o FILE"))
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        let fixture: String, status: Int32, reason: String
        var testDescription: String { "\(fixture) → \(status)" }
    }

    @Test(arguments: [
        BadInput(fixture: "bad/empty.jpg", status: 65, reason: "input is empty"),
        BadInput(fixture: "bad/truncated.jpg", status: 65, reason: "truncated JPEG"),
        BadInput(fixture: "bad/truncated-progressive.jpg", status: 65, reason: "truncated JPEG"),
        BadInput(fixture: "bad/random.jpg", status: 65, reason: "not a supported image"),
        BadInput(fixture: "bad/text.jpg", status: 65, reason: "not a supported image (text)"),
        BadInput(fixture: "bad/vector.jpg", status: 65, reason: "not a supported image (SVG)"),
        BadInput(fixture: "bad/bomb.jpg", status: 65, reason: "over the pixel limit"),
        BadInput(fixture: "bad/bomb.png", status: 65, reason: "over the pixel limit"),
        BadInput(fixture: "bad/does-not-exist.jpg", status: 66, reason: "cannot open: No such file or directory"),
        BadInput(fixture: "bad", status: 66, reason: "is a directory"),
    ])
    func badInputGivesItsExitCodeAOneLineReasonAndNoOutput(_ bad: BadInput) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = "\(CLI.fixtures)/\(bad.fixture)"
        let result = try CLI.run(["resize", input, "-w", "100", "-o", dir + "/out.jpg"])
        #expect(result.status == bad.status)
        #expect(result.stderr.hasPrefix("imgfn: \(input): "), "\(result.stderr)")
        #expect(result.stderr.contains(bad.reason), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(CLI.files(in: dir).isEmpty)
    }

    /// A 30000×30000 header must be refused from the header: decoding it would need 2.7 GB.
    @Test(arguments: ["bad/bomb.jpg", "bad/bomb.png"])
    func pixelBombIsRefusedWithSmallPeakMemory(_ fixture: String) throws {
        let result = try CLI.peakMemory(["resize", "\(CLI.fixtures)/\(fixture)", "-w", "100", "-o", "-"])
        #expect(result.status == 65)
        #expect(result.maxRSSKiB > 0 && result.maxRSSKiB < 100 * 1024, "peak RSS \(result.maxRSSKiB) KiB")
        // Guards the check: decoding a real photo of 2.5 MP whole does show up in the figure.
        let decoded = try CLI.peakMemory(["resize", photo, "-w", "1920", "--format", "png", "-o", "-"])
        #expect(decoded.status == 0 && decoded.maxRSSKiB > result.maxRSSKiB, "\(decoded.maxRSSKiB) KiB")
    }

    @Test func unwritableOutputExits73AndLeavesNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try CLI.run(["resize", photo, "-w", "100", "-o", dir + "/missing/out.jpg"])
        #expect(result.status == 73)
        #expect(result.stderr.hasPrefix("imgfn: \(dir)/missing/out.jpg: cannot create"), "\(result.stderr)")
        #expect(CLI.files(in: dir).isEmpty)
    }

    @Test(arguments: [
        ["resize", "x.jpg"], ["resize", "x.jpg", "-w", "0"], ["resize", "x.jpg", "-w", "10", "--fit", "squash"],
        ["resize", "x.jpg", "-w", "10", "--quality", "101"], ["resize", "x.jpg", "-w", "10", "--format", "bmp"],
        ["resize", "x.jpg", "-w", "10", "--background", "mauve"], ["frobnicate"],
    ])
    func usageErrorsExit64(_ arguments: [String]) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(!result.stderr.isEmpty)
    }

    @Test func limitsCanBeSetOnTheCommandLine() throws {
        let result = try CLI.run(["resize", photo, "-w", "100", "-o", "-", "--max-pixels", "1000000"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("over the pixel limit of 1 MP"), "\(result.stderr)")
    }
}
