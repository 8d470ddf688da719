import ImageRequests
import ImgfnBase
import Testing

/// imgproxy's signature scheme, checked against the worked examples of its documentation
/// ("Signing a URL": key `secret`, salt `hello`), so a user's existing URL builder works
/// unchanged.
@Suite struct URLSigningTests {
    static let secret = "736563726574"  // "secret"
    static let hello = "68656C6C6F"  // "hello"

    struct Example: Sendable, CustomTestStringConvertible {
        var path: String
        var signature: String
        var testDescription: String { String(path.prefix(30)) }
    }

    static let documented = [
        // The current documentation's example (processing options, Base64 source split by /).
        Example(
            path: "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png",
            signature: "oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8"),
        // imgproxy 2's example (its basic URL format): the signature covers any path alike.
        Example(
            path: "/fill/300/400/sm/0/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png",
            signature: "AfrOrF3gWeDA6VOlDG4TzxMv39O7MXnF4CXpKUwGqRM"),
    ]

    @Test(arguments: documented)
    func documentedExamples(_ example: Example) throws {
        let signing = try URLSigning(keys: Self.secret, salts: Self.hello)
        #expect(signing.sign(example.path) == example.signature)
        #expect(signing.verify(signature: example.signature, path: example.path))
    }

    @Test func tamperingFails() throws {
        let signing = try URLSigning(keys: Self.secret, salts: Self.hello)
        let example = Self.documented[0]
        #expect(!signing.verify(signature: example.signature, path: example.path.replacing("300", with: "3000")))
        #expect(!signing.verify(signature: example.signature, path: example.path + "/"))
        var flipped = Array(example.signature)
        flipped[5] = flipped[5] == "A" ? "B" : "A"
        #expect(!signing.verify(signature: String(flipped), path: example.path))
        #expect(!signing.verify(signature: String(example.signature.dropLast()), path: example.path))
        #expect(!signing.verify(signature: "", path: example.path))
        #expect(!signing.verify(signature: "not base64!", path: example.path))
        // Standard Base64's alphabet is not URL-safe Base64's.
        #expect(
            !signing.verify(
                signature: example.signature.replacing("_", with: "/"), path: example.path))
    }

    @Test func rotationAcceptsEveryPairAndSignsWithTheFirst() throws {
        let new = "0123456789abcdef"
        let newSalt = "fedcba9876543210"
        let rotated = try URLSigning(keys: "\(new),\(Self.secret)", salts: "\(newSalt), \(Self.hello)")
        let example = Self.documented[0]
        // The old pair still verifies URLs already published…
        #expect(rotated.verify(signature: example.signature, path: example.path))
        // …and new URLs are signed with the new one, which the old configuration refuses.
        let fresh = rotated.sign(example.path)
        #expect(fresh != example.signature)
        #expect(rotated.verify(signature: fresh, path: example.path))
        let old = try URLSigning(keys: Self.secret, salts: Self.hello)
        #expect(!old.verify(signature: fresh, path: example.path))
    }

    @Test func truncatedSignatures() throws {
        let full = try URLSigning(keys: Self.secret, salts: Self.hello)
        let short = try URLSigning(keys: Self.secret, salts: Self.hello, size: 8)
        let example = Self.documented[0]
        let signature = short.sign(example.path)
        // 8 bytes: 11 Base64 digits, the first bytes of the full digest.
        #expect(signature.count == 11)
        #expect(Base64URL.decode(signature) == Array(Base64URL.decode(example.signature)!.prefix(8)))
        #expect(short.verify(signature: signature, path: example.path))
        #expect(!short.verify(signature: example.signature, path: example.path))
        #expect(!full.verify(signature: signature, path: example.path))
    }

    @Test func badKeysAreRefused() {
        #expect(throws: ImgfnError.self) { try URLSigning(keys: "xyz", salts: Self.hello) }
        #expect(throws: ImgfnError.self) { try URLSigning(keys: "abc", salts: Self.hello) }
        #expect(throws: ImgfnError.self) { try URLSigning(keys: "\(Self.secret),\(Self.secret)", salts: Self.hello) }
        #expect(throws: ImgfnError.self) { try URLSigning(keys: Self.secret, salts: Self.hello, size: 33) }
        #expect(throws: ImgfnError.self) { try URLSigning(keys: Self.secret, salts: Self.hello, size: 0) }
    }

    @Test func base64RoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xFF) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(
            Base64URL.decode("aHR0cDovL2V4YW1wbGUuY29tL2ltYWdlcy9jdXJpb3NpdHkuanBn").map {
                String(decoding: $0, as: UTF8.self)
            } == "http://example.com/images/curiosity.jpg")
        #expect(Base64URL.decode("a") == nil)
    }
}
