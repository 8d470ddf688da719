import ImagePipeline
import ImageRequests
import ImageService
import ImgfnBase
import NIOCore
import ServiceWiring

/// What to post for an invocation.
enum InvocationResult: Sendable {
    /// `POST …/response` with this body.
    case response([UInt8])
    /// `POST …/response` in streaming mode: an HTTP event's prelude, then its body.
    case stream(prelude: [UInt8], body: [UInt8])
    /// `POST …/error` with this error.
    case failure(FunctionError)
}

/// Routes one invocation by its event shape through the core `Handler` and shapes the result
/// for Lambda: SQS batches answer with the partial batch response; S3 Batch Operations with a
/// result per task (`BatchOperationsResponse`); direct S3 notifications and
/// EventBridge events with a summary (or an error when a record failed transiently, so
/// Lambda's asynchronous retries run it again); payloads of no known shape are invocation
/// errors (`Runtime.InvalidEvent`), never crashes.
struct FunctionHandler: Sendable {
    let handler: Handler
    /// HTTP events (API Gateway HTTP API, Function URL): the handler `imgfn serve` runs.
    let requests: RequestHandler
    let configuration: FunctionConfiguration

    /// Does everything expensive once, before the first invocation: reads the environment,
    /// starts libvips, parses and validates the pipeline configuration, makes the stores.
    /// - Throws: `.invalidConfiguration` (environment, pipeline configuration, S3 settings) or
    ///   `.startupFailed` (libvips).
    static func start(environment: [String: String]) throws(FunctionError) -> FunctionHandler {
        let configuration = try FunctionConfiguration(environment: environment)
        VipsRuntime.configure(VipsRuntime.Settings(environment: environment))
        do {
            try VipsRuntime.start()
        } catch {
            throw FunctionError(startup: error, subject: "libvips")
        }
        let pipeline = try configuration.loadPipeline()
        let store = try configuration.makeStores(environment: environment)
        var handler = Handler(pipeline: pipeline, store: store)
        if let url = configuration.queueURL {
            do {
                handler.queue = try QueueFactory.make(
                    url: url, region: configuration.s3.region, environment: environment)
            } catch {
                throw FunctionError(.invalidConfiguration, "IMGFN_QUEUE_URL: \(error.message)", underlying: error)
            }
        }
        if let bus = configuration.eventBus {
            do {
                handler.events = try EventBusFactory.make(
                    name: bus, endpoint: configuration.eventsEndpoint, region: configuration.s3.region,
                    environment: environment)
            } catch {
                throw FunctionError(.invalidConfiguration, "IMGFN_EVENT_BUS: \(error.message)", underlying: error)
            }
        }
        handler.reconcile.pagesPerStep = configuration.reconcilePages
        let requests = RequestHandler(pipeline: pipeline, stores: store, settings: configuration.requests)
        return FunctionHandler(handler: handler, requests: requests, configuration: configuration)
    }

    /// Handles `invocation`; logs one line per record and the invocation's metrics.
    func handle(_ invocation: Invocation, coldStart: Bool, logger: Logger) async -> InvocationResult {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = Deadline(
            deadlineMilliseconds: invocation.deadlineMilliseconds,
            configuredMargin: configuration.deadlineMarginMilliseconds)
        var metrics = InvocationMetrics(coldStart: coldStart)
        defer {
            metrics.totalMilliseconds = (clock.now - start).milliseconds
            logger.emit(
                metrics.embeddedMetricFormat(
                    functionName: configuration.functionName, requestId: invocation.requestId,
                    timestamp: Timestamp.nowMilliseconds()))
        }
        logger.debug(
            "invocation received",
            [
                "bytes": .int(invocation.payload.readableBytes),
                "remainingMs": deadline.remainingMilliseconds().map { .int(Int($0)) },
                "deadlineMarginMs": .int(Int(deadline.marginMilliseconds)),
                "functionArn": invocation.invokedFunctionArn.map { .string($0) },
                "traceId": invocation.traceId.map { .string($0) },
            ])

        if case (var request, let origin)? = LambdaHTTPEvent.decode(invocation.payload.readableBytesView) {
            // A render stops (504) in time to answer, instead of the invocation timing out.
            if let left = deadline.remainingMilliseconds() {
                request.deadline = clock.now + .milliseconds(left - deadline.marginMilliseconds)
            }
            let (result, response) = await handle(request, origin: origin, logger: logger)
            metrics.http = (response.status, response.header("X-Imgfn-Result"))
            metrics.bytesOut = response.body.count
            if response.status >= 500 { metrics.failures = 1 }
            return result
        }
        let event: DecodedEvent
        do {
            event = try EventDecoder.decode(invocation.payload.readableBytesView)
        } catch {
            metrics.failures = 1
            logger.error(
                "invalid event",
                ["outcome": "failed", "code": .string("\(error.code)"), "reason": .string(error.message)])
            return .failure(FunctionError(.invalidEvent, error.message, underlying: error))
        }

        // Encodes must leave the margin free for storing and answering (EncodeBudget). A set
        // still being made when a quarter of the margin is left (time to stop libvips and
        // answer) is stopped and reported for retry: the invocation answers in time, with its
        // other records' results, instead of timing out.
        let budget = deadline.deadlineMilliseconds.map { _ in
            EncodeBudget(
                cpus: configuration.cpus,
                timeLeft: {
                    .milliseconds(Int(max(0, (deadline.remainingMilliseconds() ?? 0) - deadline.marginMilliseconds)))
                },
                stopLeft: {
                    .milliseconds(
                        Int(max(0, (deadline.remainingMilliseconds() ?? 0) - deadline.marginMilliseconds / 4)))
                })
        }
        let results = await handler.handle(event, shouldContinue: { deadline.allowsNewWork() }, budget: budget)
        metrics.add(results)
        for result in results { log(result, logger: logger) }
        let summary = InvocationSummary(source: event.source, results: results)
        logger.info(
            "invocation done",
            [
                "source": .string(event.source.rawValue), "records": .int(summary.records), "ok": .int(summary.ok),
                "skipped": .int(summary.skipped), "failed": .int(summary.failed),
                "transientFailures": .int(summary.transientFailures),
                "derivativesWritten": .int(summary.derivativesWritten),
                "totalMs": .double((clock.now - start).milliseconds),
                "remainingMs": deadline.remainingMilliseconds().map { .int(Int($0)) },
            ])

        switch event.source {
        case .sqs:
            return .response(BatchResponse(results).jsonBytes())
        case .s3Batch:
            guard let job = event.batchJob else {
                return .failure(FunctionError(.invalidEvent, "S3 Batch Operations invocation without its job"))
            }
            return .response(BatchOperationsResponse(job: job, results: results).jsonBytes())
        case .s3, .eventBridge, .reconcile:
            if let first = results.first(where: \.isTransientFailure) {
                let subject = first.key.map { "\(first.bucket ?? "")/\($0)" } ?? first.messageId ?? "a record"
                let reason = if case .failed(_, _, let reason) = first.outcome { reason } else { "" }
                return .failure(
                    FunctionError(
                        .transientFailure,
                        "\(summary.transientFailures) of \(summary.records) records failed transiently; "
                            + "first: \(subject): \(reason)"))
            }
            return .response(summary.jsonBytes())
        }
    }

    /// An HTTP event: the request handler's answer, streamed to a Function URL (unless
    /// `IMGFN_FUNCTION_URL_STREAMING=0`), buffered to API Gateway; one log line.
    private func handle(_ request: HTTPRequest, origin: LambdaHTTPEvent.Origin, logger: Logger) async
        -> (InvocationResult, HTTPResponse)
    {
        let clock = ContinuousClock()
        let start = clock.now
        let response =
            if case .s3(nil) = configuration.store, configuration.requests.bucket == nil {
                HTTPResponse.error(
                    500,
                    "this function serves no bucket: set IMGFN_SERVE_BUCKET (IMGFN_STORE is s3://, every event's own)")
            } else {
                await requests.handle(request)
            }
        let streaming = origin == .functionURL && configuration.functionURLStreaming
        let reason = response.status >= 400 ? String(decoding: response.body.prefix(300), as: UTF8.self) : nil
        logger.info(
            "http request",
            [
                "origin": .string(origin.rawValue), "method": .string(request.method), "path": .string(request.path),
                "status": .int(response.status), "bytes": .int(response.body.count),
                "result": response.header("X-Imgfn-Result").map { .string($0) },
                "reason": reason.map { .string($0.hasSuffix("\n") ? String($0.dropLast()) : $0) },
                "streamed": .bool(streaming), "durationMs": .double((clock.now - start).milliseconds),
            ])
        if streaming {
            let (prelude, body) = LambdaHTTPEvent.streamedResponse(response, method: request.method)
            return (.stream(prelude: prelude, body: body), response)
        }
        return (.response(LambdaHTTPEvent.bufferedResponse(response, method: request.method)), response)
    }

    /// One line per record: INFO when done or skipped, WARN when it will be retried, ERROR when
    /// it failed for good.
    private func log(_ result: RecordResult, logger: Logger) {
        let metrics = result.metrics
        let milliseconds =
            metrics.fetchMilliseconds + metrics.decodeMilliseconds + metrics.deriveMilliseconds
            + metrics.encodeMilliseconds
            + metrics.storeMilliseconds
        let common: (bucket: LogValue?, key: LogValue?, messageId: LogValue?) = (
            result.bucket.map { .string($0) }, result.key.map { .string($0) }, result.messageId.map { .string($0) }
        )
        switch result.outcome {
        case .ok(let files, let manifestKey, let omitted, let removed):
            logger.info(
                "record done",
                [
                    "outcome": "ok", "bucket": common.bucket, "key": common.key, "messageId": common.messageId,
                    "files": .int(files), "manifestKey": .string(manifestKey), "bytesIn": .int(metrics.bytesIn),
                    "bytesOut": .int(metrics.bytesOut), "durationMs": .double(milliseconds),
                    "omitted": omitted.isEmpty ? nil : .string(omitted.joined(separator: "; ")),
                    "removedStale": removed == 0 ? nil : .int(removed),
                ])
        case .removed(let files, let manifestKey):
            logger.info(
                "record removed",
                [
                    "outcome": "removed", "bucket": common.bucket, "key": common.key, "messageId": common.messageId,
                    "files": .int(files), "manifestKey": manifestKey.map { .string($0) },
                    "durationMs": .double(milliseconds),
                ])
        case .reconciled(let sweep, let step, let listed, let enqueued, let finished):
            logger.info(
                "reconcile step done",
                [
                    "outcome": "reconciled", "bucket": common.bucket, "messageId": common.messageId,
                    "sweep": .string(sweep), "step": .int(step), "listed": .int(listed), "enqueued": .int(enqueued),
                    "finished": .bool(finished),
                ])
        case .skipped(let reason):
            logger.info(
                "record skipped",
                [
                    "outcome": "skipped", "bucket": common.bucket, "key": common.key, "messageId": common.messageId,
                    "reason": .string(reason),
                ])
        case .failed(let transient, let code, let reason):
            logger.log(
                transient ? .warn : .error, transient ? "record failed, will be retried" : "record failed",
                [
                    "outcome": "failed", "transient": .bool(transient), "bucket": common.bucket, "key": common.key,
                    "messageId": common.messageId, "code": .string("\(code)"), "reason": .string(reason),
                ])
        }
    }
}
