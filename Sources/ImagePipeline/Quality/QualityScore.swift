import CVips
import ImgfnBase

/// Perceptual scores of encoded files against the image they were made from.
public enum QualityScore {
    /// The SSIMULACRA2 score of each of `files` against `source` resized to the file's size:
    /// the source decoded whole (upright, sRGB, no shrink-on-load), converted to float and
    /// resized with Lanczos3 to exactly the file's width and height, never rounded to 8 bits.
    /// That reference is the same for every encoder, so files from other tools (vipsthumbnail,
    /// Pillow) are scored on the same scale as ours. It is the whole source: a file cropped
    /// from it (`cover`) scores low here and is better scored inside the pipeline, against
    /// the pixels its encoder was given (`"quality": "auto"`). A source with alpha is flattened
    /// onto white for a file without it (what the pipeline does by default).
    /// - Returns: each file's score, or why that file could not be scored (not an image…).
    /// - Throws: `ImgfnError` when the source cannot be decoded.
    public static func scores(
        of files: [SourceBytes], against source: SourceBytes, limits: DecodeLimits = .default
    ) throws(ImgfnError) -> [Result<Double, ImgfnError>] {
        let base = try VipsImage.decode(source, limits: limits)
        return files.map { file in
            Result { () throws(ImgfnError) -> Double in
                let distorted = try VipsImage.decode(file, limits: limits)
                // A file without alpha shows the source flattened (onto white, the pipeline's default).
                let source = base.hasAlpha && !distorted.hasAlpha ? try base.flattened(onto: .white) : base
                let reference = try reference(from: source, width: distorted.width, height: distorted.height)
                return try Ssimulacra2.score(reference: reference, distorted: distorted)
            }
        }
    }

    /// `base` in float, resized (Lanczos3) to exactly `width`×`height`.
    static func reference(from base: VipsImage, width: Int, height: Int) throws(ImgfnError) -> VipsImage {
        let float = try base.derive("convert to float") { cv_cast($0, $1, VIPS_FORMAT_FLOAT) }
        let (sx, sy) = (Double(width) / Double(base.width), Double(height) / Double(base.height))
        let resized = try float.resized(scale: sx, vscale: sy)
        guard resized.width == width, resized.height == height else {
            throw ImgfnError(
                .encodeFailed, "the reference came out \(resized.width)×\(resized.height), not \(width)×\(height)")
        }
        return try resized.inMemory()
    }
}
