/// Builds one JSON object on one line, keys in the order written (so `timestamp`, `level`,
/// `message` and `requestId` come first, as in Lambda's own JSON logs).
struct JSONLine {
    private var text = "{"
    private var empty = true

    mutating func field(_ key: String, _ value: LogValue) {
        raw(key, value.json)
    }

    /// Adds a value that is already JSON (an object or array built by the caller).
    mutating func raw(_ key: String, _ json: String) {
        if !empty { text += "," }
        empty = false
        text += Self.quoted(key)
        text += ":"
        text += json
    }

    func finished() -> String { text + "}" }

    /// A JSON string literal; control characters, quotes and backslashes escaped.
    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON number: integral values without a fraction, others to three decimals (enough for
    /// milliseconds); non-finite values (never expected) as 0.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return "\(Int(value))" }
        return "\((value * 1000).rounded() / 1000)"
    }
}

extension LogValue {
    var json: String {
        switch self {
        case .string(let s): JSONLine.quoted(s)
        case .int(let i): "\(i)"
        case .double(let d): JSONLine.number(d)
        case .bool(let b): b ? "true" : "false"
        }
    }
}
