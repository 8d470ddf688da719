import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

/// Every input through every path: each committed fixture and each realistic generated one
/// (`Fixtures/make-matrix-fixtures.py`: 12 MP sideways phone photos for every EXIF orientation,
/// baseline and progressive, a sideways TIFF, 50:1 panoramas, a large PNG with alpha, an
/// interlaced PNG, animated WebP and GIF; damaged data of every format, cut short or corrupt;
/// benign quirks of real files) goes through `imgfn resize`, `imgfn derive` with the default
/// set, the handler over the filesystem store, and `imgfn serve` over HTTP (the w320 preset).
/// All four must agree: the same upright size and 320-wide pixels that match an upright
/// reference, or the same one-line refusal (and then nothing written).
@Suite struct InputMatrixTests {
    struct Input: Sendable, CustomTestStringConvertible {
        /// Absolute path of the input.
        var path: String
        /// Upright width and height; nil when every path must refuse the input.
        var upright: (width: Int, height: Int)?
        /// How a 320-wide upright derivative must look: a picture of its own, or the same
        /// path's output for another input.
        var reference: Reference?
        var testDescription: String { String(path.split(separator: "/").suffix(2).joined(separator: "/")) }
    }

    enum Reference: Sendable {
        /// A 320-wide upright picture made by another decoder (the generator's Pillow).
        case picture(String)
        /// The upright fixture `orientation-1.jpg` through the same path.
        case uprightFixture
    }

    static let committed: [Input] = {
        let f = CLI.fixtures
        var inputs = [
            Input(path: "\(f)/photos/storm.jpg", upright: (1920, 1280)),
            Input(path: "\(f)/formats/progressive.jpg", upright: (1200, 800)),
            Input(path: "\(f)/formats/exif-gps.jpg", upright: (800, 533)),
            Input(path: "\(f)/formats/photo.webp", upright: (800, 533)),
            Input(path: "\(f)/formats/photo.avif", upright: (800, 533)),
            // Shown as stored: a HEIF file's EXIF orientation is informational (its irot/imir
            // turn it). Every path once turned it anyway, after reporting it as 320×480.
            Input(path: "\(f)/formats/exif-orientation.avif", upright: (320, 480)),
            Input(path: "\(f)/formats/photo.heic", upright: (400, 267)),
            Input(path: "\(f)/formats/photo.tif", upright: (320, 213)),
            Input(path: "\(f)/formats/photo.jxl", upright: (800, 533)),
            Input(path: "\(f)/formats/recompressed.jxl", upright: (1200, 800)),
            Input(path: "\(f)/formats/animated.gif", upright: (96, 64)),
        ]
        inputs += (1...8).map {
            Input(path: "\(f)/orientation/orientation-\($0).jpg", upright: (480, 320), reference: .uprightFixture)
        }
        inputs += [
            "bars.png", "bars-p3.jpg", "bars-cmyk.jpg", "bars-cmyk-icc.jpg", "bars-16bit.png", "bars-alpha.png",
            "bars-p3.heic", "bars-10bit.heic", "bars-p3.jxl", "bars-p3-lossy.jxl", "bars-16bit.jxl",
        ]
        .map {
            Input(path: "\(f)/colour/\($0)", upright: (256, 64))
        }
        inputs += [
            "empty.jpg", "truncated.jpg", "truncated-progressive.jpg", "random.jpg", "text.jpg", "vector.jpg",
            "bomb.jpg", "bomb.png", "bomb.jxl",
        ]
        .map { Input(path: "\(f)/bad/\($0)", upright: nil) }
        return inputs
    }()

    static let generatedDirectory = CLI.fixtures + "/large/matrix"

    /// The generated inputs, from the generator's `expected.json`; a single input that fails
    /// with instructions when they have not been generated (`make test` generates them).
    static let generated: [Input] = {
        struct Expected: Decodable {
            struct File: Decodable {
                var width: Int
                var height: Int
                var reference: String?
                /// Damaged data: every path must refuse it.
                var refuse: Bool?
            }
            var files: [String: File]
        }
        let dir = generatedDirectory
        guard let data = FileManager.default.contents(atPath: dir + "/expected.json"),
            let expected = try? JSONDecoder().decode(Expected.self, from: data)
        else { return [Input(path: dir + "/expected.json", upright: nil)] }
        return expected.files.keys.sorted().map { name in
            let file = expected.files[name]!
            return Input(
                path: "\(dir)/\(name)", upright: file.refuse == true ? nil : (file.width, file.height),
                reference: file.reference.map { .picture("\(dir)/\($0)") })
        }
    }()

    /// What one path made of an input.
    enum Outcome: Equatable, CustomStringConvertible {
        /// The upright source size and the 320-wide JPEG derivative's bytes.
        case made(width: Int, height: Int, w320: [UInt8])
        case refused(String)

        static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case (.made(let w1, let h1, _), .made(let w2, let h2, _)): (w1, h1) == (w2, h2)
            case (.refused(let r1), .refused(let r2)): r1 == r2
            default: false
            }
        }

        var description: String {
            switch self {
            case .made(let w, let h, let bytes): "made \(w)×\(h) (w320: \(bytes.count) bytes)"
            case .refused(let reason): "refused: \(reason)"
            }
        }
    }

    @Test(arguments: committed + generated)
    func everyPathAgrees(_ input: Input) async throws {
        guard FileManager.default.fileExists(atPath: input.path) else {
            Issue.record("missing \(input.path): run `make matrix-fixtures` (make test does) to generate the inputs")
            return
        }
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outcomes = [
            ("imgfn resize", try resize(input, scratch: scratch)),
            ("imgfn derive", try derive(input, scratch: scratch)),
            ("handler (imgfn invoke)", try handle(input, scratch: scratch)),
            ("HTTP (imgfn serve)", try request(input, scratch: scratch)),
        ]
        for (path, outcome) in outcomes.dropFirst() {
            #expect(outcome == outcomes[0].1, "\(path) disagrees with \(outcomes[0].0): \(outcome) vs \(outcomes[0].1)")
        }
        guard let upright = input.upright else {
            for (path, outcome) in outcomes {
                guard case .refused(let reason) = outcome else {
                    Issue.record("\(path) accepted a bad input: \(outcome)")
                    continue
                }
                #expect(!reason.isEmpty && !reason.contains("\n"), "\(path): \(reason)")
            }
            return
        }
        let expectedWidth = Swift.min(320, upright.width)
        let expectedHeight =
            upright.width <= 320
            ? upright.height : Int((Double(upright.height) * 320 / Double(upright.width)).rounded())
        let reference = try referencePixels(input)
        for (path, outcome) in outcomes {
            guard case .made(let width, let height, let w320) = outcome else {
                Issue.record("\(path) refused a good input: \(outcome)")
                continue
            }
            #expect((width, height) == upright, "\(path): upright size")
            let pixels = try PixelBuffer.decode(SourceBytes(w320))
            #expect(
                pixels.width == expectedWidth && abs(pixels.height - expectedHeight) <= 1,
                "\(path): w320 is \(pixels.width)×\(pixels.height)")
            if let reference {
                #expect(
                    (pixels.width, pixels.height) == (reference.width, reference.height),
                    "\(path): w320 size vs reference")
                if (pixels.width, pixels.height) == (reference.width, reference.height) {
                    // The references are far from symmetric (the generator checks that a missed
                    // flip or turn is > 12 away), JPEG and resampler differences stay near 3.
                    let difference = meanAbsoluteDifference(pixels, reference)
                    #expect(difference < 6, "\(path): w320 differs from the upright reference by \(difference)")
                }
            }
        }
    }

    // MARK: - The three paths

    func resize(_ input: Input, scratch: String) throws -> Outcome {
        let out = scratch + "/resized.jpg"
        let result = try CLI.run(["resize", input.path, "--width", "320", "--format", "jpeg", "-o", out])
        guard result.status == 0 else {
            #expect(!FileManager.default.fileExists(atPath: out), "resize left an output for a refused input")
            #expect(result.status == 65, "resize exit status \(result.status): \(result.stderr)")
            // One line, ours: no decoder library's own trace before it (libjxl prints one).
            #expect(result.stderr.split(separator: "\n").count == 1, "resize's error is not one line: \(result.stderr)")
            let prefix = "imgfn: \(input.path): "
            let line = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            return .refused(line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : line)
        }
        let info = try CLI.run(["info", input.path, "--json"])
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(info.stdout)) as? [String: Any], "\(info.stderr)")
        let width = try #require(json["orientedWidth"] as? Int)
        let height = try #require(json["orientedHeight"] as? Int)
        return .made(width: width, height: height, w320: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
    }

    func derive(_ input: Input, scratch: String) throws -> Outcome {
        let out = scratch + "/derive"
        let result = try CLI.run(["derive", input.path, "--out", out, "--json"])
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any], "\(result.stderr)")
        let entry = try #require((report["results"] as? [[String: Any]])?.first)
        guard entry["ok"] as? Bool == true else {
            #expect(CLI.files(in: out + "/derived").isEmpty, "derive wrote files for a refused input")
            #expect(result.status == 65, "derive exit status \(result.status)")
            return .refused(entry["error"] as? String ?? "")
        }
        #expect(result.status == 0, "\(result.stderr)")
        let manifestKey = try #require(entry["manifest"] as? String)
        return try made(from: out, manifestKey: manifestKey)
    }

    func handle(_ input: Input, scratch: String) throws -> Outcome {
        let bucket = scratch + "/bucket"
        let name = String(input.path.split(separator: "/").last!)
        let key = "uploads/\(name)"
        try FileManager.default.createDirectory(atPath: bucket + "/uploads", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: input.path, toPath: "\(bucket)/\(key)")
        let size = try FileManager.default.attributesOfItem(atPath: input.path)[.size] as? Int ?? 0
        // The handler runs in its own process (`imgfn invoke`, the function's handler on the
        // filesystem store), as it does in the function: libvips' error buffer is process-wide,
        // so in this test process a concurrent test's failure could reach this reason.
        let eventPath = scratch + "/event.json"
        try EventSamples.make(.s3Put, bucket: "photos", key: key, size: size)
            .write(toFile: eventPath, atomically: true, encoding: .utf8)
        let run = try CLI.run(["invoke", "--event", eventPath, "--store", bucket, "--json"])
        let results = try JSONDecoder().decode([RecordResult].self, from: Data(run.stdout))
        switch try #require(results.first, "\(run.stderr)").outcome {
        case .ok(_, let manifestKey, _, _):
            #expect(run.status == 0, "\(run.stderr)")
            return try made(from: bucket, manifestKey: manifestKey)
        case .failed(let transient, _, let reason):
            #expect(!transient, "a bad input is a permanent failure")
            #expect(run.status == 65, "invoke exit status \(run.status)")
            let written = FileManager.default.enumerator(atPath: bucket + "/derived")?.allObjects as? [String] ?? []
            #expect(
                written.allSatisfy { $0.hasPrefix("_failures") },
                "the handler published files for a refused input: \(written)")
            return .refused(reason)
        case .skipped(let reason):
            Issue.record("the handler skipped \(key): \(reason)")
            return .refused("skipped: \(reason)")
        case .removed, .reconciled:
            Issue.record("the handler took an upload of \(key) for a removal or a reconcile")
            return .refused("removed")
        }
    }

    /// The pull side: `GET /w320/uploads/NAME.jpg` from `imgfn serve` in a process of its own
    /// (for the same reason as the handler's).
    func request(_ input: Input, scratch: String) throws -> Outcome {
        let bucket = scratch + "/served"
        let name = String(input.path.split(separator: "/").last!)
        try FileManager.default.createDirectory(atPath: bucket + "/uploads", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: input.path, toPath: "\(bucket)/uploads/\(name)")
        let port = try LoopbackHTTP.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: BuiltProducts.path(of: "imgfn-service"))
        server.arguments = ["serve", "--store", bucket, "--port", "\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice  // its note that no signing key is set
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var answer: LoopbackHTTP.Response?
        for _ in 0..<200 where answer == nil {
            answer = try? LoopbackHTTP.get(port: port, "/w320/uploads/\(name).jpg")
            if answer == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let (status, headers, body) = try #require(
            answer.map { ($0.status, $0.headers, $0.body) }, "imgfn serve did not answer on port \(port)")
        guard status == 200 else {
            let reason = String(decoding: body, as: UTF8.self)
            #expect([413, 415, 422].contains(status), "HTTP status \(status) for a bad input: \(reason)")
            #expect(reason.hasSuffix("\n") && reason.dropLast().split(separator: "\n").count == 1, "\(reason)")
            let written = FileManager.default.enumerator(atPath: bucket + "/derived")?.allObjects as? [String] ?? []
            #expect(written.isEmpty, "imgfn serve stored files for a refused input: \(written)")
            return .refused(String(reason.dropLast()))
        }
        let size = try #require(headers["x-imgfn-source-size"]?.split(separator: "x").compactMap { Int($0) })
        #expect(headers["content-type"] == "image/jpeg")
        return .made(width: size[0], height: size[1], w320: body)
    }

    /// Reads a stored set: the manifest's upright size and its w320 JPEG. Every file the
    /// manifest lists must exist with the byte count it says and display at the size it says
    /// (EXIF orientation, HEIF irot/imir applied: a sideways photo's AVIF once displayed turned).
    func made(from root: String, manifestKey: String) throws -> Outcome {
        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(manifestKey)")))
        for derivative in manifest.derivatives {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(derivative.key)"))
            #expect(bytes.count == derivative.bytes, "\(derivative.key)")
            let shown = try ImageResizer.info(of: SourceBytes([UInt8](bytes)))
            #expect(
                (shown.orientedWidth, shown.orientedHeight) == (derivative.width, derivative.height),
                "\(derivative.key) displays at \(shown.orientedWidth)×\(shown.orientedHeight), the manifest says \(derivative.width)×\(derivative.height)"
            )
        }
        let w320 = try #require(manifest.derivatives.first { $0.name == "w320" && $0.format == .jpeg })
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(w320.key)")))
        return .made(width: manifest.source.width, height: manifest.source.height, w320: bytes)
    }

    // MARK: - References

    func referencePixels(_ input: Input) throws -> PixelBuffer? {
        switch input.reference {
        case nil: return nil
        case .picture(let path): return try PixelBuffer.decode(SourceBytes.read(path: path, maxBytes: 1 << 24))
        case .uprightFixture:
            let upright = try SourceBytes.read(path: CLI.fixtures + "/orientation/orientation-1.jpg", maxBytes: 1 << 24)
            let encoded = try ImageResizer.resize(
                upright, ResizeOptions(width: 320), encode: EncodeOptions(format: .png))
            return try PixelBuffer.decode(SourceBytes(encoded.bytes))
        }
    }

    func meanAbsoluteDifference(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        let bands = Swift.min(a.bands, b.bands, 3)
        var total = 0
        for y in 0..<a.height {
            for x in 0..<a.width {
                for band in 0..<bands { total += abs(Int(a[x, y, band]) - Int(b[x, y, band])) }
            }
        }
        return Double(total) / Double(a.width * a.height * bands)
    }

    /// Guards the table: every committed fixture is in it, so a new one cannot skip the matrix.
    @Test func theTableCoversEveryCommittedImage() throws {
        let listed = Set(Self.committed.map(\.path))
        var found: [String] = []
        for dir in ["photos", "formats", "orientation", "colour", "bad"] {
            for name in CLI.files(in: "\(CLI.fixtures)/\(dir)") { found.append("\(CLI.fixtures)/\(dir)/\(name)") }
        }
        #expect(Set(found) == listed, "fixtures not in the matrix: \(Set(found).subtracting(listed).sorted())")
    }
}
