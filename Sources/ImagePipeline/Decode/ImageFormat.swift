/// The image formats imgfn reads. The format is always sniffed from the bytes, never taken
/// from a file name or a content type.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, webp, gif, tiff, heic, avif, jxl

    /// The format whose signature starts `bytes`, or nil when it is none of the accepted ones.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + signature.count
                && signature.indices.allSatisfy { bytes[offset + $0] == signature[$0] }
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("ftyp".utf8), at: 4) { return sniffHEIF(bytes) }
        // JPEG XL: a bare codestream, or the ISO-BMFF container with its `JXL ` signature box.
        if starts([0xFF, 0x0A]) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A]) {
            return .jxl
        }
        return nil
    }

    /// HEIF-family files start with an ISO-BMFF `ftyp` box: a major brand and a list of
    /// compatible brands. AVIF names `avif`/`avis`; HEIC names the HEVC brands; `mif1`/`msf1`
    /// alone are generic HEIF, so the compatible list decides.
    private static func sniffHEIF(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let boxSize = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        let end = Swift.min(bytes.count, Swift.max(boxSize, 16), 4096)
        var brands: [String] = []
        var offset = 8
        while offset + 4 <= end {
            if offset != 12 {  // bytes 12..<16 are the minor version, not a brand
                brands.append(String(decoding: bytes[offset..<offset + 4], as: UTF8.self))
            }
            offset += 4
        }
        if brands.contains(where: { $0 == "avif" || $0 == "avis" }) { return .avif }
        let heic: Set = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]
        return brands.contains(where: heic.contains) ? .heic : nil
    }

    /// A short guess at what unaccepted bytes are, for error messages ("SVG", "PDF", "text").
    public static func describeUnsupported(_ bytes: UnsafeRawBufferPointer) -> String {
        let head = String(decoding: bytes.prefix(256), as: UTF8.self).lowercased()
        func starts(_ s: [UInt8]) -> Bool { bytes.count >= s.count && zip(bytes, s).allSatisfy { $0 == $1 } }
        if head.hasPrefix("%pdf") { return "PDF" }
        if head.contains("<svg") || (head.hasPrefix("<?xml") && head.contains("svg")) { return "SVG" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts(Array("8BPS".utf8)) { return "PSD" }
        if bytes.prefix(512).allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) }) {
            return "text"
        }
        return "unrecognised data"
    }

    /// Whether libvips needs its HEIF support (an optional module in Debian's build) to read it:
    /// AVIF only, since HEIC and JPEG XL are read through libheif and libjxl directly
    /// (`HEICDecoder`, `JXLDecoder`).
    var needsHEIF: Bool { self == .avif }

    /// Its name in messages: "JPEG", "PNG", "JPEG XL"…
    public var displayName: String {
        switch self {
        case .jpeg, .png, .gif, .tiff, .heic, .avif: rawValue.uppercased()
        case .webp: "WebP"
        case .jxl: "JPEG XL"
        }
    }

    /// What is accepted, for error messages: "JPEG, PNG, WebP, GIF, TIFF, HEIC, AVIF, JPEG XL".
    public static var acceptedList: String { allCases.map(\.displayName).joined(separator: ", ") }
}
