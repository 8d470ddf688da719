import ArgumentParser
import ImagePipeline
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// The documented exit codes (BSD sysexits), and the one-line error report behind them.
public enum ExitStatus {
    public static let usage: Int32 = 64
    public static let badImage: Int32 = 65
    public static let noInput: Int32 = 66
    public static let unavailable: Int32 = 69
    public static let software: Int32 = 70
    public static let cannotWrite: Int32 = 73
    public static let temporaryFailure: Int32 = 75
    public static let badConfig: Int32 = 78

    public static let helpText = """
        EXIT CODES:
          0   success
          64  usage error (bad option or value)
          65  the input is not a usable image: empty, corrupt, truncated, unsupported format, or over a limit
          66  the input is missing or unreadable
          69  a codec this build lacks was needed (e.g. no libheif for HEIC, no AVIF in libvips)
          70  internal error (libvips failed to encode a valid image)
          73  the output cannot be written
          75  a store failed transiently (invoke): retrying may succeed
          78  the pipeline configuration is invalid (each problem is named by its JSON path)
        Errors are one line on stderr: imgfn: FILE: REASON
        """

    public static func code(for error: ImgfnError) -> Int32 {
        switch error.code {
        case .invalidOptions: usage
        case .invalidConfig: badConfig
        case .invalidEvent, .notFound: badImage
        case .storeUnavailable: temporaryFailure
        case .accessDenied: noInput
        case .inputUnreadable: noInput
        case .outputUnwritable: cannotWrite
        case .vipsUnavailable: unavailable
        case .encodeFailed: software
        default: error.code.isInputFault ? badImage : software
        }
    }

    /// Prints `imgfn: SUBJECT: MESSAGE` on stderr and returns the exit code to throw.
    public static func report(_ error: ImgfnError, subject: String) -> ExitCode {
        printError("imgfn: \(subject): \(error.message)")
        return ExitCode(code(for: error))
    }
}

/// Our standard error: a copy of fd 2 taken at start (`Imgfn.main` touches it first). While
/// libjxl decodes, fd 2 itself points at /dev/null (`VipsRuntime.silenceJPEGXLTraces`), and
/// another input's progress or error line written meanwhile must not be lost.
public let diagnosticsFD: Int32 = {
    let copy = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)
    return copy >= 0 ? copy : STDERR_FILENO
}()

/// Writes one line to standard error (unbuffered, so it is never lost on exit).
public func printError(_ line: String, newline: Bool = true) {
    _ = writeAll(diagnosticsFD, Array((newline ? line + "\n" : line).utf8))
}

/// write(2) until everything is written; false on error (errno says why).
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
