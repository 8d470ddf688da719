import Foundation

/// A process's memory as Linux reports it in /proc: this process ("self") or a child (its pid).
enum ProcessMemory {
    /// Sets the process's peak RSS (VmHWM) back to its current RSS.
    static func resetPeak(of process: String = "self") throws {
        guard let handle = FileHandle(forWritingAtPath: "/proc/\(process)/clear_refs") else {
            throw BenchError("cannot open /proc/\(process)/clear_refs to reset the peak RSS")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data("5".utf8))
    }

    /// A `/proc/PID/status` memory field ("VmHWM", "VmRSS") in MiB.
    static func mib(_ field: String, of process: String = "self") throws -> Double {
        try kib(field, in: String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8)) / 1024
    }

    /// A `Name:   1234 kB` line of a /proc status text (kB there means KiB).
    static func kib(_ field: String, in status: String) throws -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { throw BenchError("no \(field) in /proc status") }
        return kib
    }
}
