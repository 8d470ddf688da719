import CVips
import ImgfnBase

/// Decoded pixels, 8-bit, interleaved, row-major: for comparing images (tests, quality checks).
public struct PixelBuffer: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bands: Int
    public var pixels: [UInt8]

    /// The value of band `band` at (`x`, `y`).
    public subscript(x: Int, y: Int, band: Int) -> UInt8 {
        pixels[(y * width + x) * bands + band]
    }

    /// The pixels of `image` (computed now).
    public init(_ image: VipsImage) throws(ImgfnError) {
        var size = 0
        guard let memory = vips_image_write_to_memory(image.pointer, &size) else {
            throw ImgfnError(.corruptImage, "cannot decode: \(VipsError.take())")
        }
        defer { g_free(memory) }
        width = image.width
        height = image.height
        bands = image.bands
        pixels = [UInt8](UnsafeRawBufferPointer(start: memory, count: size))
    }
}
