import Foundation
import TestSupport

/// Runs the built `imgfn` binary as a child process and reports what it did.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The `imgfn` executable beside this test bundle in the build directory.
    static let executable = BuiltProducts.path(of: "imgfn")

    static let fixtures = Fixtures.root

    /// Runs `imgfn ARGS` with standard input read from `stdinPath` (default /dev/null).
    static func run(_ arguments: [String], stdinPath: String = "/dev/null", executable: String = CLI.executable)
        throws -> Result
    {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outPath = scratch + "/stdout"
        let errPath = scratch + "/stderr"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        // A freshly copied executable is "busy" while a process another test forks meanwhile
        // still holds the copy's write descriptor (inherited across fork until its exec): wait.
        for _ in 0..<100 where spawned == ETXTBSY {
            usleep(20_000)
            spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        }
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(
            status: exitCode,
            stdout: [UInt8](FileManager.default.contents(atPath: outPath) ?? Data()),
            stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    /// Runs `imgfn ARGS` and returns its exit status and peak resident memory in KiB.
    ///
    /// `run` cannot measure memory: posix_spawn starts the child with vfork, and Linux then
    /// counts the parent's (this test process's) peak in the child's `ru_maxrss`. A real
    /// fork from a small Python process gives the child a fresh account.
    static func peakMemory(_ arguments: [String]) throws -> (status: Int32, maxRSSKiB: Int) {
        let script = """
            import json, os, sys
            pid = os.fork()
            if pid == 0:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1); os.dup2(null, 2)
                os.execv(sys.argv[1], sys.argv[1:])
            _, status, usage = os.wait4(pid, 0)
            print(json.dumps({"status": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = try JSONSerialization.jsonObject(with: output) as? [String: Int] ?? [:]
        return (Int32(report["status"] ?? -1), report["maxrss"] ?? -1)
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}
