import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import Synchronization
import TestSupport
import Testing

/// The scheduled reconcile on the filesystem store with a collecting queue: a bounded page per
/// step, the next step carried by the queue, and never two sweeps or a step run twice.
@Suite struct ReconcileTests {
    typealias Bucket = HandlerTests.Bucket

    final class Clock: Sendable {
        let seconds = Mutex(1_000_000.0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    func handler(_ bucket: Bucket, queue: CollectingQueue?, clock: Clock) -> Handler {
        let store = bucket.store
        var handler = Handler(pipeline: HandlerTests.smallSet) { _ in store }
        handler.queue = queue
        handler.reconcile = ReconcileSettings(pagesPerStep: 1, pageSize: 2, staleAfter: .seconds(600)) {
            clock.seconds.withLock { $0 }
        }
        return handler
    }

    static func sources(_ count: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { ("uploads/\($0).jpg", "orientation/orientation-1.jpg") })
    }

    static let start = #"{"imgfn": "reconcile", "bucket": "photos"}"#

    /// Sorts what the queue received into work (the keys sent) and the next steps' messages.
    func split(_ bodies: [String]) throws -> (work: [String], steps: [String]) {
        var work: [String] = []
        var steps: [String] = []
        for body in bodies {
            let event = try EventDecoder.decode(Array(EventSamples.sqs([body]).utf8))
            switch event.records.first?.content {
            case .created(let object): work.append(object.key)
            case .reconcile: steps.append(body)
            default: Issue.record("unexpected message \(body)")
            }
        }
        return (work, steps)
    }

    @Test func aSweepGoesAPageAtATimeAndSendsEachStaleSourceOnce() async throws {
        let bucket = try Bucket(Self.sources(5))
        let queue = CollectingQueue()
        let clock = Clock()
        let handler = handler(bucket, queue: queue, clock: clock)
        let first = await handler.handle(try EventDecoder.decode(Array(Self.start.utf8)))
        guard case .reconciled(let sweep, 0, 2, 2, false) = try #require(first.first).outcome else {
            Issue.record("\(first)")
            return
        }
        var (work, steps) = try split(queue.drain())
        #expect(work == ["uploads/0.jpg", "uploads/1.jpg"] && steps.count == 1)

        // The schedule fires again meanwhile: the running sweep is left alone.
        clock.advance(60)
        let again = await handler.handle(try EventDecoder.decode(Array(Self.start.utf8)))
        #expect(
            again.first?.outcome == .skipped(reason: "sweep \(sweep) is running (step 1 expected, last step 60 s ago)"))

        var step = steps[0]
        var finished = false
        while !finished {
            let results = await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs([step]).utf8)))
            guard case .reconciled(sweep, _, _, _, let done) = try #require(results.first).outcome else {
                Issue.record("\(results)")
                return
            }
            finished = done
            // A duplicate delivery of the same step does nothing.
            let duplicate = await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs([step]).utf8)))
            guard case .skipped = try #require(duplicate.first).outcome else {
                Issue.record("a duplicated step ran again: \(duplicate)")
                return
            }
            let (more, next) = try split(queue.drain())
            work += more
            #expect(next.count == (done ? 0 : 1))
            step = next.first ?? ""
        }
        #expect(work == (0..<5).map { "uploads/\($0).jpg" })
        let state = try #require(
            try await SweepState.read(from: bucket.store, key: "derived/_reconcile/photos.json"))
        #expect(state.sweep == sweep && !state.running && state.listed == 5 && state.enqueued == 5)

        // The work done, the next sweep finds nothing to send.
        let derived = await handler.handle(
            try EventDecoder.decode(
                Array(
                    EventSamples.sqs(
                        work.map {
                            EventSamples.make(.s3Put, bucket: "photos", key: $0, size: 1000)
                        }
                    ).utf8)))
        #expect(derived.allSatisfy { if case .ok = $0.outcome { true } else { false } })
        _ = await handler.handle(try EventDecoder.decode(Array(Self.start.utf8)))
        var sent = try split(queue.drain())
        while let next = sent.steps.first {
            #expect(sent.work.isEmpty)
            _ = await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs([next]).utf8)))
            sent = try split(queue.drain())
        }
        #expect(sent.work.isEmpty)
    }

    @Test func aSweepThatStoppedMovingIsReplacedAndItsStepsAreRefused() async throws {
        let bucket = try Bucket(Self.sources(3))
        let queue = CollectingQueue()
        let clock = Clock()
        let handler = handler(bucket, queue: queue, clock: clock)
        _ = await handler.handle(try EventDecoder.decode(Array(Self.start.utf8)))
        let oldStep = try split(queue.drain()).steps[0]
        clock.advance(601)
        let restart = await handler.handle(try EventDecoder.decode(Array(Self.start.utf8)))
        guard case .reconciled(_, 0, 2, 2, false) = try #require(restart.first).outcome else {
            Issue.record("\(restart)")
            return
        }
        let late = await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs([oldStep]).utf8)))
        guard case .skipped(let reason) = try #require(late.first).outcome else {
            Issue.record("\(late)")
            return
        }
        #expect(reason.contains("is not the expected one"))
    }

    /// SQS may deliver the next step before the step that sent it has written its state: that
    /// step is retried, not dropped (dropping it would end the sweep).
    @Test func aStepThatOvertakesItsStateIsRetried() async throws {
        let bucket = try Bucket(Self.sources(5))
        let queue = CollectingQueue()
        let handler = handler(bucket, queue: queue, clock: Clock())
        let start = await handler.handle(try EventDecoder.decode(Array(Self.start.utf8)))
        guard case .reconciled(let sweep, _, _, _, _) = try #require(start.first).outcome else { return }
        let early = ReconcileRequest(bucket: "photos", sweep: sweep, step: 2, continuation: "uploads/3.jpg")
        let results = await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs([early.json]).utf8)))
        #expect(results.first?.isTransientFailure == true, "\(results)")
        let later = ReconcileRequest(bucket: "photos", sweep: sweep, step: 3, continuation: "uploads/3.jpg")
        let skipped = await handler.handle(try EventDecoder.decode(Array(EventSamples.sqs([later.json]).utf8)))
        guard case .skipped = try #require(skipped.first).outcome else {
            Issue.record("a step two ahead of the state must be dropped: \(skipped)")
            return
        }
    }

    @Test func aStepNearTheDeadlineStopsAfterItsFirstPage() async throws {
        let bucket = try Bucket(Self.sources(5))
        let queue = CollectingQueue()
        var handler = handler(bucket, queue: queue, clock: Clock())
        handler.reconcile.pagesPerStep = 3
        // Time for the record to start, none after its first page.
        let asked = Mutex(0)
        let results = await handler.handle(
            try EventDecoder.decode(Array(Self.start.utf8)),
            shouldContinue: {
                asked.withLock { count in
                    defer { count += 1 }
                    return count == 0
                }
            })
        guard case .reconciled(_, 0, 2, 2, false) = try #require(results.first).outcome else {
            Issue.record("\(results)")
            return
        }
        #expect(try split(queue.drain()).steps.count == 1, "the rest goes to the next step")
    }

    @Test func aReconcileWithoutAQueueOrWithAFailingOneSaysSo() async throws {
        let bucket = try Bucket(Self.sources(1))
        let none = await handler(bucket, queue: nil, clock: Clock()).handle(
            try EventDecoder.decode(Array(Self.start.utf8)))
        #expect(
            none.first?.outcome
                == .failed(
                    transient: false, code: .invalidOptions,
                    reason: "a reconcile needs the function's queue: set IMGFN_QUEUE_URL"))
        let queue = CollectingQueue()
        queue.failing.withLock { $0 = ImgfnError(.storeUnavailable, "queue down") }
        let down = await handler(bucket, queue: queue, clock: Clock()).handle(
            try EventDecoder.decode(Array(Self.start.utf8)))
        #expect(down.first?.isTransientFailure == true)
        #expect(try await SweepState.read(from: bucket.store, key: "derived/_reconcile/photos.json") == nil)
    }

    @Test(arguments: [
        (#"{"imgfn": "reconcile"}"#, "reconcile event lacks \"bucket\""),
        (#"{"imgfn": "reconcile", "bucket": "b", "step": 2}"#, "a sweep's steps count from 1"),
        (#"{"imgfn": "resize", "bucket": "b"}"#, "is not \"reconcile\""),
    ])
    func malformedReconcileEventsAreRefused(_ payload: String, _ message: String) {
        let error = #expect(throws: ImgfnError.self) { try EventDecoder.decode(Array(payload.utf8)) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }
}
