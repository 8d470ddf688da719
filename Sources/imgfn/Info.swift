import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print what an image's header says, without decoding its pixels.",
        discussion: ExitStatus.helpText
    )

    @Argument(help: "Input image path, or - for standard input.")
    var input: String

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var limitOptions: LimitOptions

    func run() throws {
        let source = Input(path: input)
        let info: ImageInfo
        do {
            info = try ImageResizer.info(of: try source.read(limits: limitOptions.limits), limits: limitOptions.limits)
        } catch {
            throw ExitStatus.report(error, subject: source.displayName)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(info), as: UTF8.self))
            return
        }
        let rows: [(String, String)] = [
            ("file", source.displayName),
            ("format", info.format.rawValue),
            ("size", "\(info.width)×\(info.height)"),
            ("upright", "\(info.orientedWidth)×\(info.orientedHeight) (orientation \(info.orientation))"),
            ("bands", "\(info.bands)\(info.hasAlpha ? " (with alpha)" : "")"),
            ("colour space", "\(info.colourSpace), \(info.bitDepth)-bit"),
            ("icc profile", info.hasICCProfile ? "yes" : "no"),
            ("frames", "\(info.frames)"),
            ("interlaced", info.interlaced ? "yes" : "no"),
            ("bytes", "\(info.bytes)"),
        ]
        for (key, value) in rows {
            print(key + String(repeating: " ", count: Swift.max(1, 13 - key.count)) + value)
        }
    }
}
