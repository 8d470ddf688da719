#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// User metadata values in HTTP headers. Headers carry printable ASCII only, so other values go
/// as one RFC 2047 encoded word (`=?UTF-8?B?…?=`), as S3 documents: S3 decodes it on PUT and
/// encodes non-ASCII values the same way on GET/HEAD, where `decode` turns them back.
enum MetadataEncoding {
    static func encode(_ value: String) -> String {
        let printable = value.utf8.allSatisfy { (0x20...0x7e).contains($0) }
        guard !printable || value.hasPrefix("=?") else { return value }
        return "=?UTF-8?B?\(Data(value.utf8).base64EncodedString())?="
    }

    /// The value with RFC 2047 encoded words (B or Q, UTF-8 or ASCII) decoded; as is when it
    /// is not made only of encoded words.
    static func decode(_ value: String) -> String {
        let words = value.split(separator: " ")
        guard !words.isEmpty else { return value }
        var bytes: [UInt8] = []
        for word in words {
            guard let decoded = decodeWord(word) else { return value }
            bytes += decoded
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `=?charset?B|Q?text?=` → bytes; nil when `word` is not an encoded word.
    static func decodeWord(_ word: Substring) -> [UInt8]? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.count > 4 else { return nil }
        let parts = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3, ["utf-8", "us-ascii"].contains(parts[0].lowercased()) else { return nil }
        switch parts[1].uppercased() {
        case "B":
            return Data(base64Encoded: String(parts[2])).map { [UInt8]($0) }
        case "Q":
            var out: [UInt8] = []
            var bytes = parts[2].utf8[...]
            while let byte = bytes.popFirst() {
                if byte == UInt8(ascii: "_") {
                    out.append(UInt8(ascii: " "))
                } else if byte == UInt8(ascii: "="), bytes.count >= 2,
                    let decoded = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
                {
                    out.append(decoded)
                    bytes = bytes.dropFirst(2)
                } else {
                    out.append(byte)
                }
            }
            return out
        default:
            return nil
        }
    }

    /// Bytes allowed in metadata names: lower-case letters, digits, `-`, `_`, `.`.
    static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }
}
