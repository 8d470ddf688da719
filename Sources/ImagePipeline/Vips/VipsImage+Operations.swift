import CVips
import ImgfnBase

/// Operations for pipeline steps. Each returns a new image; the receiver is unchanged.
/// All throw `ImgfnError` (`.corruptImage` when pixels cannot be produced).
extension VipsImage {
    /// Lanczos3 resize by `scale` horizontally and `vscale` (default: the same) vertically.
    public func resized(scale: Double, vscale: Double? = nil) throws(ImgfnError) -> VipsImage {
        try derive("resize") { cv_resize($0, $1, scale, vscale ?? scale) }
    }

    /// The `width`×`height` area at (`left`, `top`); it must lie inside the image.
    public func cropped(left: Int, top: Int, width: Int, height: Int) throws(ImgfnError) -> VipsImage {
        guard left >= 0, top >= 0, width > 0, height > 0, left + width <= self.width, top + height <= self.height else {
            throw ImgfnError(
                .invalidOptions,
                "crop \(width)×\(height) at \(left),\(top) is outside the \(self.width)×\(self.height) image")
        }
        return try derive("crop") { cv_extract_area($0, $1, Int32(left), Int32(top), Int32(width), Int32(height)) }
    }

    /// Rotated clockwise by a multiple of 90°.
    public func rotated(quarterTurns: Int) throws(ImgfnError) -> VipsImage {
        let angle =
            switch ((quarterTurns % 4) + 4) % 4 {
            case 1: VIPS_ANGLE_D90
            case 2: VIPS_ANGLE_D180
            case 3: VIPS_ANGLE_D270
            default: VIPS_ANGLE_D0
            }
        return try derive("rotate") { cv_rot($0, $1, angle) }
    }

    /// Mirrored left–right (`horizontally`) or top–bottom.
    public func flipped(horizontally: Bool) throws(ImgfnError) -> VipsImage {
        try derive("flip") { cv_flip($0, $1, horizontally ? VIPS_DIRECTION_HORIZONTAL : VIPS_DIRECTION_VERTICAL) }
    }

    public func sharpened(sigma: Double) throws(ImgfnError) -> VipsImage {
        let sharpened = try derive("sharpen") { cv_sharpen($0, $1, sigma) }
        return try sharpened.eightBitSRGB()
    }

    public func blurred(sigma: Double) throws(ImgfnError) -> VipsImage {
        try derive("blur") { cv_gaussblur($0, $1, sigma) }
    }

    /// One grey band (plus alpha, if any).
    public func grayscale() throws(ImgfnError) -> VipsImage {
        try derive("grayscale") { cv_colourspace($0, $1, VIPS_INTERPRETATION_B_W) }
    }

    /// sRGB colour bands (grey is expanded), alpha kept.
    public func srgb() throws(ImgfnError) -> VipsImage {
        interpretation == VIPS_INTERPRETATION_sRGB
            ? self : try derive("convert to sRGB") { cv_colourspace($0, $1, VIPS_INTERPRETATION_sRGB) }
    }

    /// Alpha removed by blending onto `colour`.
    public func flattened(onto colour: RGBColour) throws(ImgfnError) -> VipsImage {
        guard hasAlpha else { return self }
        return try derive("flatten") {
            cv_flatten($0, $1, Double(colour.red), Double(colour.green), Double(colour.blue))
        }
    }

    /// Each band multiplied by `multiply` and offset by `add` (one value per band, or one for
    /// all), clamped to 0…255.
    public func linear(multiply: [Double], add: [Double]) throws(ImgfnError) -> VipsImage {
        guard multiply.count == add.count, !multiply.isEmpty else {
            throw ImgfnError(.invalidOptions, "linear needs as many multipliers as offsets")
        }
        return try derive("linear") { cv_linear($0, $1, multiply, add, Int32(multiply.count)) }
    }

    /// With an opaque alpha band added when there is none.
    public func withAlpha() throws(ImgfnError) -> VipsImage {
        hasAlpha ? self : try derive("add alpha") { cv_bandjoin_const1($0, $1, 255) }
    }

    /// `overlay` drawn over this image with its top-left corner at (`x`, `y`).
    public func composited(with overlay: VipsImage, x: Int, y: Int) throws(ImgfnError) -> VipsImage {
        try derive("composite") { cv_composite2($0, overlay.pointer, $1, Int32(x), Int32(y)) }
    }
}
