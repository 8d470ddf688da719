import Foundation
import ImgfnBase
import TestSupport
import Testing

/// The built `bootstrap` running as a child process against a `RuntimeAPIServer`, with its
/// standard output and error captured to files.
///
/// The child needs no watchdog: if this test process dies, the server's socket closes, the
/// bootstrap's `/next` fails, it gives up reconnecting after a few seconds and exits.
final class BootstrapProcess: @unchecked Sendable {
    // `Process` is used from one test at a time; @unchecked because Foundation's is not Sendable.
    let process: Process
    let started: ContinuousClock.Instant
    private let outputPath: String
    private let errorPath: String

    /// The `bootstrap` executable beside this test bundle in the build directory.
    static let executable = BuiltProducts.path(of: "bootstrap")

    /// Starts the bootstrap with a clean environment: only `environment`, the Runtime API
    /// address and what the dynamic loader needs (never the caller's AWS credentials).
    init(port: Int, environment: [String: String], scratch: String) throws {
        var env = ["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(port)", "AWS_LAMBDA_FUNCTION_NAME": "imgfn-test"]
        for name in ["PATH", "LD_LIBRARY_PATH", "TMPDIR"] {
            if let value = ProcessInfo.processInfo.environment[name] { env[name] = value }
        }
        env.merge(environment) { _, new in new }
        outputPath = scratch + "/bootstrap.stdout"
        errorPath = scratch + "/bootstrap.stderr"
        for path in [outputPath, errorPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        started = .now
        try process.run()
    }

    /// Stops the child (SIGTERM, then SIGKILL after 5 s) and waits for it.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        if await waitForExit(timeout: .seconds(5)) == nil {
            kill(process.processIdentifier, SIGKILL)
            _ = await waitForExit(timeout: .seconds(5))
        }
    }

    /// The exit status once the child has exited, or nil if it is still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Standard output, one parsed JSON object per line; a line that is not one is a test
    /// failure.
    func jsonLines(sourceLocation: SourceLocation = #_sourceLocation) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)", sourceLocation: sourceLocation)
            return object
        }
    }
}
