import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Child processes for the harness: started directly (the `bootstrap` under the Runtime API
/// server) or through the `timed-run` launcher (every whole-process measurement).
enum Spawn {
    /// Starts `argv` (argv[0] a path, or a name looked up on PATH) with `environment` (nil: ours),
    /// stdin from /dev/null, stdout and stderr to `output`. Returns the child's pid.
    static func start(_ argv: [String], environment: [String: String]? = nil, output: String = "/dev/null") throws
        -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        return try spawn(argv, environment: environment, actions: &actions)
    }

    /// Waits for `pid`; returns its exit status (128 + signal when killed).
    @discardableResult
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Whether `pid` has exited, without reaping it.
    static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid != 0
    }

    /// The end of a log, for error messages.
    static func tail(of path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no output)"
        return String(text.suffix(4000))
    }

    /// Runs `argv` to completion under `launcher` (`timed-run`): its wall time, its own peak
    /// RSS and its CPU time (user + system). `stdout` receives the command's standard output.
    /// Throws when it exits non-zero.
    static func timed(_ argv: [String], launcher: String, stdout: String = "/dev/null") throws -> (
        ms: Double, rssMiB: Double, cpuMs: Double
    ) {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw BenchError("pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        let pid: pid_t
        do {
            pid = try spawn([launcher, "-o", stdout] + argv, environment: nil, actions: &actions)
        } catch {
            close(pipe[0])
            close(pipe[1])
            throw error
        }
        close(pipe[1])
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, 256) }
            if n > 0 { text += buffer[..<n] } else if n < 0 && errno == EINTR { continue } else { break }
        }
        close(pipe[0])
        wait(pid)
        let fields = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard fields.count == 4, let ns = Double(fields[0]), let kib = Double(fields[1]), let code = Int(fields[2]),
            let cpu = Double(fields[3])
        else {
            throw BenchError("timed-run gave no result for: \(argv.joined(separator: " "))")
        }
        guard code == 0 else { throw BenchError("exit \(code): \(argv.joined(separator: " "))") }
        return (ns / 1e6, kib / 1024, cpu / 1e6)
    }

    private static func spawn(
        _ argv: [String], environment: [String: String]?, actions: inout posix_spawn_file_actions_t
    )
        throws -> pid_t
    {
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, &cEnv)
        guard rc == 0 else { throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}

/// Monotonic time in milliseconds.
func nowMs() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
}

extension Timing {
    /// Summary of `samples` (ms); `rss` the per-run peaks, if measured.
    init(_ samples: [Double], rss: [Double] = []) {
        let sorted = samples.sorted()
        self.init(
            runs: sorted.count, medianMs: median(sorted), p90Ms: percentile(sorted, 0.9), minMs: sorted.first ?? 0,
            peakRSSMiB: rss.max())
    }
}

/// Median of `values` (any order).
func median(_ values: [Double]) -> Double { percentile(values.sorted(), 0.5) }

/// Linear-interpolated percentile `p` (0…1) of sorted `values`.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let position = p * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = Int(position.rounded(.up))
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}

extension Spawn {
    /// The first line `argv` prints (stdout and stderr together), or nil if it cannot run.
    static func firstLine(_ argv: [String]) -> String? {
        let path = NSTemporaryDirectory() + "imgfn-bench-\(getpid())-capture"
        defer { unlink(path) }
        guard let pid = try? start(argv, output: path), wait(pid) == 0,
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { return nil }
        return text.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    /// The full path of `name` on PATH, or nil.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}
