import AsyncHTTPClient
import ImgfnBase

/// Why one attempt of a request failed, and whether another attempt may succeed.
enum S3AttemptFailure: Error {
    /// Worth retrying; the text says what happened, for the error after the last attempt.
    case transient(String)
    /// Final: thrown as is, never retried.
    case permanent(ImgfnError)

    /// S3 error codes that mean "try again later", whatever the HTTP status.
    static let retryableCodes: Set<String> = [
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling",
        "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
        // SQS answers these with HTTP 400
        "RequestThrottled", "KmsThrottled", "AWS.SimpleQueueService.RequestThrottled",
    ]
    static let notFoundCodes: Set<String> = [
        "NoSuchKey", "NoSuchBucket", "NoSuchVersion",
        // SQS and EventBridge (JSON protocol `__type`s)
        "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "ResourceNotFoundException",
    ]
    static let accessDeniedCodes: Set<String> = [
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
        "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
    ]

    /// The failure for an HTTP error response.
    ///
    /// - Parameters:
    ///   - what: the request, e.g. `GET s3://bucket/key`, to start the message with.
    ///   - permanentCode: the code for errors that are neither not-found, access-denied nor
    ///     transient: `.inputUnreadable` for reads, `.outputUnwritable` for writes.
    ///   - bucketRegion: S3's `x-amz-bucket-region` header, named in the message when given.
    static func forResponse(
        status: Int, error: S3ErrorResponse, what: String, permanentCode: ImgfnError.Code,
        bucketRegion: String? = nil
    ) -> S3AttemptFailure {
        var detail = "HTTP \(status)" + (error.code.map { " \($0)" } ?? "") + (error.message.map { ": \($0)" } ?? "")
        if let bucketRegion, !bucketRegion.isEmpty {
            detail += " (the bucket is in \(bucketRegion))"
        }
        let code = error.code ?? ""
        if notFoundCodes.contains(code) || (status == 404 && !retryableCodes.contains(code)) {
            let thing = code == "NoSuchBucket" ? "no such bucket" : "no such object"
            return .permanent(ImgfnError(.notFound, "\(what): \(thing) (\(detail))"))
        }
        if accessDeniedCodes.contains(code) || (status == 401 || status == 403) && !retryableCodes.contains(code) {
            return .permanent(ImgfnError(.accessDenied, "\(what): access denied (\(detail))"))
        }
        if retryableCodes.contains(code) || status == 429 || (status >= 500 && status != 501) {
            return .transient(detail)
        }
        return .permanent(ImgfnError(permanentCode, "\(what): \(detail)"))
    }

    /// The failure for an error thrown while sending or receiving: connection refused or reset,
    /// timeouts and the like are transient; cancellation and malformed requests are not.
    static func forTransportError(_ error: any Error, what: String) -> S3AttemptFailure {
        if error is CancellationError {
            return .permanent(ImgfnError(.storeUnavailable, "\(what): cancelled"))
        }
        if let error = error as? HTTPClientError {
            if error == .cancelled {
                return .permanent(ImgfnError(.storeUnavailable, "\(what): cancelled"))
            }
            if error == .invalidURL || error == .emptyHost || error == .emptyScheme {
                return .permanent(ImgfnError(.invalidOptions, "\(what): invalid request URL (\(error))"))
            }
        }
        return .transient(oneLine(String(describing: error)))
    }

    static func oneLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300))
    }
}
