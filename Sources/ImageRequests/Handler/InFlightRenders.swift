import Synchronization

/// Renders being made, by the ETag of their answer. A request for an answer that is already
/// being rendered waits for that render instead of making its own: a CDN's cache misses for a
/// new image arrive together, and each would otherwise decode the same source (and take a render
/// slot, or be turned away when they run out).
final class InFlightRenders<Outcome: Sendable>: Sendable {
    private let renders = Mutex<[String: Task<Outcome, Never>]>([:])

    /// The outcome of `body` for `key`, run once however many requests ask for it meanwhile;
    /// `joined` is true for the requests that waited for another's render.
    func run(_ key: String, _ body: @escaping @Sendable () async -> Outcome) async -> (outcome: Outcome, joined: Bool) {
        let (task, joined) = renders.withLock { renders in
            if let running = renders[key] { return (running, true) }
            let task = Task { await body() }
            renders[key] = task
            return (task, false)
        }
        let outcome = await task.value
        if !joined { _ = renders.withLock { $0.removeValue(forKey: key) } }
        return (outcome, joined)
    }
}
