/// When an invocation must stop starting records: the Lambda deadline minus a safety margin
/// that leaves time to post the result (and for the record in flight to finish).
struct Deadline: Sendable, Equatable {
    /// Milliseconds since the epoch; nil when the Runtime API sent none (no limit).
    var deadlineMilliseconds: Int64?
    var marginMilliseconds: Int64

    /// - Parameter configuredMargin: `IMGFN_DEADLINE_MARGIN_MS`; nil: max(2 s, 10 % of the time
    ///   left at `now`), but never more than half of it, so that a function with a timeout of
    ///   a few seconds still gets to work.
    init(deadlineMilliseconds: Int64?, configuredMargin: Int?, now: Int64 = Timestamp.nowMilliseconds()) {
        self.deadlineMilliseconds = deadlineMilliseconds
        if let configuredMargin {
            marginMilliseconds = Int64(configuredMargin)
        } else {
            let budget = deadlineMilliseconds.map { max(0, $0 - now) } ?? 0
            marginMilliseconds = min(max(2000, budget / 10), budget / 2)
        }
    }

    /// Milliseconds left before the deadline (negative when past), or nil without one.
    func remainingMilliseconds(now: Int64 = Timestamp.nowMilliseconds()) -> Int64? {
        deadlineMilliseconds.map { $0 - now }
    }

    /// True while more than the margin remains.
    func allowsNewWork(now: Int64 = Timestamp.nowMilliseconds()) -> Bool {
        guard let remaining = remainingMilliseconds(now: now) else { return true }
        return remaining > marginMilliseconds
    }
}
