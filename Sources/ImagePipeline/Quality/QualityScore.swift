import CVips
import ImgfnBase

/// Perceptual scores of encoded files against the image they were made from.
public enum QualityScore {
    /// The SSIMULACRA2 score of each of `files` against `source` resized to the file's size:
    /// the source decoded whole (upright, sRGB, no shrink-on-load), converted to float and
    /// resized with Lanczos3 to exactly the file's width and height, never rounded to 8 bits,
    /// in the alignment the file was made with (`references(from:width:height:)`).
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
        // Files of one size often come together (a tool's file beside ours): their references
        // are made once.
        var last: (key: String, references: [VipsImage])?
        return files.map { file in
            Result { () throws(ImgfnError) -> Double in
                let distorted = try VipsImage.decode(file, limits: limits)
                // A file without alpha shows the source flattened (onto white, the pipeline's default).
                let flatten = base.hasAlpha && !distorted.hasAlpha
                let key = "\(distorted.width)×\(distorted.height)\(flatten ? " flattened" : "")"
                if last?.key != key {
                    let source = flatten ? try base.flattened(onto: .white) : base
                    last = (key, try references(from: source, width: distorted.width, height: distorted.height))
                }
                var best = -Double.infinity
                for reference in last?.references ?? [] {
                    best = Swift.max(best, try Ssimulacra2.score(reference: reference, distorted: distorted))
                }
                return best
            }
        }
    }

    /// `base` in float, resized (Lanczos3) to exactly `width`×`height` in each alignment a
    /// resizer may have made it with. Stretched: each axis scaled by its own ratio, so the
    /// content fills the integer size exactly (Pillow, ImageMagick's `WxH!`). And, when that
    /// differs, one scale for both axes with the other size rounded (libvips' `thumbnail`,
    /// sharp, imgfn): 1920×1280 at 320 wide is 213.33 rows of content in 213. The two drift
    /// apart by up to a third of a pixel, which SSIMULACRA2 reads as ~9 points lost at 320 px
    /// (a 2.5 MP photo: 87.3 stretched, 96.1 in its own alignment), so a file is scored
    /// against both and keeps the better score: neither convention is penalised.
    static func references(from base: VipsImage, width: Int, height: Int) throws(ImgfnError) -> [VipsImage] {
        let float = try base.derive("convert to float") { cv_cast($0, $1, VIPS_FORMAT_FLOAT) }
        let (sx, sy) = (Double(width) / Double(base.width), Double(height) / Double(base.height))
        let stretched = try float.resized(scale: sx, vscale: sy)
        guard stretched.width == width, stretched.height == height else {
            throw ImgfnError(
                .encodeFailed,
                "the reference came out \(stretched.width)×\(stretched.height), not \(width)×\(height)")
        }
        var references = [try stretched.inMemory()]
        if sx != sy {
            // The axis the resizer was given sets the scale, the other size rounded from it:
            // either axis may have been the one.
            for scale in [sx, sy] {
                let uniform = try float.resized(scale: scale)
                if uniform.width == width && uniform.height == height { references.append(try uniform.inMemory()) }
            }
        }
        return references
    }
}
