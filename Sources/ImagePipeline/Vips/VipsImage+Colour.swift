import CVips
import ImgfnBase

extension VipsImage {
    /// 16-bit, CMYK (when no profile converted it already), Lab and other spaces become 8-bit
    /// sRGB; grey stays grey.
    public func eightBitSRGB() throws(ImgfnError) -> VipsImage {
        let target: VipsInterpretation =
            switch interpretation {
            case VIPS_INTERPRETATION_B_W, VIPS_INTERPRETATION_GREY16: VIPS_INTERPRETATION_B_W
            default: VIPS_INTERPRETATION_sRGB
            }
        var result = self
        if interpretation != target {
            result = try derive("convert to sRGB") { cv_colourspace($0, $1, target) }
        }
        if result.bandFormat != VIPS_FORMAT_UCHAR {
            result = try result.derive("convert to 8 bits") { cv_cast($0, $1, VIPS_FORMAT_UCHAR) }
        }
        return result
    }
}
