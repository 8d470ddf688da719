import ArgumentParser
import ImagePipeline
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// Options shared by every command that reads an image: the limits checked before decoding.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-pixels"), help: "Refuse frames larger than this many pixels.")
    var maxPixels = DecodeLimits.default.maxPixels

    @Option(name: .customLong("max-bytes"), help: "Refuse inputs larger than this many bytes.")
    var maxBytes = DecodeLimits.default.maxBytes

    @Option(name: .customLong("max-frames"), help: "Refuse inputs with more frames or pages than this.")
    var maxFrames = DecodeLimits.default.maxFrames

    var limits: DecodeLimits { DecodeLimits(maxPixels: maxPixels, maxBytes: maxBytes, maxFrames: maxFrames) }

    func validate() throws {
        guard maxPixels > 0, maxBytes > 0, maxFrames > 0 else {
            throw ValidationError("--max-pixels, --max-bytes and --max-frames must be positive")
        }
    }
}

/// An input argument: a path, or `-` for standard input.
struct Input {
    let path: String
    var isStdin: Bool { path == "-" }
    /// How errors name it.
    var displayName: String { isStdin ? "<stdin>" : path }

    func read(limits: DecodeLimits) throws(ImgfnError) -> SourceBytes {
        isStdin
            ? try SourceBytes.read(fileDescriptor: STDIN_FILENO, maxBytes: limits.maxBytes)
            : try SourceBytes.read(path: path, maxBytes: limits.maxBytes)
    }
}

extension Fit: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}
extension Gravity: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument == "center" ? "centre" : argument)
    }
}
extension RGBColour: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
