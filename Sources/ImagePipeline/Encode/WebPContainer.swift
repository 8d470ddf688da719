/// Edits the RIFF container of encoded WebP files.
///
/// libvips 8.14's WebP saver writes EXIF and XMP chunks even with `strip` set, so metadata is
/// removed from its output here: the chunks are dropped, their flags cleared in the VP8X
/// header, and the RIFF size fixed. The image data is not touched.
enum WebPContainer {
    static func removingMetadata(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WEBP".utf8)
        else {
            return bytes
        }
        let dropped: [[UInt8]] = [Array("EXIF".utf8), Array("XMP ".utf8), Array("ICCP".utf8)]
        var out = Array(bytes[0..<12])
        var vp8x: Int?
        var i = 12
        while i + 8 <= bytes.count {
            let fourCC = Array(bytes[i..<(i + 4)])
            let size = Int(bytes[i + 4]) | Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]) << 16 | Int(bytes[i + 7]) << 24
            let end = Swift.min(bytes.count, i + 8 + size + (size & 1))  // chunks are padded to even sizes
            if !dropped.contains(fourCC) {
                if fourCC.elementsEqual("VP8X".utf8) { vp8x = out.count }
                out += bytes[i..<end]
            }
            i = end
        }
        if let vp8x, vp8x + 8 < out.count {
            out[vp8x + 8] &= ~UInt8(0x20 | 0x08 | 0x04)  // ICC, EXIF, XMP flags
        }
        let riffSize = UInt32(out.count - 8)
        for k in 0..<4 { out[4 + k] = UInt8(truncatingIfNeeded: riffSize >> (8 * UInt32(k))) }
        return out
    }
}
