/// A limit on the time one set's encodes may take (a Lambda invocation's deadline, less the
/// time kept for storing). AVIF is the one costly encoder: when the planned encodes would not
/// fit, AVIF efforts are lowered, one step at a time, and if even effort 0 does not fit, AVIF
/// files are left out (largest first) with the reason, rather than the invocation timing out
/// with nothing stored. JPEG, PNG and WebP are always made.
///
/// The estimate is a rate per megapixel and effort measured on one core (an AMD EPYC of the
/// benchmark machine, `make bench`), divided by the CPUs the process gets.
public struct EncodeBudget: Sendable {
    /// Time left for encoding, asked once the encodes are planned.
    public var timeLeft: @Sendable () -> Duration
    /// Cores' worth of CPU the process gets (Lambda: memory ÷ 1 769 MB, at most the cores).
    public var cpus: Double
    /// Time left before a set still being made is abandoned (asked when its derivation
    /// starts; see `stopDeadline()`); nil: never. The estimate above can be wrong (a slower
    /// machine, a costly decode): this is the hard stop that answers in time regardless.
    public var stopLeft: (@Sendable () -> Duration)?

    public init(
        cpus: Double, timeLeft: @escaping @Sendable () -> Duration, stopLeft: (@Sendable () -> Duration)? = nil
    ) {
        self.cpus = cpus
        self.timeLeft = timeLeft
        self.stopLeft = stopLeft
    }

    /// Where a derivation starting now is stopped (`Pipeline.derive(_:jobs:budget:deadline:)`):
    /// at `stopLeft`, as `.deadline` (to be retried), or nil without a stop.
    public func stopDeadline() -> RenderDeadline? {
        stopLeft.map { RenderDeadline(after: $0(), name: "the invocation's deadline", code: .deadline) }
    }

    /// Estimated milliseconds of one core to encode `pixels` in `format` at `effort`.
    public static func estimateMilliseconds(pixels: Int, format: OutputFormat, effort: Int) -> Double {
        let megapixels = Double(pixels) / 1e6
        switch format {
        case .jpeg: return megapixels * 15
        case .png: return megapixels * 120
        case .webp: return megapixels * [20, 25, 35, 90, 95, 110, 150][Swift.min(Swift.max(effort, 0), 6)]
        case .avif:
            // libaom at libvips' effort 0…9 (speed 9…0): measured to 4, then ×1.5 a step.
            return megapixels
                * [40, 90, 190, 310, 1200, 1800, 2700, 4050, 6075, 9113][Swift.min(Swift.max(effort, 0), 9)]
        }
    }
}
