import ImagePipeline
import ImgfnBase

/// The one error type of the Lambda shell: what went wrong at start-up, with an invocation, or
/// with the Runtime API itself.
///
/// `errorType` is what the Runtime API receives (`Lambda-Runtime-Function-Error-Type` and the
/// body's `errorType`), so it names the class of failure and never carries data; `message`
/// is one human line.
struct FunctionError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case invalidConfiguration, startupFailed, invalidEvent, transientFailure, runtimeAPIUnavailable
        }
        fileprivate let base: Base
        private init(_ base: Base) { self.base = base }

        /// An environment variable or the pipeline configuration is invalid (start-up).
        static let invalidConfiguration = Code(.invalidConfiguration)
        /// Something the function needs could not be started (libvips).
        static let startupFailed = Code(.startupFailed)
        /// The invocation payload is not JSON or not a shape the function knows.
        static let invalidEvent = Code(.invalidEvent)
        /// Records of a direct (S3 or EventBridge) invocation failed transiently: the invocation
        /// fails so that Lambda's asynchronous retries run it again.
        static let transientFailure = Code(.transientFailure)
        /// The Runtime API did not answer, or answered with something unexpected.
        static let runtimeAPIUnavailable = Code(.runtimeAPIUnavailable)

        var description: String { base.rawValue }
    }

    var code: Code
    var message: String
    var underlying: (any Error & Sendable)?

    init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The error class reported to the Runtime API.
    var errorType: String {
        switch code.base {
        case .invalidConfiguration: "Runtime.InvalidConfiguration"
        case .startupFailed: "Runtime.StartupFailed"
        case .invalidEvent: "Runtime.InvalidEvent"
        case .transientFailure: "Function.TransientFailure"
        case .runtimeAPIUnavailable: "Runtime.APIUnavailable"
        }
    }

    var description: String { message }
}

extension FunctionError {
    /// Start-up failures of the core: configuration problems are the operator's to fix, libvips
    /// failing to start is the package's.
    init(startup error: ImgfnError, subject: String) {
        let code: Code = error.code == .vipsUnavailable ? .startupFailed : .invalidConfiguration
        self.init(code, "\(subject): \(error.message)", underlying: error)
    }
}
