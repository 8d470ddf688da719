import ImagePipeline
import ImgfnBase

/// Brings a bucket's derivatives up to date with its sources: lists the source prefix page by
/// page, compares each source with its manifest (`SourceComparer`, HEAD only) and hands what is
/// stale to the handler — or hands each page's stale sources on (`Work.handOff`: to a queue, a
/// Batch Operations manifest, a dry run's report).
///
/// Work is idempotent and finished objects are recorded by their manifests, so an interrupted
/// run (a `kill -9`) is resumed by running again: what was finished compares as current, what
/// was cut short is done again. A run after completion makes no write.
public struct Backfill: Sendable {
    public let handler: Handler
    /// The bucket the sources are in (the handler's store serves it).
    public let bucket: String
    /// HEADs in flight at once while comparing.
    public var comparisons: Int
    /// Sources derived at once.
    public var jobs: Int
    /// Objects per listing page (S3's maximum is 1000).
    public var pageSize: Int

    public init(handler: Handler, bucket: String, jobs: Int, comparisons: Int = 32, pageSize: Int = 1000) {
        self.handler = handler
        self.bucket = bucket
        self.jobs = max(1, jobs)
        self.comparisons = max(1, comparisons)
        self.pageSize = max(1, min(pageSize, 1000))
    }

    /// What is done with stale sources.
    public enum Work: Sendable {
        /// The handler derives them here, `jobs` at once.
        case derive
        /// Each page's stale sources, in listing order, go to the closure (not called for a
        /// page without any); a throw ends the run with that error.
        case handOff(@Sendable ([(object: ObjectInfo, staleness: Staleness)]) async throws(ImgfnError) -> Void)
    }

    /// What a run found and did.
    public struct Tally: Sendable, Equatable, Codable {
        /// Objects listed under the source prefix.
        public var listed = 0
        /// Listed objects that are not inputs (another suffix, under the output prefix).
        public var notInputs = 0
        public var upToDate = 0
        /// Sources with a failure record for their current bytes and configuration (not retried).
        public var failedBefore = 0
        /// Stale sources by reason (`Staleness` raw values).
        public var stale: [String: Int] = [:]
        /// Stale sources whose set was written (or whose leftover cleanup was finished).
        public var derived = 0
        /// Stale sources the handler skipped after all (made by imgfn, or done by someone else
        /// since the comparison).
        public var skipped = 0
        /// Sources that could not be compared or derived; `transient` of them may pass on a rerun.
        public var failed = 0
        public var transient = 0
        /// Stale sources handed on (`Work.handOff`).
        public var handedOff = 0

        public init() {}

        public var staleTotal: Int { stale.values.reduce(0, +) }

        mutating func add(_ result: RecordResult) {
            switch result.outcome {
            case .ok, .removed, .reconciled: derived += 1
            case .skipped: skipped += 1
            case .failed(let isTransient, _, _):
                failed += 1
                if isTransient { transient += 1 }
            }
        }
    }

    /// What `run` reports as it goes.
    public enum Progress: Sendable {
        /// A stale source, in listing order.
        case stale(ObjectInfo, Staleness)
        /// The handler's result for a stale source (deriving), in completion order; a source
        /// that could not even be compared comes here too, with `staleness` nil.
        case handled(ObjectInfo, Staleness?, RecordResult)
        /// A page is done; the tally so far.
        case page(Tally)
    }

    /// Runs from the start of the listing (or after `continuation`) until the end, after
    /// `maxPages` pages, or when `shouldContinue` (asked after each page) says stop; returns the tally and where the next run would start (nil at the end).
    /// - Throws: when listing fails (after the store's retries) or the hand-off throws;
    ///   per-source problems are results.
    public func run(
        _ work: Work, startingAfter continuation: String? = nil, maxPages: Int? = nil,
        shouldContinue: @Sendable () -> Bool = { true },
        progress: @escaping @Sendable (Progress) async -> Void = { _ in }
    ) async throws(ImgfnError) -> (tally: Tally, continuation: String?) {
        let config = handler.pipeline.config
        let source = handler.store(bucket)
        let comparer = SourceComparer(pipeline: handler.pipeline, output: handler.store(config.output.bucket ?? bucket))
        var tally = Tally()
        var next = continuation
        var pages = 0
        repeat {
            let page = try await source.list(prefix: config.source.prefix, continuation: next, limit: pageSize)
            next = page.continuation
            pages += 1
            tally.listed += page.objects.count
            let inputs = page.objects.filter { handler.filterReason(bucket: bucket, key: $0.key) == nil }
            tally.notInputs += page.objects.count - inputs.count
            let states = await Self.map(inputs, limit: comparisons) { object -> Result<SourceState, ImgfnError> in
                do throws(ImgfnError) { return .success(try await comparer.state(of: object)) } catch {
                    return .failure(error)
                }
            }
            var stale: [(ObjectInfo, Staleness)] = []
            for (object, state) in zip(inputs, states) {
                switch state {
                case .success(.current): tally.upToDate += 1
                case .success(.failedBefore): tally.failedBefore += 1
                case .success(.stale(let why)):
                    tally.stale[why.rawValue, default: 0] += 1
                    stale.append((object, why))
                    await progress(.stale(object, why))
                case .failure(let error):
                    let result = RecordResult(
                        messageId: nil, bucket: bucket, key: object.key,
                        outcome: .failed(transient: error.code.isTransient, code: error.code, reason: error.message),
                        metrics: .init())
                    tally.add(result)
                    await progress(.handled(object, nil, result))
                }
            }
            if !stale.isEmpty {
                switch work {
                case .derive:
                    let handler = handler
                    let bucket = bucket
                    let results = await Self.map(stale, limit: jobs) { item in
                        let (object, why) = item
                        let result = await handler.handle(
                            ObjectCreated(bucket: bucket, key: object.key, size: object.size, etag: object.etag))
                        await progress(.handled(object, why, result))
                        return result
                    }
                    for result in results { tally.add(result) }
                case .handOff(let handOff):
                    try await handOff(stale.map { (object: $0.0, staleness: $0.1) })
                    tally.handedOff += stale.count
                }
            }
            await progress(.page(tally))
        } while next != nil && (maxPages.map { pages < $0 } ?? true) && shouldContinue()
        return (tally, next)
    }

    /// `transform` of every item, at most `limit` at once; results in the items' order.
    static func map<Item: Sendable, T: Sendable>(
        _ items: [Item], limit: Int, _ transform: @escaping @Sendable (Item) async -> T
    ) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: items.count)
            var next = 0
            for _ in 0..<min(limit, items.count) {
                let index = next
                group.addTask { (index, await transform(items[index])) }
                next += 1
            }
            for await (index, result) in group {
                results[index] = result
                if next < items.count {
                    let index = next
                    group.addTask { (index, await transform(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
