import ArgumentParser
import ImagePipeline

@main
struct Imgfn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgfn",
        abstract: "Make web-ready image derivatives with libvips.",
        discussion: ExitStatus.helpText,
        subcommands: [Resize.self, Derive.self, Invoke.self, Events.self, Info.self]
    )
}
