import Foundation
import ImagePipeline
import ImgfnBase

/// Paths and loaders for the committed fixtures (see Fixtures/README.md), shared by every
/// test target.
public enum Fixtures {
    /// The repository's root directory.
    public static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// `Fixtures/` in the repository.
    public static let root = repository + "/Fixtures"

    public static func path(_ relative: String) -> String { "\(root)/\(relative)" }

    public static func bytes(_ relative: String) throws -> SourceBytes {
        try SourceBytes.read(path: path(relative), maxBytes: 1 << 30)
    }

    /// A fixture's bytes as an array (for stores and events).
    public static func array(_ relative: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: path(relative)) ?? Data())
    }

    public static let photo = "photos/storm.jpg"
}

/// The package's built executables, beside the running test bundle in the build directory.
public enum BuiltProducts {
    public static func path(of name: String) -> String {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    }
}

extension PixelBuffer {
    /// Mean absolute difference per sample against another buffer of the same shape.
    public func meanAbsoluteDifference(_ other: PixelBuffer) -> Double {
        precondition(width == other.width && height == other.height && bands == other.bands)
        var total = 0
        for i in pixels.indices { total += abs(Int(pixels[i]) - Int(other.pixels[i])) }
        return Double(total) / Double(pixels.count)
    }

    /// The pixel at (x, y) as an array of its bands.
    public func pixel(_ x: Int, _ y: Int) -> [Int] { (0..<bands).map { Int(self[x, y, $0]) } }
}

/// Resizes a fixture and decodes the result.
public func resized(_ fixture: String, _ options: ResizeOptions, encode: EncodeOptions = EncodeOptions()) throws -> (
    EncodedImage, PixelBuffer
) {
    let encoded = try ImageResizer.resize(try Fixtures.bytes(fixture), options, encode: encode)
    return (encoded, try PixelBuffer.decode(SourceBytes(encoded.bytes)))
}
