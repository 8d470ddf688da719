import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import Testing

@Suite struct DeriveCommandTests {
    @Test func derivesEveryImageInADirectoryAndReportsTheBadOnes() throws {
        let out = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try CLI.run([
            "derive", CLI.fixtures + "/bad", CLI.fixtures + "/photos/storm.jpg", "--out", out, "--json",
        ])
        #expect(result.status == 65, "\(result.stderr)")
        // libjxl's own failure trace for bad/bomb.jxl ("./lib/jxl/decode.cc:…") stays off stderr,
        // while other inputs decode beside it.
        #expect(!result.stderr.contains("lib/jxl"), "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        // bad/ holds five files that look like images (three bombs, two truncated JPEGs); the
        // empty, random, text and SVG files are not image files and are not picked up.
        #expect(report["inputs"] as? Int == 6)
        #expect(report["failed"] as? Int == 5)
        #expect(report["derivatives"] as? Int == 10)
        let results = try #require(report["results"] as? [[String: Any]])
        let storm = try #require(results.first { ($0["path"] as? String)?.hasSuffix("storm.jpg") == true })
        #expect(storm["ok"] as? Bool == true && storm["manifest"] as? String == "derived/storm/manifest.json")
        let bomb = try #require(results.first { ($0["path"] as? String)?.hasSuffix("bomb.png") == true })
        #expect((bomb["error"] as? String)?.contains("over the pixel limit") == true)
        #expect(bomb["errorCode"] as? String == "overLimit")

        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(out)/derived/storm/manifest.json")))
        #expect(manifest.derivatives.count == 10)
        for d in manifest.derivatives {
            let bytes = try SourceBytes.read(path: "\(out)/\(d.key)", maxBytes: 10 << 20)
            let info = try ImageResizer.info(of: bytes)
            #expect(info.format.rawValue == d.format.rawValue && info.width == d.width && bytes.count == d.bytes)
        }
        // Nothing was written for the failed inputs, and no temporary files remain.
        #expect(CLI.files(in: "\(out)/derived") == ["storm"])
        let all = FileManager.default.enumerator(atPath: out)?.allObjects as? [String] ?? []
        #expect(!all.contains { $0.hasSuffix(".tmp") })
    }

    @Test func plainLinesWhenNotATerminalAndASummaryTable() throws {
        let out = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try CLI.run(["derive", CLI.fixtures + "/orientation", "--out", out, "--jobs", "2", "--prefix", ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 8)
        // 480 px wide upright: w640, w1280 and w2048 are one image, stored once per format
        // (w320 and w640 in JPEG and WebP, w1280's AVIF), the manifest listing all ten.
        #expect(result.stderr.contains("ok   \(CLI.fixtures)/orientation/orientation-6.jpg → 5 files"))
        #expect(result.stdoutText.contains("inputs       8 (8 ok, 0 failed)"))
        #expect(result.stdoutText.contains("derivatives  40"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/orientation-6/w320.webp"))
    }

    @Test func aConfigFileChoosesTheDerivatives() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"""
        {"derivatives": [{"name": "thumb", "width": 64, "height": 64, "fit": "cover", "formats": ["png"],
                          "steps": [{"op": "watermark", "image": "logo.png", "opacity": 1, "margin": 0}]}],
         "output": {"prefix": "", "key": "{stem}-{name}.{ext}", "manifestKey": "{stem}.json"}}
        """#.write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: CLI.fixtures + "/colour/bars-alpha.png", toPath: "\(dir)/logo.png")
        let result = try CLI.run([
            "derive", CLI.fixtures + "/photos/storm.jpg", "--config", "\(dir)/config.json", "--out", "\(dir)/out",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(CLI.files(in: "\(dir)/out") == [".imgfn-attributes", "storm-thumb.png", "storm.json"])
    }

    @Test func anInvalidConfigExits78NamingThePath() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"{"derivatives": [{"name": "a", "width": 0, "formats": ["jpeg"]}]}"#.write(
            toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "derive", CLI.fixtures + "/photos/storm.jpg", "--config", "\(dir)/bad.json", "--out", "\(dir)/out",
        ])
        #expect(result.status == 78)
        #expect(result.stderr == "imgfn: \(dir)/bad.json: derivatives[0].width: must be 1…16384, got 0\n")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out"))
    }

    @Test func aMissingInputExits66() throws {
        let result = try CLI.run(["derive", "/nonexistent/photo.jpg", "--out", "/tmp/unused"])
        #expect(result.status == 66)
        #expect(result.stderr.hasPrefix("imgfn: /nonexistent/photo.jpg: cannot open"))
    }
}
