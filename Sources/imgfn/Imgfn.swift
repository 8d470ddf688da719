import ArgumentParser
import ImagePipeline

@main
struct Imgfn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgfn",
        abstract: "Make web-ready image derivatives with libvips.",
        discussion: ExitStatus.helpText,
        subcommands: [Resize.self, Info.self]
    )
}
