import ImgfnBase

/// How an `S3BlobStore` retries requests that failed in a way that may pass: HTTP 5xx and 429,
/// S3's `SlowDown`/`RequestTimeout`/`InternalError`/`ServiceUnavailable`, connection failures
/// and timeouts.
///
/// Waits use "full jitter" exponential backoff: before retry *n* the store sleeps a uniformly
/// random time in `0 … min(maxDelay, baseDelay · 2ⁿ⁻¹)`, which spreads out clients that failed
/// together (see the AWS Architecture Blog, "Exponential Backoff And Jitter").
public struct S3RetryPolicy: Sendable {
    /// Attempts in all, the first included; 1 never retries.
    public var maxAttempts: Int
    /// The longest wait before the first retry; doubled for each later one.
    public var baseDelay: Duration
    /// The longest wait before any retry.
    public var maxDelay: Duration
    /// Waits; tests pass one that records and returns at once. Throws when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// A policy; the defaults suit S3 (4 attempts, 100 ms base, 5 s cap, real sleeping).
    /// `maxAttempts` below 1 counts as 1.
    public init(
        maxAttempts: Int = 4,
        baseDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(5),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
    }

    /// The longest wait before retry `retry` (1 for the wait after the first attempt).
    public func delayCap(beforeRetry retry: Int) -> Duration {
        let doublings = min(max(retry - 1, 0), 30)
        let exponential = baseDelay * (1 << doublings)
        return min(maxDelay, exponential)
    }

    /// A random wait in `0 … delayCap(beforeRetry: retry)`.
    public func delay(beforeRetry retry: Int) -> Duration {
        let cap = delayCap(beforeRetry: retry)
        let capNanoseconds = cap.components.seconds * 1_000_000_000 + cap.components.attoseconds / 1_000_000_000
        guard capNanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...capNanoseconds))
    }

    /// Runs `attempt` until it succeeds, fails permanently, or the attempts are spent (then
    /// `.storeUnavailable` with the last failure's reason), waiting between attempts.
    func run<T>(
        _ what: String,
        _ attempt: () async throws(S3AttemptFailure) -> T
    ) async throws(ImgfnError) -> T {
        var reason = "no attempt made"
        for attemptNumber in 1...maxAttempts {
            if Task.isCancelled {
                throw ImgfnError(.storeUnavailable, "\(what): cancelled")
            }
            do {
                return try await attempt()
            } catch {
                switch error {
                case .permanent(let error):
                    throw error
                case .transient(let text):
                    reason = text
                }
            }
            guard attemptNumber < maxAttempts else { break }
            do {
                try await sleep(delay(beforeRetry: attemptNumber))
            } catch {
                throw ImgfnError(.storeUnavailable, "\(what): cancelled while waiting to retry (\(reason))")
            }
        }
        let attempts = maxAttempts == 1 ? "1 attempt" : "\(maxAttempts) attempts"
        throw ImgfnError(.storeUnavailable, "\(what): store unavailable after \(attempts): \(reason)")
    }
}
