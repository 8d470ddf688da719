import Foundation
import TestSupport

/// `imgfn serve` (the built `imgfn-service`) as a child process on 127.0.0.1 and a port of its
/// choosing, talked to with `LoopbackHTTP`. Shared across threads only after start-up (`port`
/// is then fixed; each exchange has its own socket).
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    private(set) var port = 0

    /// Starts the server and waits (up to 20 s) for its `listening` line.
    init(arguments: [String], environment: [String: String] = [:]) throws {
        logPath =
            FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-serve-\(UUID().uuidString).log")
            .path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path(of: "imgfn-service"))
        process.arguments = ["serve", "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = FileHandle.standardError
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let first = logLines.first,
                let json = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any],
                let url = json["listening"] as? String, let port = Int(url.split(separator: ":").last ?? "")
            {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw Failure(description: "imgfn serve did not start: \(logLines)")
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// `imgfn serve ARGUMENTS` run to its exit (for arguments it refuses): status and stderr.
    static func run(arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path(of: "imgfn-service"))
        process.arguments = ["serve", "--port", "0"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: text, as: UTF8.self))
    }

    /// Standard output so far: the `listening` line, then one access-log line per request.
    var logLines: [String] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The server's peak resident memory (VmHWM), in KiB.
    var peakMemoryKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    func exchange(_ requests: [(method: String, target: String, headers: [String])]) throws -> [LoopbackHTTP.Response] {
        try LoopbackHTTP.exchange(port: port, requests)
    }

    func get(_ target: String, headers: [String] = []) throws -> LoopbackHTTP.Response {
        try LoopbackHTTP.exchange(port: port, [("GET", target, headers)])[0]
    }
}
