import Synchronization

/// Reads one JSON object of a configuration, collecting every problem with its JSON path
/// (`derivatives[2].width: must be 1…16384`) instead of stopping at the first.
///
/// Each getter records the key as known; `finish()` reports the keys nobody asked for, so a
/// misspelt option is an error rather than silently ignored.
///
/// In debug builds (the tests'), every key asked for is also recorded under its path pattern
/// (`derivatives[].width`, `derivatives[].steps[]<sharpen>.sigma`) in
/// `ConfigReader.queriedKeys`: the test that keeps the JSON Schema in sync with the code
/// compares the two. Release builds record nothing.
public final class ConfigReader {
    /// Where this object sits in the document: "" for the root, else e.g. `derivatives[2]`.
    public let path: String
    /// Directory that relative file paths in the configuration are resolved against (the
    /// configuration file's directory; nil for inline JSON, which then resolves against the
    /// working directory).
    public let baseDirectory: String?
    /// `path` with array indices removed (and a step's op appended): what `queriedKeys` records.
    let pattern: String
    private let object: [String: JSONValue]
    private let problems: Problems
    private var known: Set<String> = []

    final class Problems {
        var list: [String] = []
    }

    init(
        _ object: [String: JSONValue], path: String, problems: Problems, baseDirectory: String?, pattern: String? = nil
    ) {
        self.object = object
        self.path = path
        self.pattern = pattern ?? Self.pattern(of: path)
        self.problems = problems
        self.baseDirectory = baseDirectory
    }

    /// `path` resolved against `baseDirectory` when relative.
    public func resolve(_ file: String) -> String {
        guard !file.hasPrefix("/"), let baseDirectory else { return file }
        return "\(baseDirectory)/\(file)"
    }

    /// Whether any problem has been recorded so far (in the whole document).
    public var hasProblems: Bool { !problems.list.isEmpty }

    /// The JSON path of `key` in this object.
    public func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Records a problem at `key` (or at this object when nil).
    public func fail(_ key: String?, _ message: String) {
        problems.list.append("\(key.map(path) ?? (path.isEmpty ? "(root)" : path)): \(message)")
    }

    /// The raw value of `key`, marking it known.
    public func value(_ key: String) -> JSONValue? {
        known.insert(key)
        #if DEBUG
            Self.queried.withLock { _ = $0.insert(pattern.isEmpty ? key : "\(pattern).\(key)") }
        #endif
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    public func string(_ key: String) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            fail(key, "must be a string, not \(value.typeName)")
            return nil
        }
        return text
    }

    public func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            fail(key, "must be true or false, not \(value.typeName)")
            return nil
        }
        return flag
    }

    public func int(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, number == number.rounded(), abs(number) < 1e15 else {
            fail(key, "must be an integer \(range.lowerBound)…\(range.upperBound)")
            return nil
        }
        guard range.contains(Int(number)) else {
            fail(key, "must be \(range.lowerBound)…\(range.upperBound), got \(Int(number))")
            return nil
        }
        return Int(number)
    }

    public func double(_ key: String, in range: ClosedRange<Double>) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, range.contains(number) else {
            fail(key, "must be a number \(format(range.lowerBound))…\(format(range.upperBound))")
            return nil
        }
        return number
    }

    /// A string that must be one of `T`'s raw values.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type = T.self) -> T?
    where T.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            fail(
                key,
                "must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(text)\"")
            return nil
        }
        return choice
    }

    public func object(_ key: String) -> ConfigReader? {
        guard let value = value(key) else { return nil }
        guard case .object(let child) = value else {
            fail(key, "must be an object, not \(value.typeName)")
            return nil
        }
        return ConfigReader(child, path: path(key), problems: problems, baseDirectory: baseDirectory)
    }

    public func array(_ key: String) -> [(path: String, value: JSONValue)]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else {
            fail(key, "must be an array, not \(value.typeName)")
            return nil
        }
        return items.enumerated().map { ("\(path(key))[\($0.offset)]", $0.element) }
    }

    /// An array of objects, each read by its own reader.
    public func objects(_ key: String) -> [ConfigReader]? {
        array(key)?.compactMap { item in
            guard case .object(let child) = item.value else {
                problems.list.append("\(item.path): must be an object, not \(item.value.typeName)")
                return nil
            }
            return ConfigReader(child, path: item.path, problems: problems, baseDirectory: baseDirectory)
        }
    }

    /// An array of strings.
    public func strings(_ key: String) -> [String]? {
        array(key)?.compactMap { item in
            guard case .string(let text) = item.value else {
                problems.list.append("\(item.path): must be a string, not \(item.value.typeName)")
                return nil
            }
            return text
        }
    }

    /// The keys present but never asked for.
    public var unknownKeys: [String] { object.keys.filter { !known.contains($0) }.sorted() }

    /// Reports every key present that no getter asked for.
    public func finish() {
        for key in unknownKeys { fail(key, "unknown key") }
    }

    #if DEBUG
        private static let queried = Mutex<Set<String>>([])

        /// Every key pattern any reader has been asked for in this process (debug builds only).
        static var queriedKeys: Set<String> { queried.withLock { $0 } }
    #endif

    /// `derivatives[2].steps[0]` → `derivatives[].steps[]`.
    static func pattern(of path: String) -> String {
        var result = ""
        var inBrackets = false
        for c in path {
            if c == "[" {
                inBrackets = true
                result.append(c)
            } else if c == "]" {
                inBrackets = false
                result.append(c)
            } else if !inBrackets {
                result.append(c)
            }
        }
        return result
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
