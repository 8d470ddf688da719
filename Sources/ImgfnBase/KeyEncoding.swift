/// How object keys travel in events, listings and manifests: S3 notifications and
/// `encoding-type=url` listings form-encode them (space as `+`), S3 Batch Operations manifests
/// and tasks percent-encode them (RFC 3986).
public enum KeyEncoding {
    /// Every byte but the unreserved ones and `/` as `%XX`; a space as `+` when `spaceAsPlus`
    /// (form encoding), else as `%20`.
    public static func encode(_ key: String, spaceAsPlus: Bool) -> String {
        var out = ""
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: " ") where spaceAsPlus: out.append("+")
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// `%XX` → byte, and `+` → space when `plusAsSpace` (form decoding); nil when a `%` escape
    /// is malformed or the bytes are not UTF-8.
    public static func decode(_ text: String, plusAsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            switch byte {
            case UInt8(ascii: "+") where plusAsSpace: bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
