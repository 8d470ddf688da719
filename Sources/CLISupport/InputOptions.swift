import ArgumentParser
import ImagePipeline
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// Options shared by every command that reads an image: the limits checked before decoding.
public struct LimitOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("max-pixels"), help: "Refuse frames larger than this many pixels.")
    public var maxPixels = DecodeLimits.default.maxPixels

    @Option(name: .customLong("max-bytes"), help: "Refuse inputs larger than this many bytes.")
    public var maxBytes = DecodeLimits.default.maxBytes

    @Option(name: .customLong("max-frames"), help: "Refuse inputs with more frames or pages than this.")
    public var maxFrames = DecodeLimits.default.maxFrames

    public var limits: DecodeLimits { DecodeLimits(maxPixels: maxPixels, maxBytes: maxBytes, maxFrames: maxFrames) }

    public func validate() throws {
        guard maxPixels > 0, maxBytes > 0, maxFrames > 0 else {
            throw ValidationError("--max-pixels, --max-bytes and --max-frames must be positive")
        }
    }
}

/// An input argument: a path, or `-` for standard input.
public struct Input {
    public let path: String

    public init(path: String) { self.path = path }

    public var isStdin: Bool { path == "-" }
    /// How errors name it.
    public var displayName: String { isStdin ? "<stdin>" : path }

    public func read(limits: DecodeLimits) throws(ImgfnError) -> SourceBytes {
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
