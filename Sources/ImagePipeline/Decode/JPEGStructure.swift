/// Structural checks on JPEG bytes that libvips 8.14 does not make itself.
///
/// libvips' buffer and source JPEG loaders meet a truncated file by inserting an end-of-image
/// marker and issuing a warning, which `fail_on` does not catch there (only the file loader
/// fails). The result would be a derivative with a grey band, published as if it were fine.
/// A JPEG whose entropy-coded data is cut short has no EOI marker (FF D9) after its first scan:
/// within scan data a 0xFF byte is always followed by 0x00 or a restart marker, so FF D9 there
/// can only be the real EOI.
enum JPEGStructure {
    /// False when the file certainly ends before its end-of-image marker; true when it has one
    /// after the first scan, or when the marker structure is too unusual to judge (libvips then
    /// decides).
    static func hasEndOfImage(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch walkHeaders(bytes) {
        case .unusual: return true
        case .cutShort: return false
        case .scan(let firstScan):
            var i = bytes.count - 2
            while i >= firstScan {
                if bytes[i] == 0xFF && bytes[i + 1] == 0xD9 { return true }
                i -= 1
            }
            return false
        }
    }

    private enum Headers {
        case scan(at: Int)
        case cutShort
        case unusual
    }

    /// Walks marker segments from SOI to the first SOS.
    private static func walkHeaders(_ bytes: UnsafeRawBufferPointer) -> Headers {
        var i = 2
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return .unusual }
            switch bytes[i + 1] {
            case 0xFF: i += 1  // fill byte
            case 0xD8, 0x01, 0xD0...0xD7: i += 2  // markers without a length
            case 0xDA: return .scan(at: i)
            default: i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
            }
        }
        return .cutShort
    }
}
