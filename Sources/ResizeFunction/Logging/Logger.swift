#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How log lines look and which are written, from Lambda's advanced logging controls.
///
/// - `AWS_LAMBDA_LOG_FORMAT`: `JSON` (the default here) writes one JSON object per line with
///   `timestamp` (RFC 3339, UTC, milliseconds), `level`, `message`, `requestId` and context
///   fields; `Text` writes `TIMESTAMP<TAB>LEVEL<TAB>REQUEST-ID<TAB>message key=value…`.
/// - `AWS_LAMBDA_LOG_LEVEL`: `TRACE`, `DEBUG`, `INFO` (default), `WARN`, `ERROR`, `FATAL`;
///   lines below it are dropped.
///
/// Metrics (EMF) lines are written whatever the format and level: CloudWatch reads them as
/// metrics, not as logs.
struct LogConfiguration: Sendable, Equatable {
    enum Format: Sendable, Equatable { case json, text }

    var format: Format = .json
    var minimumLevel: LogLevel = .info
    /// Values that were set but not understood, reported once the logger exists.
    var problems: [String] = []

    init(format: Format = .json, minimumLevel: LogLevel = .info) {
        self.format = format
        self.minimumLevel = minimumLevel
    }

    init(environment: [String: String]) {
        if let text = environment["AWS_LAMBDA_LOG_FORMAT"], !text.isEmpty {
            switch text.lowercased() {
            case "json": format = .json
            case "text": format = .text
            default: problems.append("AWS_LAMBDA_LOG_FORMAT \"\(text)\" is not JSON or Text; using JSON")
            }
        }
        if let text = environment["AWS_LAMBDA_LOG_LEVEL"], !text.isEmpty {
            if let level = LogLevel(name: text) {
                minimumLevel = level
            } else {
                problems.append(
                    "AWS_LAMBDA_LOG_LEVEL \"\(text)\" is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL; using INFO")
            }
        }
    }
}

enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case trace, debug, info, warn, error, fatal

    init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = level
    }

    var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A context value of a log line.
enum LogValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
}

extension LogValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// Writes log lines to standard output, one `write(2)` per line so lines from different
/// threads never interleave. Values are only what callers pass: the environment (and so the
/// credentials in it) is never logged.
struct Logger: Sendable {
    var configuration: LogConfiguration
    /// The current invocation's request ID, on every line while it is set.
    var requestId: String?

    init(_ configuration: LogConfiguration) {
        self.configuration = configuration
    }

    func isEnabled(_ level: LogLevel) -> Bool { level >= configuration.minimumLevel }

    /// Logs `message` with `fields` (in the order given) when `level` is enabled.
    func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) {
        guard isEnabled(level) else { return }
        let present = fields.compactMap { key, value in value.map { (key, $0) } }
        let timestamp = Timestamp.rfc3339(millisecondsSinceEpoch: Timestamp.nowMilliseconds())
        switch configuration.format {
        case .json:
            var line = JSONLine()
            line.field("timestamp", .string(timestamp))
            line.field("level", .string(level.name))
            line.field("message", .string(message))
            if let requestId { line.field("requestId", .string(requestId)) }
            for (key, value) in present { line.field(key, value) }
            emit(line.finished())
        case .text:
            var line = "\(timestamp)\t\(level.name)\t\(requestId ?? "-")\t\(message)"
            for (key, value) in present { line += " \(key)=\(value.text)" }
            emit(line)
        }
    }

    func trace(_ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) { log(.trace, message, fields) }
    func debug(_ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) { log(.debug, message, fields) }
    func info(_ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) { log(.info, message, fields) }
    func warn(_ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) { log(.warn, message, fields) }
    func error(_ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) { log(.error, message, fields) }
    func fatal(_ message: String, _ fields: KeyValuePairs<String, LogValue?> = [:]) { log(.fatal, message, fields) }

    /// Writes a line as it is (an EMF metrics object), whatever the format and level.
    func emit(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

extension LogValue {
    /// The value in a `Text` line: strings quoted only when they contain spaces or quotes.
    var text: String {
        switch self {
        case .string(let s):
            s.isEmpty || s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline })
                ? JSONLine.quoted(s) : s
        case .int(let i): "\(i)"
        case .double(let d): JSONLine.number(d)
        case .bool(let b): "\(b)"
        }
    }
}
