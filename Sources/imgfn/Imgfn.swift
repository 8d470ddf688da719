// imgfn — the CLI shell (layer 5): one file per command, shared option groups
// (SharedOptions.swift, InputOptions.swift); each command parses, calls the layers below and
// prints. Exit codes: ExitStatus.swift.

import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline

@main
struct Imgfn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgfn",
        abstract: "Make web-ready image derivatives with libvips.",
        discussion: ExitStatus.helpText,
        version: version,
        subcommands: [
            Resize.self, Derive.self, InvokeStub.self, BackfillStub.self, ServeStub.self, SignStub.self, Events.self,
            Info.self,
            Score.self,
        ]
    )

    /// The environment is read here, once, and handed down (libvips' settings); then the
    /// command line runs.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let command = arguments.first, ServiceCommands.names.contains(command) { ServiceCommands.exec(arguments) }
        _ = diagnosticsFD  // before any decode can point fd 2 elsewhere (see printError)
        VipsRuntime.silenceJPEGXLTraces()
        VipsRuntime.configure(VipsRuntime.Settings(environment: ProcessInfo.processInfo.environment))
        if CommandLine.arguments.dropFirst() == ["--version"] {
            print(versionText)
            return
        }
        await main(nil)
    }

    /// `imgfn --version`: ours, and which libvips (and so which codecs) this binary runs with.
    static var versionText: String {
        let (loaders, savers) = VipsRuntime.codecs()
        return """
            imgfn \(version)
            libvips \(VipsRuntime.libvipsVersion) (\(VipsRuntime.libraryPath ?? "linked statically"))
            reads:  \(loaders.isEmpty ? "nothing (libvips did not start)" : loaders.joined(separator: ", "))
            writes: \(savers.joined(separator: ", "))
            """
    }

    /// Until a first release (CHANGELOG "Unreleased").
    static let version = "0.0.0-dev"
}
