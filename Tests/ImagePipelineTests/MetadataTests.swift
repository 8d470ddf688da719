import ImagePipeline
import TestSupport
import Testing

@Suite struct MetadataTests {
    /// Marker segments of a JPEG before its first scan: (marker, payload).
    static func segments(_ bytes: [UInt8]) -> [(UInt8, ArraySlice<UInt8>)] {
        var result: [(UInt8, ArraySlice<UInt8>)] = []
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF, bytes[i + 1] != 0xDA {
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            result.append((bytes[i + 1], bytes[(i + 4)..<min(bytes.count, i + 2 + length)]))
            i += 2 + length
        }
        return result
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        return (0...(haystack.count - n.count)).contains { haystack[$0..<($0 + n.count)].elementsEqual(n) }
    }

    @Test func inputCarriesExifGPSAndXMP() throws {
        let input = try Fixtures.bytes("formats/exif-gps.jpg").withUnsafeBytes { Array($0) }
        let app1 = Self.segments(input).filter { $0.0 == 0xE1 }
        #expect(app1.contains { Self.contains(Array($0.1), "Exif") })
        #expect(app1.contains { Self.contains(Array($0.1), "http://ns.adobe.com/xap/1.0/") })
        #expect(Self.contains(input, "Canon"))
    }

    @Test func jpegOutputHasNoExifGPSOrXMP() throws {
        let encoded = try ImageResizer.resize(try Fixtures.bytes("formats/exif-gps.jpg"), .init(width: 320))
        #expect(Self.segments(encoded.bytes).allSatisfy { $0.0 != 0xE1 && $0.0 != 0xED && $0.0 != 0xE2 })
        #expect(!Self.contains(encoded.bytes, "Exif"))
        #expect(!Self.contains(encoded.bytes, "Canon"))
    }

    @Test(arguments: [OutputFormat.webp, .png, .avif])
    func otherFormatsCarryNoMetadata(_ format: OutputFormat) throws {
        let encoded = try ImageResizer.resize(
            try Fixtures.bytes("formats/exif-gps.jpg"), .init(width: 160), encode: .init(format: format))
        #expect(!Self.contains(encoded.bytes, "Exif"))
        #expect(!Self.contains(encoded.bytes, "Canon"))
        #expect(!Self.contains(encoded.bytes, "xap/1.0"))
    }

    /// Guards the tests above: with metadata kept, the same checks do find it.
    @Test func keepMetadataKeepsIt() throws {
        let encoded = try ImageResizer.resize(
            try Fixtures.bytes("formats/exif-gps.jpg"), .init(width: 320), encode: .init(metadata: .all))
        #expect(Self.segments(encoded.bytes).contains { $0.0 == 0xE1 })
        #expect(Self.contains(encoded.bytes, "Canon"))
    }
}
