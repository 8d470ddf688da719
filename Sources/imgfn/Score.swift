import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline
import ImgfnBase

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score derivatives against their source with SSIMULACRA2 (100 = identical).",
        discussion: """
            Each FILE is compared with SOURCE decoded whole (upright, sRGB) and resized in \
            floating point to the file's size (stretched to it, and with one scale for both \
            axes: the better of the two alignments), so files from any encoder are scored on \
            one scale: about 90 is visually lossless at 1:1, 70 high quality, 50 medium. One \
            line per file (score, then path), or --json.

            \(ExitStatus.helpText)
            """
    )

    @Argument(help: "The source image the files were made from.")
    var source: String

    @Argument(help: "Derivative image files (any size; cropped derivatives score low).")
    var files: [String]

    @Flag(help: "Print JSON: [{\"file\": …, \"ssimulacra2\": …}].")
    var json = false

    @OptionGroup var limitOptions: LimitOptions

    func run() throws {
        let limits = limitOptions.limits
        let sourceBytes: SourceBytes
        do { sourceBytes = try Input(path: source).read(limits: limits) } catch {
            throw ExitStatus.report(error, subject: source)
        }
        var inputs: [SourceBytes] = []
        for file in files {
            do { inputs.append(try Input(path: file).read(limits: limits)) } catch {
                throw ExitStatus.report(error, subject: file)
            }
        }
        let results: [Result<Double, ImgfnError>]
        do { results = try QualityScore.scores(of: inputs, against: sourceBytes, limits: limits) } catch {
            throw ExitStatus.report(error, subject: source)
        }
        var scores: [Double] = []
        for (file, result) in zip(files, results) {
            switch result {
            case .success(let score): scores.append(score)
            case .failure(let error): throw ExitStatus.report(error, subject: file)
            }
        }
        if json {
            struct Row: Encodable {
                let file: String
                let ssimulacra2: Double
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let rows = zip(files, scores).map { Row(file: $0, ssimulacra2: ($1 * 1000).rounded() / 1000) }
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            for (file, score) in zip(files, scores) { print("\((score * 1000).rounded() / 1000)\t\(file)") }
        }
    }
}
