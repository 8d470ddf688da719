import Crypto
import ImgfnBase

/// imgproxy's URL signatures: the URL-safe, unpadded Base64 of HMAC-SHA256(key, salt ‖ path),
/// where path is everything after the signature segment, starting with `/`.
///
/// Several key/salt pairs may be configured (comma-separated, as imgproxy's `IMGPROXY_KEY` and
/// `IMGPROXY_SALT`), so keys can be rotated: a signature made with any of them is accepted, new
/// URLs are signed with the first. `size` truncates the digest to its first bytes before
/// encoding (imgproxy's `IMGPROXY_SIGNATURE_SIZE`, 1…32, default 32).
public struct URLSigning: Sendable {
    public struct Pair: Sendable {
        let key: [UInt8]
        let salt: [UInt8]
    }

    public let pairs: [Pair]
    /// Bytes of the digest that make the signature.
    public let size: Int

    /// - Parameters:
    ///   - keys: hex-encoded keys, comma-separated.
    ///   - salts: hex-encoded salts, comma-separated, as many as keys.
    ///   - size: 1…32 (nil: 32).
    /// - Throws: `.invalidOptions` naming what is wrong (not hex, counts differ, size out of range).
    public init(keys: String, salts: String, size: Int? = nil) throws(ImgfnError) {
        let keyList = keys.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        let saltList = salts.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard keyList.count == saltList.count else {
            throw ImgfnError(
                .invalidOptions, "\(keyList.count) signing keys but \(saltList.count) salts: give one salt per key")
        }
        var pairs: [Pair] = []
        for (i, (key, salt)) in zip(keyList, saltList).enumerated() {
            guard let keyBytes = Self.hexBytes(key), !keyBytes.isEmpty else {
                throw ImgfnError(.invalidOptions, "signing key \(i + 1) is not hex (e.g. 736563726574)")
            }
            guard let saltBytes = Self.hexBytes(salt) else {
                throw ImgfnError(.invalidOptions, "signing salt \(i + 1) is not hex (e.g. 68656c6c6f)")
            }
            pairs.append(Pair(key: keyBytes, salt: saltBytes))
        }
        let size = size ?? 32
        guard (1...32).contains(size) else {
            throw ImgfnError(.invalidOptions, "signature size must be 1…32 bytes, got \(size)")
        }
        self.pairs = pairs
        self.size = size
    }

    /// The signature of `path` (everything after the signature segment, from its `/`) with the
    /// first key.
    public func sign(_ path: String) -> String {
        Base64URL.encode(digest(path, with: pairs[0]))
    }

    /// Whether `signature` is the signature of `path` under any configured key. The digests
    /// are compared in constant time; a signature that is not Base64 fails.
    public func verify(signature: String, path: String) -> Bool {
        guard let given = Base64URL.decode(signature), given.count == size else { return false }
        var valid = false
        for pair in pairs {
            // Every pair is tried, so the time does not tell which key matched.
            let expected = digest(path, with: pair)
            var difference: UInt8 = 0
            for i in 0..<size { difference |= expected[i] ^ given[i] }
            valid = valid || difference == 0
        }
        return valid
    }

    private func digest(_ path: String, with pair: Pair) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: pair.key))
        hmac.update(data: pair.salt)
        hmac.update(data: Array(path.utf8))
        return Array(Array(hmac.finalize()).prefix(size))
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// URL-safe Base64 (RFC 4648 §5), written without padding and read with or without it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(n >> UInt32(shift) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil when `text` holds a character outside the alphabet (standard Base64's `+` and `/`
    /// are refused: imgproxy's URLs never carry them) or has an impossible length.
    public static func decode(_ text: String) -> [UInt8]? {
        var digits = Array(text.utf8)
        while digits.last == UInt8(ascii: "=") { digits.removeLast() }
        guard digits.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in digits {
            let value: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        return out
    }
}
