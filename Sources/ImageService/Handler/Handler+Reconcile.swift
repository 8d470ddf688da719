import FoundationEssentials
import ImagePipeline
import ImgfnBase

extension Handler {
    /// One step of a scheduled reconcile: lists `reconcile.pagesPerStep` pages of the bucket's
    /// source prefix from where the last step ended, sends each stale source to `queue` (the
    /// function's own, as the message S3 would send), then sends the next step's message, then
    /// records the sweep's state. A bucket of any size is swept a bounded page per invocation,
    /// and the queue's own retries carry the sweep through faults. Never throws.
    ///
    /// Single sweeps (`SweepState`): a start while a sweep is running and has moved within
    /// `staleAfter` is skipped; a step that is not the one the state expects (a duplicated
    /// message, a step of an abandoned sweep) is skipped. A step that fails transiently is
    /// retried by SQS; its stale sources may then be sent twice, which costs a skipped record.
    /// `shouldContinue` (the invocation's deadline) is asked after each page: a step that runs
    /// short of time ends early and hands the rest to the next step.
    public func handle(_ request: ReconcileRequest, shouldContinue: @Sendable () -> Bool = { true }) async
        -> RecordResult
    {
        func result(_ outcome: RecordResult.Outcome) -> RecordResult {
            RecordResult(messageId: nil, bucket: request.bucket, key: nil, outcome: outcome, metrics: .init())
        }
        guard let queue else {
            return result(
                .failed(
                    transient: false, code: .invalidOptions,
                    reason: "a reconcile needs the function's queue: set IMGFN_QUEUE_URL"))
        }
        let config = pipeline.config
        let output = store(config.output.bucket ?? request.bucket)
        let stateKey = SweepState.key(bucket: request.bucket, output: config.output.prefix)
        let now = reconcile.now()
        do throws(ImgfnError) {
            let stored = try await SweepState.read(from: output, key: stateKey)
            var state: SweepState
            if request.isStart {
                if let stored, stored.running, now - stored.updated < reconcile.staleAfter.seconds {
                    return result(
                        .skipped(
                            reason:
                                "sweep \(stored.sweep) is running (step \(stored.step) expected, last step \(Int(now - stored.updated)) s ago)"
                        ))
                }
                state = SweepState(
                    sweep: UUID().uuidString.lowercased(), step: 0, running: true, started: now, updated: now,
                    configHash: pipeline.configHash)
            } else {
                if let stored, stored.running, stored.sweep == request.sweep, stored.step == request.step - 1 {
                    // Sent by a step that has not written its state yet: come back later.
                    return result(
                        .failed(
                            transient: true, code: .storeUnavailable,
                            reason: "step \(request.step) of sweep \(stored.sweep) came before its state; retried"))
                }
                guard let stored, stored.running, stored.sweep == request.sweep, stored.step == request.step else {
                    let expected = stored.map {
                        "sweep \($0.sweep) \($0.running ? "expects step \($0.step)" : "is done")"
                    }
                    return result(
                        .skipped(
                            reason:
                                "step \(request.step) of sweep \(request.sweep ?? "?") is not the expected one (\(expected ?? "no sweep state"))"
                        ))
                }
                state = stored
            }
            let bucket = request.bucket
            let backfill = Backfill(handler: self, bucket: bucket, jobs: 1, pageSize: reconcile.pageSize)
            let (tally, next) = try await backfill.run(
                .handOff { stale throws(ImgfnError) in
                    try await queue.send(stale.map { WorkMessage.body(bucket: bucket, object: $0.object) })
                }, startingAfter: request.continuation, maxPages: reconcile.pagesPerStep, shouldContinue: shouldContinue
            )
            state.listed += tally.listed
            state.stale += tally.staleTotal
            state.enqueued += tally.handedOff
            state.failed += tally.failed
            state.updated = now
            if let next {
                // The next step's message goes before the state: if the state cannot be written,
                // this step is retried and the duplicate next step is the one the state refuses.
                state.step += 1
                let following = ReconcileRequest(
                    bucket: bucket, sweep: state.sweep, step: state.step, continuation: next)
                try await queue.send([following.json])
            } else {
                state.running = false
            }
            try await state.write(to: output, key: stateKey)
            return result(
                .reconciled(
                    sweep: state.sweep, step: request.step, listed: tally.listed, enqueued: tally.handedOff,
                    finished: next == nil))
        } catch {
            return result(.failed(transient: error.code.isTransient, code: error.code, reason: error.message))
        }
    }
}

extension ReconcileRequest {
    /// The request as the JSON event the function decodes.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
