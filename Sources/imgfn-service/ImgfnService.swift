// imgfn-service — `imgfn invoke`, `imgfn backfill`, `imgfn serve` and `imgfn sign`: the commands
// that run the service's handlers against a store (a directory, or S3 with SQS and EventBridge),
// or sign their URLs. A binary of its own so that `imgfn`'s image commands (resize, derive,
// score, info) neither link nor pay at every start for the HTTP client, the AWS signer and the
// HTTP server (~3 ms a process); `imgfn` execs this binary, installed beside it, for these
// commands (ServiceCommands.swift in imgfn).

import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline

@main
struct ImgfnService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgfn",
        abstract: "Run imgfn's handlers against a store: one event (invoke), a whole bucket (backfill), HTTP (serve).",
        discussion: ExitStatus.helpText,
        subcommands: [Invoke.self, BackfillCommand.self, Serve.self, Sign.self]
    )

    static func main() async {
        _ = diagnosticsFD  // before any decode can point fd 2 elsewhere (see printError)
        VipsRuntime.silenceJPEGXLTraces()
        VipsRuntime.configure(VipsRuntime.Settings(environment: ProcessInfo.processInfo.environment))
        await main(nil)
    }
}
