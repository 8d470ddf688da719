import NIOCore
import NIOHTTP1

/// One event to handle, as `/runtime/invocation/next` delivered it.
struct Invocation: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id`: names the invocation in the response or error.
    var requestId: String
    /// `Lambda-Runtime-Deadline-Ms`: when Lambda stops the invocation, in ms since the epoch.
    var deadlineMilliseconds: Int64?
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    var invokedFunctionArn: String?
    /// `Lambda-Runtime-Trace-Id`: becomes `_X_AMZN_TRACE_ID` for the invocation.
    var traceId: String?
    /// The event.
    var payload: ByteBuffer

    /// Reads the invocation from a `/next` response.
    /// - Throws: `.runtimeAPIUnavailable` when the request ID is missing.
    init(headers: HTTPHeaders, body: ByteBuffer) throws(FunctionError) {
        guard let requestId = headers.first(name: "Lambda-Runtime-Aws-Request-Id"), !requestId.isEmpty else {
            throw FunctionError(
                .runtimeAPIUnavailable, "the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id")
        }
        self.requestId = requestId
        self.deadlineMilliseconds = headers.first(name: "Lambda-Runtime-Deadline-Ms").flatMap { Int64($0) }
        self.invokedFunctionArn = headers.first(name: "Lambda-Runtime-Invoked-Function-Arn")
        self.traceId = headers.first(name: "Lambda-Runtime-Trace-Id")
        self.payload = body
    }

    init(requestId: String, deadlineMilliseconds: Int64?, payload: ByteBuffer) {
        self.requestId = requestId
        self.deadlineMilliseconds = deadlineMilliseconds
        self.payload = payload
    }
}
