/// Percent-encoding as SigV4 and S3 want it: RFC 3986, every byte of the UTF-8 form except the
/// unreserved set (`A–Z a–z 0–9 - . _ ~`) becomes `%XX` with upper-case hex.
///
/// Foundation's encoders keep other characters (`+`, `:`, `@`, …) and differ between
/// platforms, and a signature must match S3's own byte for byte, so we do it ourselves.
enum URIEncoding {
    /// `string` encoded; `/` is kept when `keepSlash` (paths), encoded otherwise (query parts).
    static func encode(_ string: some StringProtocol, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An S3 key as a URL path: each `/`-separated segment encoded, the slashes kept.
    static func encodeKey(_ key: String) -> String {
        encode(key, keepSlash: true)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}
