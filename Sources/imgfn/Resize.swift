import ArgumentParser
import CLISupport
import ImagePipeline
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

struct Resize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resize",
        abstract: "Resize one image.",
        discussion: """
            The input format is sniffed from its bytes (JPEG, PNG, WebP, GIF, TIFF, HEIC, AVIF, JPEG XL). \
            Output is upright (EXIF orientation applied), sRGB (embedded ICC profiles honoured), \
            8-bit, with metadata stripped. Images are not upscaled unless --enlarge is given.

            Without -o the output goes next to the input as NAME-<W>w.EXT (NAME-<H>h.EXT with \
            only --height) and its path is printed. The output format is --format, else the \
            extension of -o, else the input's format when it is JPEG, PNG, WebP or AVIF, else JPEG. \
            Files are written atomically: an error or Ctrl-C never leaves a partial file.

            \(ExitStatus.helpText)
            """
    )

    @Argument(help: "Input image path, or - for standard input.")
    var input: String

    @Option(name: [.short, .long], help: "Target width in pixels.")
    var width: Int?

    @Option(name: .long, help: "Target height in pixels.")
    var height: Int?

    @Option(help: "How to fit a width×height box: \(Fit.allCases.map(\.rawValue).joined(separator: ", ")).")
    var fit: Fit = .inside

    @Option(
        help: "What cover keeps / where contain places: \(Gravity.allCases.map(\.rawValue).joined(separator: ", ")).")
    var gravity: Gravity = .centre

    @Flag(help: "Allow the output to be larger than the input.")
    var enlarge = false

    @Option(help: "Background for contain padding and for flattening alpha into JPEG: #rrggbb, white or black.")
    var background: RGBColour = .white

    @Option(
        name: [.short, .long], help: "Output format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: OutputFormat?

    @Option(name: [.short, .long], help: "Quality 1…100 (defaults: JPEG 80, WebP 76, AVIF 54; PNG is lossless).")
    var quality: Int?

    @Option(
        help: """
            Instead of --quality: the SSIMULACRA2 score to reach (e.g. 75); the lowest quality \
            that reaches it is chosen (up to six encodes) and printed with the score.
            """)
    var target: Double?

    @Flag(help: "Progressive JPEG / interlaced PNG.")
    var progressive = false

    @Option(help: "Encoder effort: WebP 0…6 (default 2), AVIF 0…9 (default 0). Higher is smaller and slower.")
    var effort: Int?

    @Flag(name: .customLong("keep-metadata"), help: "Keep EXIF/XMP/ICC metadata (stripped by default).")
    var keepMetadata = false

    @Option(name: [.short, .customLong("output")], help: "Output path, a directory, or - for standard output.")
    var output: String?

    @OptionGroup var limitOptions: LimitOptions

    var resizeOptions: ResizeOptions {
        ResizeOptions(
            width: width, height: height, fit: fit, gravity: gravity, enlarge: enlarge, background: background)
    }

    func validate() throws {
        do {
            try resizeOptions.validate()
            try EncodeOptions(format: format, quality: quality, target: target, effort: effort).validate()
        } catch {
            throw ValidationError(error.message)
        }
        if quality != nil && target != nil { throw ValidationError("give --quality or --target, not both") }
        if input == "-" && output == nil {
            throw ValidationError("reading standard input: give -o FILE, or -o - for standard output")
        }
    }

    func run() throws {
        AtomicFile.installInterruptCleanup()
        let source = Input(path: input)
        let encoded: EncodedImage
        do {
            let bytes = try source.read(limits: limitOptions.limits)
            let encode = EncodeOptions(
                format: format ?? output.flatMap(OutputFormat.init(fileName:)),
                quality: quality, target: target, progressive: progressive, effort: effort,
                metadata: keepMetadata ? .all : .none)
            encoded = try ImageResizer.resize(bytes, resizeOptions, encode: encode, limits: limitOptions.limits)
        } catch {
            throw ExitStatus.report(error, subject: source.displayName)
        }
        if let quality = encoded.chosenQuality, let score = encoded.score {
            printError("imgfn: \(source.displayName): quality \(quality), SSIMULACRA2 \((score * 100).rounded() / 100)")
        }
        if output == "-" {
            try writeStandardOutput(encoded.bytes)
            return
        }
        let path = destination(for: encoded.format)
        do {
            try AtomicFile.write(encoded.bytes, to: path)
        } catch {
            throw ExitStatus.report(error, subject: path)
        }
        print(path)
    }

    /// `-o` as given; inside it when it is a directory; else beside the input as NAME-<W>w.EXT.
    func destination(for format: OutputFormat) -> String {
        let suffix = width.map { "-\($0)w" } ?? "-\(height ?? 0)h"
        func derivedName(in directory: String?) -> String {
            var name = input
            if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
            if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
            let file = "\(name)\(suffix).\(format.fileExtension)"
            guard let directory else { return file }
            return directory.hasSuffix("/") ? directory + file : "\(directory)/\(file)"
        }
        if let output {
            var info = stat()
            return stat(output, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR ? derivedName(in: output) : output
        }
        guard let slash = input.lastIndex(of: "/") else { return derivedName(in: nil) }
        return derivedName(in: String(input[...slash]))
    }

    private func writeStandardOutput(_ bytes: [UInt8]) throws {
        if !writeAll(STDOUT_FILENO, bytes) {
            printError("imgfn: <stdout>: cannot write: \(String(cString: strerror(errno)))")
            throw ExitCode(ExitStatus.cannotWrite)
        }
    }
}

extension OutputFormat {
    /// The format a file name's extension asks for (`.jpg`, `.jpeg`, `.png`, `.webp`, `.avif`).
    init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: ".") else { return nil }
        switch fileName[fileName.index(after: dot)...].lowercased() {
        case "jpg", "jpeg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "avif": self = .avif
        default: return nil
        }
    }
}
