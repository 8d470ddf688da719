import Foundation
import Testing

@Suite struct InfoAndHelpTests {
    /// `--version` names the libvips this binary runs with (which build, so which codecs) and
    /// what it can read and write, found in that libvips rather than assumed.
    @Test func versionNamesTheLibvipsAndItsCodecs() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.first?.hasPrefix("imgfn ") == true)
        let libvips = try #require(lines.first { $0.hasPrefix("libvips ") })
        #expect(
            libvips.range(of: #"^libvips \d+\.\d+\.\d+ \(/.*libvips[^/]*\.so[^/]*\)$"#, options: .regularExpression)
                != nil, "\(libvips)")
        // `make test` says which libvips the build must have linked (the one every build uses).
        if let expected = ProcessInfo.processInfo.environment["IMGFN_EXPECT_LIBVIPS"] {
            #expect(libvips.hasPrefix("libvips \(expected) ("), "\(libvips), expected \(expected)")
        }
        let reads = try #require(lines.first { $0.hasPrefix("reads:  ") })
        #expect(
            reads.range(
                of:
                    #"^reads:  JPEG, PNG, WebP, GIF, TIFF, HEIC \(/.*libheif\.so[^/]*\), AVIF, JPEG XL \(/.*libjxl\.so[^/]*\)$"#,
                options: .regularExpression) != nil, "\(reads)")
        #expect(lines.contains("writes: JPEG, PNG, WebP, AVIF"), "\(lines)")
    }

    @Test func infoPrintsTheHeader() throws {
        let result = try CLI.run(["info", CLI.fixtures + "/orientation/orientation-6.jpg"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.contains("format       jpeg"))
        #expect(result.stdoutText.contains("size         320×480"))
        #expect(result.stdoutText.contains("upright      480×320 (orientation 6)"))
    }

    @Test func infoJSONIsMachineReadable() throws {
        let result = try CLI.run(["info", "--json", CLI.fixtures + "/formats/animated.gif"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        #expect(json["format"] as? String == "gif")
        #expect(json["frames"] as? Int == 3)
        #expect(json["width"] as? Int == 96)
        #expect(json["bytes"] as? Int == 372)
    }

    @Test func infoOfStandardInput() throws {
        let result = try CLI.run(["info", "-", "--json"], stdinPath: CLI.fixtures + "/colour/bars-p3.jpg")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        #expect(json["hasICCProfile"] as? Bool == true)
    }

    @Test func helpDocumentsCommandsAndExitCodes() throws {
        let root = try CLI.run(["--help"])
        #expect(root.status == 0)
        for text in ["resize", "info", "EXIT CODES", "64", "65", "66", "73"] {
            #expect(root.stdoutText.contains(text), "missing \(text)")
        }
        let resize = try CLI.run(["resize", "--help"])
        #expect(resize.status == 0)
        for text in [
            "--width", "--fit", "inside, cover, fill, contain", "--gravity", "--enlarge", "-o, --output", "EXIT CODES",
        ] {
            #expect(resize.stdoutText.contains(text), "missing \(text)")
        }
    }

    /// `invoke` and `backfill` live in imgfn-service, so that the image commands do not link the
    /// S3 client: imgfn lists them and hands them over, help included; without imgfn-service
    /// beside it, they exit 69 naming it.
    @Test func serviceCommandsAreHandedToImgfnService() throws {
        let root = try CLI.run(["--help"])
        #expect(root.stdoutText.contains("invoke") && root.stdoutText.contains("backfill"))
        let invoke = try CLI.run(["invoke", "--help"])
        #expect(invoke.status == 0)
        #expect(invoke.stdoutText.contains("--event") && invoke.stdoutText.contains("--store"), "\(invoke.stdoutText)")
        let backfill = try CLI.run(["backfill", "--help"])
        #expect(backfill.status == 0 && backfill.stdoutText.contains("--dry-run"))

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: CLI.executable, toPath: dir + "/imgfn")
        let alone = try CLI.run(["invoke", "--event", "-", "--store", dir], executable: dir + "/imgfn")
        #expect(alone.status == 69)
        #expect(alone.stderr.contains(dir + "/imgfn-service"), "\(alone.stderr)")
        #expect(try CLI.run(["info", CLI.fixtures + "/photos/storm.jpg"], executable: dir + "/imgfn").status == 0)
    }
}
