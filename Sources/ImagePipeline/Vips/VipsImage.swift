import CVips
import ImgfnBase

/// Owns one reference to a libvips image and drops it in `deinit`.
///
/// Pipeline steps receive and return these (see `VipsImage+Operations.swift`).
/// Not `Sendable`: an image and the lazy pipeline behind it stay on the task that made them.
/// Only bytes and `Sendable` values cross `await`. An image made from an in-memory buffer keeps
/// that buffer alive (`source`) because libvips reads it lazily, while pixels are pulled.
public final class VipsImage {
    let pointer: UnsafeMutablePointer<CVips._VipsImage>
    private let source: SourceBytes?

    private init(owning pointer: UnsafeMutablePointer<CVips._VipsImage>, source: SourceBytes?) {
        self.pointer = pointer
        self.source = source
    }

    deinit { g_object_unref(pointer) }

    /// Runs a libvips call that returns a new image in `out`; wraps the result or throws with
    /// libvips' message prefixed by `context`.
    static func make(
        _ code: ImgfnError.Code, _ context: String, source: SourceBytes?,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CVips._VipsImage>?>) -> Int32
    ) throws(ImgfnError) -> VipsImage {
        var out: UnsafeMutablePointer<CVips._VipsImage>?
        let status = body(&out)
        guard status == 0, let out else {
            if let out { g_object_unref(out) }
            throw ImgfnError(code, "\(context): \(VipsError.take())")
        }
        return VipsImage(owning: out, source: source)
    }

    /// A new image made from this one; the source buffer stays alive with it.
    func derive(
        _ context: String, code: ImgfnError.Code = .corruptImage,
        _ body: (UnsafeMutablePointer<CVips._VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<CVips._VipsImage>?>)
            -> Int32
    ) throws(ImgfnError) -> VipsImage {
        try VipsImage.make(code, context, source: source) { body(pointer, $0) }
    }

    /// This image computed into memory now (decoding happens here): several consumers then
    /// read pixels instead of each re-running the pipeline behind it.
    ///
    /// The copy owns its metadata too: blob fields (EXIF, XMP, ICC) are copied while this image
    /// is alive, because some loaders set them pointing into memory they free with themselves
    /// (libvips 8.14's HEIF loader: its EXIF was read after free at save time; found by
    /// `make fuzz` on `Fixtures/formats/photo.heic`). Setting the EXIF blob again makes libvips
    /// parse it again, which sets `orientation` from it: the field is put back as it was, so an
    /// image already turned upright (its field removed) is not tagged as sideways again.
    func inMemory() throws(ImgfnError) -> VipsImage {
        guard let copy = vips_image_copy_memory(pointer) else {
            throw ImgfnError(.corruptImage, "cannot decode: \(VipsError.take())")
        }
        var orientation: Int32 = 1
        let hadOrientation =
            vips_image_get_typeof(copy, "orientation") != 0
            && vips_image_get_int(copy, "orientation", &orientation) == 0
        defer {
            if hadOrientation {
                vips_image_set_int(copy, "orientation", orientation)
            } else {
                vips_image_remove(copy, "orientation")
            }
        }
        if let fields = vips_image_get_fields(copy) {
            defer { g_strfreev(fields) }
            var i = 0
            while let field = fields[i] {
                i += 1
                guard vips_image_get_typeof(copy, field) == vips_blob_get_type() else { continue }
                var data: UnsafeRawPointer?
                var length = 0
                if vips_image_get_blob(copy, field, &data, &length) == 0, let data, length > 0 {
                    vips_image_set_blob_copy(copy, field, data, length)
                }
            }
        }
        return VipsImage(owning: copy, source: nil)
    }

    public var width: Int { Int(vips_image_get_width(pointer)) }
    public var height: Int { Int(vips_image_get_height(pointer)) }
    public var bands: Int { Int(vips_image_get_bands(pointer)) }
    public var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }
    var bandFormat: VipsBandFormat { vips_image_get_format(pointer) }
    var pages: Int { Int(vips_image_get_n_pages(pointer)) }
    var pageHeight: Int { Int(vips_image_get_page_height(pointer)) }
    var orientation: Int { Int(vips_image_get_orientation(pointer)) }
    /// The size the image has once its EXIF orientation is applied.
    var uprightWidth: Int { orientation >= 5 ? height : width }
    var uprightHeight: Int { orientation >= 5 ? width : height }

    func has(_ field: String) -> Bool { vips_image_get_typeof(pointer, field) != 0 }

    func int(_ field: String) -> Int? {
        guard has(field) else { return nil }
        var value: Int32 = 0
        return vips_image_get_int(pointer, field, &value) == 0 ? Int(value) : nil
    }
}
