import CVips
import ImgfnBase

/// When a render must stop: a point on libvips' monotonic clock, `limit` after it was made.
///
/// Attached to the images a render computes (`watch`), it stops libvips between tiles once it
/// has passed: the render then throws `.timedOut` instead of running on while its caller has
/// given up (and a slot, memory and a core stay taken). A single codec call already running
/// (one AVIF encode, a HEIC or JPEG XL decode in its own library, the scans of a progressive
/// JPEG) finishes first, so a render can overrun its limit by that much.
public struct RenderDeadline: Sendable {
    /// The time the render was given.
    public let limit: Duration
    /// What the deadline is, for the error: "its time limit of 30 s" by default.
    public let name: String?
    private let microseconds: Int

    /// - Parameter name: what to call the deadline in the error, when it is not a time limit
    ///   of the render's own (e.g. "the invocation's deadline").
    public init(after limit: Duration, name: String? = nil) {
        self.limit = max(limit, .zero)
        self.name = name
        let (seconds, attoseconds) = self.limit.components
        let span = Int(min(seconds, 1 << 40) * 1_000_000 + attoseconds / 1_000_000_000_000)
        microseconds = cv_monotonic_microseconds() + span
    }

    /// True once the deadline is behind.
    public var hasPassed: Bool { cv_monotonic_microseconds() >= microseconds }

    /// Stops computations of `image`, and of the images made from it, at the deadline. A
    /// finished copy in memory no longer signals for its source: watch it again.
    func watch(_ image: VipsImage) {
        cv_image_set_deadline(image.pointer, microseconds)
    }

    /// The error a render stopped at its deadline throws.
    var error: ImgfnError {
        let milliseconds = Int(limit.milliseconds.rounded())
        let text = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
        return ImgfnError(.timedOut, "the render was stopped at \(name ?? "its time limit of \(text)")")
    }
}
