/// Bounds the renders running at once and the requests waiting for one: a request beyond both
/// is turned away at once (503 with `Retry-After`), one that waited longer than its timeout
/// too. What a render holds (a decoded source, its output) is bounded by the decode limits, so
/// memory is bounded by `running` renders whatever the offered load.
actor AdmissionGate {
    let running: Int
    let waiting: Int
    private var active = 0
    private var queue: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextId = 0

    init(running: Int, waiting: Int) {
        self.running = max(1, running)
        self.waiting = max(0, waiting)
    }

    /// What `enter` answered.
    enum Admission { case admitted, queueFull, timedOut }

    /// Waits for a place, at most `timeout`. After `.admitted` the caller must `leave()`.
    func enter(timeout: Duration) async -> Admission {
        if active < running {
            active += 1
            return .admitted
        }
        guard queue.count < waiting else { return .queueFull }
        let id = nextId
        nextId += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        let admitted = await withCheckedContinuation { continuation in
            queue.append((id, continuation))
        }
        timer.cancel()
        return admitted ? .admitted : .timedOut
    }

    /// Gives the place to the longest waiting request, or frees it.
    func leave() {
        if queue.isEmpty {
            active -= 1
        } else {
            queue.removeFirst().continuation.resume(returning: true)
        }
    }

    /// Requests running and waiting now (for /health and the metrics).
    var load: (running: Int, waiting: Int) { (active, queue.count) }

    private func expire(_ id: Int) {
        guard let index = queue.firstIndex(where: { $0.id == id }) else { return }
        queue.remove(at: index).continuation.resume(returning: false)
    }
}
