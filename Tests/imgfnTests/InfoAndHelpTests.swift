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
}
