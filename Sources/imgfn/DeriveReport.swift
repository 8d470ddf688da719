import CLISupport
import FoundationEssentials
import ImagePipeline
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Progress on stderr: a bar redrawn in place on a terminal, one line per input otherwise.
final class Progress: Sendable {
    private let total: Int
    private let terminal: Bool
    private let quiet: Bool
    private let state = Mutex((done: 0, failed: 0))

    init(total: Int, json: Bool) {
        self.total = total
        terminal = isatty(diagnosticsFD) != 0
        quiet = json && !terminal
    }

    func update(_ result: InputResult) {
        let (done, failed) = state.withLock { state in
            state.done += 1
            if result.error != nil { state.failed += 1 }
            return (state.done, state.failed)
        }
        if terminal {
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            var line = "\r[\(bar)] \(done)/\(total)"
            if failed > 0 { line += "  \(failed) failed" }
            if let error = result.error { line = "\r\u{1B}[K\(result.path): \(error.message)\n" + line }
            printError(line, newline: false)
        } else if !quiet {
            if let error = result.error {
                printError("FAIL \(result.path): \(error.message)")
            } else {
                let left = result.omitted.isEmpty ? "" : "; omitted \(result.omitted.joined(separator: "; "))"
                printError("ok   \(result.path) → \(result.files) files, \(Formatting.size(result.bytesOut))\(left)")
            }
        }
    }

    func finish() {
        if terminal { printError("") }
    }
}

/// The end-of-run report: a table (or JSON) and the exit code.
struct Summary {
    let results: [InputResult]
    let seconds: Double

    var failures: [InputResult] { results.filter { $0.error != nil } }

    /// nil when every input succeeded; else 65 when every failure was the input's fault,
    /// or the first other failure's code.
    var exitCode: Int32? {
        let errors = failures.compactMap(\.error)
        guard let first = errors.first(where: { !$0.code.isInputFault }) ?? errors.first else { return nil }
        return ExitStatus.code(for: first)
    }

    var table: String {
        let ok = results.count - failures.count
        var lines = [
            "inputs       \(results.count) (\(ok) ok, \(failures.count) failed)",
            "derivatives  \(results.reduce(0) { $0 + $1.files })",
            "bytes in     \(Formatting.size(results.reduce(0) { $0 + $1.bytesIn }))",
            "bytes out    \(Formatting.size(results.reduce(0) { $0 + $1.bytesOut }))",
            "time         \(Formatting.fixed(seconds, 2)) s",
        ]
        let omissions = results.filter { !$0.omitted.isEmpty }
        if !omissions.isEmpty {
            lines.append("omitted:")
            lines += omissions.flatMap { result in result.omitted.map { "  \(result.path): \($0)" } }
        }
        if !failures.isEmpty {
            lines.append("failures:")
            lines += failures.map { "  \($0.path): \($0.error!.message)" }
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        struct Entry: Encodable {
            var path: String, ok: Bool, files: Int, bytesIn: Int, bytesOut: Int, manifest: String?, omitted: [String]?
            var error: String?, errorCode: String?
        }
        struct Report: Encodable {
            var inputs: Int, failed: Int, derivatives: Int, bytesIn: Int, bytesOut: Int, seconds: Double,
                results: [Entry]
        }
        let report = Report(
            inputs: results.count, failed: failures.count, derivatives: results.reduce(0) { $0 + $1.files },
            bytesIn: results.reduce(0) { $0 + $1.bytesIn }, bytesOut: results.reduce(0) { $0 + $1.bytesOut },
            seconds: (seconds * 1000).rounded() / 1000,
            results: results.map {
                Entry(
                    path: $0.path, ok: $0.error == nil, files: $0.files, bytesIn: $0.bytesIn, bytesOut: $0.bytesOut,
                    manifest: $0.manifestKey, omitted: $0.omitted.isEmpty ? nil : $0.omitted, error: $0.error?.message,
                    errorCode: $0.error.map { "\($0.code)" })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
    }

}
