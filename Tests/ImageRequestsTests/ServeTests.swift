import Foundation
import ImagePipeline
import ImageRequests
import ImageService
import ImgfnBase
import TestSupport
import Testing

/// `imgfn serve` over real sockets on 127.0.0.1: the signed URL a user pastes, HEAD, keep-alive,
/// raw traversal attempts no client tidied up, the access log, and 4× overload with its memory.
@Suite(.serialized) struct ServeTests {
    static let key = "736563726574"
    static let salt = "68656c6c6f"

    /// A store with two photos under uploads/.
    static func makeStore() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-serve-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: root + "/uploads", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path(Fixtures.photo), toPath: root + "/uploads/storm.jpg")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("large/kleiber-24mp.jpg"), toPath: root + "/uploads/kleiber.jpg")
        return root
    }

    @Test func signedURLsOverTheWire() throws {
        let root = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServerProcess(
            arguments: ["--store", root],
            environment: ["IMGFN_SIGNING_KEY": Self.key, "IMGFN_SIGNING_SALT": Self.salt])
        defer { server.stop() }
        let signing = try URLSigning(keys: Self.key, salts: Self.salt)
        let path = "/rs:fill:300:200/g:sm/plain/local:///uploads/kleiber.jpg@webp"
        let signed = "/\(signing.sign(path))\(path)"

        // GET, then HEAD, then a tampered URL and a preset, all on one connection.
        let responses = try server.exchange([
            ("GET", signed, []), ("HEAD", signed, []),
            ("GET", "/\(signing.sign(path))\(path.replacing("300", with: "301"))", []),
            ("GET", "/w320/uploads/storm.jpg", ["Accept: image/avif,image/webp,*/*"]),
            ("GET", "/health", []),
        ])
        let get = responses[0]
        #expect(get.status == 200)
        #expect(get.headers["content-type"] == "image/webp")
        let info = try ImageResizer.info(of: SourceBytes(get.body))
        #expect((info.format, info.width, info.height) == (.webp, 300, 200))
        #expect(get.headers["x-imgfn-result"] == "rendered")
        let head = responses[1]
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(head.headers["content-length"] == "\(get.body.count)")
        #expect(head.headers["x-imgfn-result"] == "stored")
        #expect(responses[2].status == 403)
        #expect(responses[2].text == "invalid signature\n")
        #expect(responses[3].status == 200 && responses[3].headers["content-type"] == "image/webp")
        #expect(responses[3].headers["vary"] == "Accept")
        #expect(responses[4].status == 200)

        // 304 on a new connection, from the ETag.
        let etag = try #require(get.headers["etag"])
        let revalidated = try server.get(signed, headers: ["If-None-Match: \(etag)"])
        #expect(revalidated.status == 304 && revalidated.body.isEmpty)

        // Raw traversal: the path reaches the server exactly as written here.
        for target in [
            "/w320/uploads/../../../etc/passwd", "/w320/uploads/%2e%2e/%2e%2e/etc/passwd",
            "/\(signing.sign("/w:10/plain/local:///uploads/../../etc/passwd"))/w:10/plain/local:///uploads/../../etc/passwd",
            "/\(signing.sign("/w:10/plain/http://127.0.0.1:1/x"))/w:10/plain/http://127.0.0.1:1/x",
        ] {
            let response = try server.get(target)
            #expect(response.status == 403, "\(target): \(response.status) \(response.text)")
        }

        // One JSON access-log line per request after the listening line.
        let lines = server.logLines.dropFirst()
        #expect(lines.count == 10, "\(lines)")
        let first = try #require(
            try JSONSerialization.jsonObject(with: Data(lines.first!.utf8)) as? [String: Any])
        #expect(first["status"] as? Int == 200)
        #expect(first["path"] as? String == signed)
        #expect(first["result"] as? String == "rendered")
        #expect(lines.contains { $0.contains(#""reason":"invalid signature""#) })

        // Prometheus metrics of the same requests.
        let metrics = try server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains(#"imgfn_http_results_total{result="rendered"} 2"#), "\(metrics.text)")
        #expect(metrics.text.contains(#"imgfn_http_requests_total{status="403"} 5"#), "\(metrics.text)")
        #expect(metrics.text.contains("imgfn_http_request_duration_seconds_count 10"), "\(metrics.text)")
        #expect(metrics.text.contains("imgfn_renders_running 0"))
    }

    @Test func signPrintsTheDocumentedSignature() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path(of: "imgfn-service"))
        let path = "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"
        process.arguments = ["sign", path]
        process.environment = ["IMGFN_SIGNING_KEY": Self.key, "IMGFN_SIGNING_SALT": Self.salt]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(printed == "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8\(path)\n")

        let unset = Process()
        unset.executableURL = process.executableURL
        unset.arguments = ["sign", path]
        unset.environment = [:]
        unset.standardError = FileHandle.nullDevice
        try unset.run()
        unset.waitUntilExit()
        #expect(unset.terminationStatus == 64)
    }

    /// The page a site would build from a manifest, in a real browser (Debian's chromium,
    /// headless): Chromium picks the AVIF `<source>`, the server answers it with AVIF, the image
    /// decodes at the width `srcset` and `sizes` call for, and the screenshot is not blank.
    @Test func chromiumRendersThePictureAsAVIF() async throws {
        let root = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The upload's set and manifest first, as the push side makes them.
        let push = Handler(pipeline: try Pipeline(.default)) { _ in FileSystemBlobStore(root: root) }
        let pushed = await push.handle(ObjectCreated(bucket: "b", key: "uploads/storm.jpg"))
        #expect(!pushed.isFailure, "\(pushed)")
        let server = try ServerProcess(arguments: ["--store", root, "--page"])
        defer { server.stop() }
        let page = "http://127.0.0.1:\(server.port)/_page/uploads/storm.jpg"
        let profile = root + "/chromium-profile"
        func chromium(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
            process.arguments =
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--user-data-dir=\(profile)", "--virtual-time-budget=15000", "--window-size=800,700",
                ] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
        #expect(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
            "Debian's chromium is missing: `make test` installs it (scripts/install-deps.sh)")

        // What the browser chose, from the page's own report.
        let dom = try chromium(["--dump-dom", page])
        let report = try #require(
            dom.firstRange(of: #/<pre id="result">(.*?)</pre>/#).map { String(dom[$0].dropFirst(17).dropLast(6)) },
            "no #result in the page: \(dom.prefix(2000))")
        let chosen = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        let currentSrc = chosen["currentSrc"] as? String ?? ""
        #expect(currentSrc.hasSuffix("/w1280/uploads/storm.jpg.avif"), "\(chosen)")
        // Decoded: a 1280w candidate for sizes=640px has density 2, so its natural width is 640.
        #expect(chosen["naturalWidth"] as? Int == 640, "\(chosen)")

        // The server answered that request with AVIF (from the stored set).
        let served = server.logLines.dropFirst().compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let avif = served.first { ($0["path"] as? String) == "/w1280/uploads/storm.jpg.avif" }
        #expect(avif?["status"] as? Int == 200)
        #expect(avif?["type"] as? String == "image/avif")
        #expect(avif?["result"] as? String == "stored")

        // Rendered: the screenshot's photo area is not blank (a white page with an empty box would be).
        let shot = root + "/page.png"
        _ = try chromium(["--screenshot=\(shot)", page])
        let pixels = try PixelBuffer.decode(SourceBytes.read(path: shot, maxBytes: 1 << 26))
        var sum = 0.0
        var squares = 0.0
        var count = 0.0
        for y in stride(from: 20, to: min(pixels.height, 400), by: 4) {
            for x in stride(from: 20, to: min(pixels.width, 620), by: 4) {
                let value = Double(pixels[x, y, 0]) + Double(pixels[x, y, 1]) + Double(pixels[x, y, 2])
                sum += value
                squares += value * value
                count += 1
            }
        }
        let mean = sum / count
        let deviation = (squares / count - mean * mean).squareRoot()
        #expect(mean < 700 && deviation > 20, "screenshot looks blank: mean \(mean), deviation \(deviation)")
    }

    @Test func processingURLsAreRefusedWithoutKeys() throws {
        let root = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServerProcess(arguments: ["--store", root])
        defer { server.stop() }
        #expect(try server.get("/unsafe/w:100/plain/local:///uploads/storm.jpg@jpg").status == 403)
        #expect(try server.get("/w320/uploads/storm.jpg").status == 200)
        // No page without --page.
        #expect(try server.get("/_page/uploads/storm.jpg").status == 404)
    }

    /// `--render-timeout`: a render over it is stopped and answered 504 with the reason; the
    /// slot comes back (the next render of a small photo is made), nothing is stored.
    @Test func aRenderOverItsTimeLimitIsStoppedWith504() throws {
        let root = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServerProcess(arguments: [
            "--store", root, "--insecure-unsigned", "--concurrency", "1", "--render-timeout", "0.001",
        ])
        defer { server.stop() }
        let slow = try server.get("/_/rs:fit:4000:0/plain/local:///uploads/kleiber.jpg@jpg")
        #expect(slow.status == 504)
        #expect(slow.text == "the render was stopped at its time limit of 1 ms\n", "\(slow.text)")
        #expect(try server.get("/health").text.contains(#""renders":0"#))
        #expect(!FileManager.default.fileExists(atPath: root + "/derived/_requests"))
        for value in ["0", "0.0001", "soon"] {
            let invalid = try ServerProcess.run(arguments: ["--store", root, "--render-timeout", value])
            #expect(invalid.status == 64 && invalid.stderr.contains("--render-timeout"), "\(invalid)")
        }
    }

    /// 4× overload: 16 requests at once for 2 render slots and 2 places in the queue. Every answer
    /// is an image or a 503 with Retry-After, and the server's peak memory stays under the cap
    /// README "Serving images on demand" documents (each render of the 24 MP photo at 4000 px
    /// holds its decode, ~70 MB).
    @Test func overloadStaysWithinItsMemoryCap() throws {
        let root = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServerProcess(arguments: [
            "--store", root, "--insecure-unsigned", "--concurrency", "2", "--queue", "2",
        ])
        defer { server.stop() }
        let results = Mutex16()
        // A thread each (not a pool the size of the cores): all sixteen connect at once.
        let done = DispatchGroup()
        for i in 0..<16 {
            done.enter()
            Thread.detachNewThread {
                results.set(i, try? server.get("/_/rs:fit:\(4000 + i):0/plain/local:///uploads/kleiber.jpg@jpg"))
                done.leave()
            }
        }
        done.wait()
        let responses = results.all
        let statuses = responses.map { $0?.status ?? 0 }
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        #expect(statuses.contains(200) && statuses.contains(503), "\(statuses)")
        #expect(responses.compactMap { $0 }.filter { $0.status == 503 }.allSatisfy { $0.headers["retry-after"] == "1" })
        let peak = server.peakMemoryKiB
        #expect(peak > 0 && peak < 600 * 1024, "peak RSS \(peak / 1024) MiB")
        // The server is still there and answers.
        #expect(try server.get("/health").status == 200)
    }
}

/// Sixteen slots written from concurrent threads.
final class Mutex16: @unchecked Sendable {
    private let lock = NSLock()
    private var values = [LoopbackHTTP.Response?](repeating: nil, count: 16)
    func set(_ i: Int, _ value: LoopbackHTTP.Response?) { lock.withLock { values[i] = value } }
    var all: [LoopbackHTTP.Response?] { lock.withLock { values } }
}
