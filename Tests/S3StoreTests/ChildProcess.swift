import Foundation
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// Child processes for the tests: one-shot commands (`run`) and servers (`startServer`) that
/// are always stopped, by the caller or, if this process dies first, by a watchdog.
enum ChildProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `arguments` (looked up on PATH) to completion with `input` on its standard input.
    static func run(_ arguments: [String], input: Data) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = FileManager.default.temporaryDirectory.appendingPathComponent("s3tests-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: stderr) }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output, errors)
    }

    /// A free TCP port on 127.0.0.1 (bound to port 0, then released for the server to take).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "cannot bind a socket to 127.0.0.1:0") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// True once something accepts TCP connections on 127.0.0.1:`port`.
    static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Starts a server listening on 127.0.0.1:`port` and waits until it accepts connections.
    ///
    /// A small `sh` watchdog kills the server (SIGKILL) if this test process goes away without
    /// calling `stop()` (a crash), so no server outlives `swift test`.
    static func startServer(
        _ arguments: [String], port: Int, environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Server {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("s3tests-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        let child = process.processIdentifier
        watchdog.arguments = [
            "-c",
            "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(child) 2>/dev/null; do sleep 0.5; done; "
                + "kill -9 \(child) 2>/dev/null",
        ]
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try watchdog.run()
        let server = Server(process: process, watchdog: watchdog, port: port, log: log)

        let deadline = ContinuousClock.now + timeout
        while !isListening(port: port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                let output = server.logText
                server.stop()
                throw Failure(description: "\(arguments.joined(separator: " ")) did not start listening: \(output)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return server
    }

    /// A running server process and its watchdog.
    final class Server: Sendable {
        let process: Process
        let watchdog: Process
        let port: Int
        let log: URL

        init(process: Process, watchdog: Process, port: Int, log: URL) {
            self.process = process
            self.watchdog = watchdog
            self.port = port
            self.log = log
        }

        var logText: String {
            String((try? String(contentsOf: log, encoding: .utf8))?.suffix(2000) ?? "")
        }

        /// Kills the server and its watchdog and waits for both. SIGKILL, because children
        /// started from Swift's worker threads inherit their blocked signals, SIGTERM included.
        func stop() {
            for process in [process, watchdog] where process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: log)
        }
    }
}
