import ArgumentParser
import CLISupport

#if canImport(Glibc)
    import Glibc
#endif

/// `imgfn invoke`, `imgfn backfill`, `imgfn serve` and `imgfn sign` run in `imgfn-service`, installed beside `imgfn`
/// (Sources/imgfn-service): that binary links the S3, SQS and EventBridge clients, this one does
/// not, so image commands start ~3 ms sooner. `imgfn` execs it with the same arguments (same
/// process, same pid, same standard streams) before parsing them, so `imgfn invoke --help`
/// is its help too. The stubs below only list those commands in `imgfn --help`.
enum ServiceCommands {
    static let names: Set<String> = ["invoke", "backfill", "serve", "sign"]

    /// `imgfn-service` beside the running executable.
    static var path: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let me = count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "imgfn"
        guard let slash = me.lastIndex(of: "/") else { return "imgfn-service" }
        return String(me[...slash]) + "imgfn-service"
    }

    /// Replaces this process with `imgfn-service` and the same arguments; returns only if it
    /// cannot (then exits 69: the binary is missing).
    static func exec(_ arguments: [String]) -> Never {
        let target = path
        var argv: [UnsafeMutablePointer<CChar>?] = ([target] + arguments).map { strdup($0) } + [nil]
        execv(target, &argv)
        printError(
            "imgfn: cannot run \(target) (\(String(cString: strerror(errno)))): `make build` installs it beside imgfn")
        exit(ExitStatus.unavailable)
    }
}

struct InvokeStub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke", abstract: "Run the Lambda function's handler on an event, locally.")
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    func run() { ServiceCommands.exec(["invoke"] + arguments) }
}

struct BackfillStub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill", abstract: "Bring a bucket's derivatives up to date with its sources.")
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    func run() { ServiceCommands.exec(["backfill"] + arguments) }
}

struct ServeStub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve images on demand over HTTP (presets, signed imgproxy URLs).")
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    func run() { ServiceCommands.exec(["serve"] + arguments) }
}

struct SignStub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Sign an imgproxy-style path for imgfn serve (and imgproxy).")
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    func run() { ServiceCommands.exec(["sign"] + arguments) }
}
