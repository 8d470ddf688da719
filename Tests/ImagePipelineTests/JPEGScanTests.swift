import ImgfnBase
import TestSupport
import Testing

@testable import ImagePipeline

/// A progressive JPEG with very many scans is refused before decoding: each scan is a pass over
/// the whole image inside one libjpeg call, which no deadline can interrupt.
@Suite struct JPEGScanTests {
    /// `progressive.jpg` (10 scans) with its last scan repeated until it has `scans`.
    static func progressive(scans: Int) throws -> [UInt8] {
        let bytes = Fixtures.array("formats/progressive.jpg")
        let lastScan = try #require(
            (0..<(bytes.count - 1)).last { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        #expect(Array(bytes.suffix(2)) == [0xFF, 0xD9])
        let scan = bytes[lastScan..<(bytes.count - 2)]
        var out = Array(bytes.dropLast(2))
        for _ in 10..<scans { out += scan }
        return out + [0xFF, 0xD9]
    }

    static func count(_ bytes: [UInt8], limit: Int = DecodeLimits.maxProgressiveJPEGScans) -> Int {
        bytes.withUnsafeBytes { JPEGStructure.scanCount($0, limit: limit) }
    }

    @Test func scansAreCountedByTheirMarkersOnly() throws {
        #expect(Self.count(Fixtures.array("formats/progressive.jpg")) == 10)
        // FF DA occurs three times in this file's bytes, twice inside its EXIF segment.
        let exif = Fixtures.array("formats/exif-gps.jpg")
        #expect((0..<(exif.count - 1)).filter { exif[$0] == 0xFF && exif[$0 + 1] == 0xDA }.count == 3)
        #expect(Self.count(exif) == 1)
        #expect(Self.count(try Self.progressive(scans: 300), limit: 20) == 21)  // stops past the limit
    }

    @Test func aProgressiveJPEGOverTheScanLimitIsRefusedBeforeDecoding() throws {
        let limit = DecodeLimits.maxProgressiveJPEGScans
        let over = try Self.progressive(scans: limit + 1)
        let error = #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(SourceBytes(over), .init(width: 100))
        }
        #expect(error?.code == .overLimit)
        #expect(error?.message == "progressive JPEG has more than 256 scans (each costs a pass over the whole image)")
        // Stray bytes before a header segment (libjpeg skips them with a warning, decoding every
        // scan first) do not hide the scans.
        #expect(over[2] == 0xFF && (0xC0...0xFE).contains(over[3]) && over[3] != 0xDA)  // SOI, a header segment
        let afterFirstSegment = 4 + (Int(over[4]) << 8 | Int(over[5]))
        let stray = Array(over.prefix(afterFirstSegment)) + [0x00, 0x13] + over.dropFirst(afterFirstSegment)
        #expect(Self.count(stray) == limit + 1)
        let strayError = #expect(throws: ImgfnError.self) {
            try ImageResizer.resize(SourceBytes(stray), .init(width: 100))
        }
        #expect(strayError?.code == .overLimit)
        // At the limit the header is accepted (its repeated scans are then libjpeg's to judge).
        let at = try Self.progressive(scans: limit)
        #expect(Self.count(at) == limit)
        #expect(try ImageResizer.info(of: SourceBytes(at)).interlaced)
    }
}
