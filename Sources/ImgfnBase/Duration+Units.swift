extension Duration {
    /// The duration in (fractional) milliseconds, for metrics, logs and reports.
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// The duration in (fractional) seconds.
    public var seconds: Double { milliseconds / 1000 }
}
