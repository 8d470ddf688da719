/// The trace of the work in progress: set by a shell around each unit of work (the Lambda
/// bootstrap per invocation, from `Lambda-Runtime-Trace-Id`), read by the stores that pass it
/// on (S3 requests carry it as `X-Amzn-Trace-Id`, which Lambda's recursive-loop detection
/// needs). A task-local value, so concurrent work never sees another's trace.
public enum TraceContext {
    /// The AWS X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`), or nil outside a trace.
    @TaskLocal public static var traceID: String?

    /// `traceID` when it is fit for a header: non-empty and one line.
    public static var headerValue: String? {
        guard let traceID, !traceID.isEmpty, !traceID.contains(where: \.isNewline) else { return nil }
        return traceID
    }
}
