import Foundation
import S3Store

/// One case of the AWS SigV4 test suite in `sigv4-test-suite/` (see its README): the request
/// to sign, how to sign it, and what the signer must produce.
struct SigV4TestCase: CustomStringConvertible, Sendable {
    struct Context: Decodable, Sendable {
        struct Credentials: Decodable, Sendable {
            var accessKeyId: String
            var secretAccessKey: String
            var token: String?
        }
        var credentials: Credentials
        var normalize: Bool
        var region: String
        var service: String
        var signBody: Bool
        var timestamp: String
        var omitSessionToken: Bool?
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("sigv4-test-suite")

    /// Every case folder, sorted.
    static let names: [String] = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return entries.filter {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/request.txt").path)
        }
        .sorted()
    }()

    var name: String
    var context: Context
    var method: String
    /// The path as written in the request line (not yet percent-encoded).
    var path: String
    var query: [(name: String, value: String)]
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var expectedCanonicalRequest: String
    var expectedStringToSign: String
    var expectedAuthorization: String
    /// The headers the signed request has beyond the original: lower-cased name → value.
    var expectedAddedHeaders: [String: String]

    var description: String { name }

    init(name: String) throws {
        self.name = name
        let folder = Self.directory.appendingPathComponent(name)
        func text(_ file: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        context = try decoder.decode(
            Context.self, from: Data(contentsOf: folder.appendingPathComponent("context.json")))
        let request = try Self.parse(try text("request.txt"))
        method = request.method
        let target = request.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(target[0])
        query =
            target.count < 2 || target[1].isEmpty
            ? []
            : target[1].split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                return (name, value)
            }
        headers = request.headers
        body = request.body
        expectedCanonicalRequest = try text("header-canonical-request.txt")
        expectedStringToSign = try text("header-string-to-sign.txt")
        let signed = try Self.parse(try text("header-signed-request.txt"))
        expectedAuthorization = signed.headers.first { $0.name.lowercased() == "authorization" }?.value ?? ""
        let original = Set(request.headers.map { $0.name.lowercased() })
        expectedAddedHeaders = Dictionary(
            signed.headers.filter { !original.contains($0.name.lowercased()) }.map { ($0.name.lowercased(), $0.value) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The signer configured as the case's context says: service "service", whose paths are
    /// encoded once more by the signer, normalised when `normalize` is set.
    var signer: SigV4Signer {
        let credentials = AWSCredentials(
            accessKeyID: context.credentials.accessKeyId, secretAccessKey: context.credentials.secretAccessKey,
            sessionToken: context.credentials.token)
        var signer = SigV4Signer(credentials: credentials, region: context.region, service: context.service)
        signer.normalizesPath = context.normalize
        signer.encodesPath = true
        signer.addsContentSHA256Header = context.signBody
        signer.signsSessionToken = !(context.omitSessionToken ?? false)
        return signer
    }

    var date: Date {
        get throws { try Date(context.timestamp, strategy: .iso8601) }
    }

    /// Splits an HTTP/1.1 request as the suite writes it: request line, `Name:value` lines (a line
    /// starting with white space continues the previous value), blank line, body.
    static func parse(_ text: String) throws -> (
        method: String, target: String, headers: [(name: String, value: String)], body: [UInt8]
    ) {
        let (head, body): (Substring, Substring)
        if let blank = text.range(of: "\n\n") {
            (head, body) = (text[..<blank.lowerBound], text[blank.upperBound...])
        } else {
            (head, body) = (text[...], "")
        }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst()
        guard let firstSpace = requestLine.firstIndex(of: " "), let lastSpace = requestLine.lastIndex(of: " "),
            firstSpace < lastSpace
        else { throw SigV4TestCaseError.malformed(String(requestLine)) }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            } else {
                throw SigV4TestCaseError.malformed(String(line))
            }
        }
        return (
            String(requestLine[..<firstSpace]), String(requestLine[requestLine.index(after: firstSpace)..<lastSpace]),
            headers, Array(body.utf8)
        )
    }
}

enum SigV4TestCaseError: Error {
    case malformed(String)
}
