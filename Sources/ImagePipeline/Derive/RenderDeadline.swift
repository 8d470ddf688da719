import CVips
import ImgfnBase

/// When a render (or a derivative set) must stop: a point on libvips' monotonic clock, `limit`
/// after it was made.
///
/// Attached to the images a render computes (`watch`), it stops libvips between tiles once it
/// has passed: the render then throws `code` (`.timedOut` unless told otherwise) instead of
/// running on while its caller has given up (and a slot, memory and a core stay taken). A single codec call already running
/// (one AVIF encode, a HEIC or JPEG XL decode in its own library, the scans of a progressive
/// JPEG) finishes first, so a render can overrun its limit by that much.
public struct RenderDeadline: Sendable {
    /// The time the render was given.
    public let limit: Duration
    /// What the deadline is, for the error: "its time limit of 30 s" by default.
    public let name: String?
    /// The code of the error a stopped render throws: `.timedOut` (an HTTP 504) by default;
    /// `.deadline` where the work is to be retried (a derivative set stopped at a Lambda
    /// invocation's deadline).
    public let code: ImgfnError.Code
    private let microseconds: Int

    /// - Parameters:
    ///   - name: what to call the deadline in the error, when it is not a time limit of the
    ///     render's own (e.g. "the invocation's deadline").
    ///   - code: the error code a stopped render throws.
    public init(after limit: Duration, name: String? = nil, code: ImgfnError.Code = .timedOut) {
        self.limit = max(limit, .zero)
        self.name = name
        self.code = code
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
    var error: ImgfnError { error(stopping: "the render") }

    /// The error `subject` ("the render", "the derivative set") stopped at its deadline throws.
    func error(stopping subject: String, underlying: (any Error & Sendable)? = nil) -> ImgfnError {
        let milliseconds = Int(limit.milliseconds.rounded())
        let text = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
        return ImgfnError(
            code, "\(subject) was stopped at \(name ?? "its time limit of \(text)")", underlying: underlying)
    }
}
