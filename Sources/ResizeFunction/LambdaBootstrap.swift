import FoundationEssentials
import ImagePipeline
import ImgfnBase
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The custom runtime's life: start up once, then ask for invocations, handle and answer
/// them, forever. Lambda freezes the process between invocations and ends it when it likes.
enum LambdaBootstrap {
    /// Exits 1 when start-up fails (after reporting `/runtime/init/error`) or when the Runtime
    /// API goes away.
    static func run() async -> Never {
        let clock = ContinuousClock()
        let started = clock.now
        let environment = ProcessInfo.processInfo.environment
        let logConfiguration = LogConfiguration(environment: environment)
        let logger = Logger(logConfiguration)
        for problem in logConfiguration.problems { logger.warn(problem) }

        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"], !endpoint.isEmpty else {
            logger.fatal("AWS_LAMBDA_RUNTIME_API is not set: this program runs under AWS Lambda or its emulator")
            exit(1)
        }
        let client: RuntimeAPIClient
        do {
            client = try RuntimeAPIClient(endpoint: endpoint)
        } catch {
            logger.fatal(
                "cannot use the Runtime API", ["errorType": .string(error.errorType), "reason": .string(error.message)])
            exit(1)
        }

        let function: FunctionHandler
        do {
            function = try FunctionHandler.start(environment: environment)
        } catch {
            logger.fatal("start-up failed", ["errorType": .string(error.errorType), "reason": .string(error.message)])
            do {
                try await client.reportInitError(error)
            } catch {
                logger.error("cannot report the start-up failure", ["reason": .string(error.message)])
            }
            await client.close()
            exit(1)
        }
        logger.info(
            "ready",
            [
                "initMs": .double((clock.now - started).milliseconds),
                "store": .string("\(function.configuration.store)"),
                "configHash": .string(function.handler.pipeline.configHash),
                "derivatives": .int(function.handler.pipeline.config.derivatives.count),
                "deadlineMarginMs": function.configuration.deadlineMarginMilliseconds.map { .int($0) },
                "faultInjection": function.configuration.injectsFaults ? .bool(true) : nil,
            ])

        var coldStart = true
        while true {
            let invocation: Invocation
            do {
                invocation = try await client.next()
            } catch {
                logger.fatal(
                    "no next invocation", ["errorType": .string(error.errorType), "reason": .string(error.message)])
                exit(1)
            }
            // The custom-runtime contract: _X_AMZN_TRACE_ID holds the invocation's trace (for any
            // X-Ray-aware code in the process). Our stores take it from TraceContext, passed down
            // with the work: S3 requests forward it as X-Amzn-Trace-Id.
            if let traceId = invocation.traceId {
                setenv("_X_AMZN_TRACE_ID", traceId, 1)
            } else {
                unsetenv("_X_AMZN_TRACE_ID")
            }
            var invocationLogger = logger
            invocationLogger.requestId = invocation.requestId
            let result = await TraceContext.$traceID.withValue(invocation.traceId) {
                await function.handle(invocation, coldStart: coldStart, logger: invocationLogger)
            }
            coldStart = false
            do {
                switch result {
                case .response(let body):
                    try await client.respond(to: invocation.requestId, body: ByteBuffer(bytes: body))
                case .stream(let prelude, let body):
                    try await client.respondStreaming(to: invocation.requestId, prelude: prelude, body: body)
                case .failure(let error):
                    try await client.reportError(error, requestId: invocation.requestId)
                }
            } catch {
                invocationLogger.error("cannot post the invocation's result", ["reason": .string(error.message)])
            }
            // After the answer, before the environment may be frozen: what the invocation freed
            // goes back to the system, so a warm function's idle RSS does not creep up.
            VipsRuntime.releaseFreeMemory()
        }
    }
}
