import Foundation
import ImagePipeline
import ImageRequests
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
    }

    @Test func processingURLsAreRefusedWithoutKeys() throws {
        let root = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try ServerProcess(arguments: ["--store", root])
        defer { server.stop() }
        #expect(try server.get("/unsafe/w:100/plain/local:///uploads/storm.jpg@jpg").status == 403)
        #expect(try server.get("/w320/uploads/storm.jpg").status == 200)
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
