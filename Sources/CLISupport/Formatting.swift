/// Numbers as the CLI prints them (no Foundation formatters: FoundationEssentials has none).
public enum Formatting {
    /// `bytes` as B, KiB or MiB with one decimal.
    public static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return "\(fixed(Double(bytes) / 1024, 1)) KiB" }
        return "\(fixed(Double(bytes) / 1_048_576, 1)) MiB"
    }

    /// `value` with exactly `digits` decimals.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        let whole = scaled / scale
        let fraction = abs(scaled % scale)
        let text = String(fraction)
        return digits == 0 ? "\(whole)" : "\(whole).\(String(repeating: "0", count: digits - text.count))\(text)"
    }
}
