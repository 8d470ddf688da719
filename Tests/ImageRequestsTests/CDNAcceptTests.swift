import Foundation
import ImageRequests
import TestSupport
import Testing

/// The CloudFront viewer function in `template.yaml` puts the normalised `Accept` in the cache
/// key and sends it to the origin. It must read `Accept` exactly as the server does
/// (`AcceptedFormat`), or a cached answer goes to clients it was not made for (AVIF to a client
/// that sent `image/avif;q=0`). The function's own code, taken from the template, runs in a real
/// JavaScript engine (Debian's Chromium, headless) over browsers' headers and edge cases.
@Suite struct CDNAcceptTests {
    static let headers: [String?] = [
        nil, "", "*/*", "image/*",
        // Chrome, Firefox, Safari 17, Safari 13, Edge (older), curl
        "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        "image/avif,image/webp,*/*",
        "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
        "image/webp,image/apng,image/*,*/*;q=0.8",
        "image/jpeg",
        // Refusals and weights
        "image/avif;q=0,image/webp", "image/avif; q=0, image/webp;q=0", "image/avif;q=0.0,*/*",
        "image/avif;q=0.001", "image/webp;q=0.5", "IMAGE/AVIF", " image/avif ; Q=1 ",
        "image/avif;q=", "image/avif;q=abc", "image/avif;level=1;q=0",
        // Not the types themselves
        "image/avif2", "image/webpx", "application/image/avif", "image/avif-sequence",
    ]

    /// The `FunctionCode` block of the `NormaliseAccept` function, unindented.
    static func functionCode() throws -> String {
        let template = try String(contentsOfFile: Fixtures.repository + "/template.yaml", encoding: .utf8)
        let lines = template.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "FunctionCode: |" })
        let indent = lines[start].prefix { $0 == " " }.count + 2
        var code: [Substring] = []
        for line in lines[(start + 1)...] {
            if !line.isEmpty && line.prefix { $0 == " " }.count < indent { break }
            code.append(line.dropFirst(min(indent, line.count)))
        }
        return code.joined(separator: "\n")
    }

    @Test func theCDNReadsAcceptAsTheServerDoes() throws {
        let code = try Self.functionCode()
        #expect(code.hasPrefix("function handler(event)"))
        let cases = String(
            decoding: try JSONSerialization.data(withJSONObject: Self.headers.map { $0.map { $0 as Any } ?? NSNull() }),
            as: UTF8.self)
        let page = """
            <!doctype html><pre id="result"></pre><script>
            \(code)
            var results = \(cases).map(function (accept) {
              var headers = accept === null ? {} : { accept: { value: accept } };
              return handler({ request: { headers: headers } }).headers.accept.value;
            });
            document.getElementById('result').textContent = JSON.stringify(results);
            </script>
            """
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-cdn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("accept.html")
        try Data(page.utf8).write(to: file)

        #expect(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
            "Debian's chromium is missing: `make test` installs it (scripts/install-deps.sh)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(directory.path)/profile", "--dump-dom", file.absoluteString,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A stalled browser fails the test instead of hanging the suite.
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if process.isRunning { process.terminate() } }
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let json = try #require(
            dom.firstRange(of: #/<pre id="result">(.*?)</pre>/#).map { String(dom[$0].dropFirst(17).dropLast(6)) },
            "no result from the function: \(dom.prefix(2000))")
        let normalised = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])
        #expect(normalised.count == Self.headers.count)
        for (header, value) in zip(Self.headers, normalised) {
            #expect(["image/avif", "image/webp", "*/*"].contains(value), "\(header ?? "none") → \(value)")
            // What the origin makes of the normalised header is what it makes of the client's own.
            #expect(
                AcceptedFormat(accept: value) == AcceptedFormat(accept: header),
                "\(header ?? "none"): CDN sends \(value)")
        }
        // The vectors reach all three answers (a normaliser stuck on one would pass the above only
        // if the server were stuck too).
        #expect(Set(normalised) == ["image/avif", "image/webp", "*/*"])
    }
}
