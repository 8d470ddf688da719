// ImgfnBase — the base layer (README "Data flow"). What every other target shares and nothing
// heavy: the error type, `SourceBytes` (an encoded object in memory at a stable address),
// `AtomicFile`, the `BlobStore` protocol and its value types, duration units. It links neither
// libvips nor an HTTP client and reads no environment.

/// The one error type of every imgfn target: the imaging library, the service layer, the S3
/// client and the shells all throw it.
///
/// `code` says what kind of failure it is (shells map it to exit codes or failure classes);
/// `message` is one human line that names the reason, including libvips' own message when
/// libvips failed; `underlying` is the error it was made from, if any (a POSIX or HTTP client
/// error), for logs and debugging: two errors are equal when code and message are.
public struct ImgfnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. Compare with the static members (`.overLimit`, …).
    public struct Code: Hashable, Sendable, CustomStringConvertible, Codable {
        fileprivate enum Base: String, Hashable, Sendable {
            case emptyInput, unsupportedFormat, overLimit, overFormatLimit, corruptImage, encodeFailed
            case invalidOptions, invalidConfig, inputUnreadable, outputUnwritable, vipsUnavailable
            case notFound, accessDenied, storeUnavailable, invalidEvent, deadline, timedOut
        }
        fileprivate let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input has no bytes.
        public static let emptyInput = Code(.emptyInput)
        /// The bytes are not one of the accepted image formats (or their loader is blocked).
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// Bytes, pixels or frames over the configured limits; refused before pixels are decoded.
        public static let overLimit = Code(.overLimit)
        /// The output would be larger than its format can hold (`OutputFormat.maxDimension`).
        /// A derivative set leaves such a file out (`DerivativeSet.omitted`) instead.
        public static let overFormatLimit = Code(.overFormatLimit)
        /// The header or pixel data is damaged or truncated.
        public static let corruptImage = Code(.corruptImage)
        /// libvips could not encode the output.
        public static let encodeFailed = Code(.encodeFailed)
        /// The options contradict each other or are out of range.
        public static let invalidOptions = Code(.invalidOptions)
        /// The pipeline configuration is invalid; the message names each JSON path at fault.
        public static let invalidConfig = Code(.invalidConfig)
        /// The input file could not be opened or read.
        public static let inputUnreadable = Code(.inputUnreadable)
        /// The output could not be written.
        public static let outputUnwritable = Code(.outputUnwritable)
        /// A blob store has no object under the key (HTTP 404, NoSuchKey/NoSuchBucket).
        public static let notFound = Code(.notFound)
        /// A blob store refused the request (HTTP 403, bad credentials, no permission).
        public static let accessDenied = Code(.accessDenied)
        /// A blob store did not answer or answered with a retryable error (5xx, 429, SlowDown,
        /// RequestTimeout, connection failures) even after retries: worth retrying later.
        public static let storeUnavailable = Code(.storeUnavailable)
        /// An event is not JSON, or not of a shape imgfn knows.
        public static let invalidEvent = Code(.invalidEvent)
        /// Work not started, or stopped, because the invocation's deadline is near: to be
        /// retried (in an invocation with more time left).
        public static let deadline = Code(.deadline)
        /// Work was stopped at its time limit (a render over `RenderDeadline`'s limit).
        public static let timedOut = Code(.timedOut)
        /// libvips failed to start or a module it needs is missing.
        public static let vipsUnavailable = Code(.vipsUnavailable)

        public var description: String { base.rawValue }

        /// True for failures caused by the input itself: retrying the same bytes cannot succeed.
        public var isInputFault: Bool {
            switch base {
            case .emptyInput, .unsupportedFormat, .overLimit, .overFormatLimit, .corruptImage: true
            default: false
            }
        }

        /// True for failures that may go away by themselves (a store that did not answer):
        /// the work should be retried later. Everything else is permanent.
        public var isTransient: Bool { base == .storeUnavailable || base == .deadline }

        /// Encoded as its name (`"corruptImage"`), as logs and results show it.
        public init(from decoder: any Decoder) throws {
            let name = try decoder.singleValueContainer().decode(String.self)
            guard let base = Base(rawValue: name) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "unknown code \(name)"))
            }
            self.init(base)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(base.rawValue)
        }
    }

    public var code: Code
    public var message: String
    /// What caused it, when another error did.
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    public static func == (a: ImgfnError, b: ImgfnError) -> Bool { a.code == b.code && a.message == b.message }
}
