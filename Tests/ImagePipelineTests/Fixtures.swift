import ImagePipeline

/// Paths and loaders for the committed fixtures (see Fixtures/README.md).
enum Fixtures {
    static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures"
    }()

    static func path(_ relative: String) -> String { "\(root)/\(relative)" }

    static func bytes(_ relative: String) throws -> SourceBytes {
        try SourceBytes.read(path: path(relative), maxBytes: 1 << 30)
    }

    static let photo = "photos/storm.jpg"
}

extension PixelBuffer {
    /// Mean absolute difference per sample against another buffer of the same shape.
    func meanAbsoluteDifference(_ other: PixelBuffer) -> Double {
        precondition(width == other.width && height == other.height && bands == other.bands)
        var total = 0
        for i in pixels.indices { total += abs(Int(pixels[i]) - Int(other.pixels[i])) }
        return Double(total) / Double(pixels.count)
    }

    /// The pixel at (x, y) as an array of its bands.
    func pixel(_ x: Int, _ y: Int) -> [Int] { (0..<bands).map { Int(self[x, y, $0]) } }
}

/// Resizes a fixture and decodes the result.
func resized(_ fixture: String, _ options: ResizeOptions, encode: EncodeOptions = EncodeOptions()) throws -> (EncodedImage, PixelBuffer) {
    let encoded = try ImageResizer.resize(try Fixtures.bytes(fixture), options, encode: encode)
    return (encoded, try PixelBuffer.decode(SourceBytes(encoded.bytes)))
}
