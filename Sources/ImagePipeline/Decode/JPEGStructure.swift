#if canImport(Glibc)
    import Glibc
#endif

/// Structural checks on JPEG bytes that libvips does not make itself.
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

    /// The scans (SOS segments) of a JPEG's image data, counted to `limit + 1` at most. Cheap: a
    /// `memchr` from one 0xFF byte to the next, no decoding. Within entropy-coded data 0xFF is
    /// always followed by 0x00 or a restart marker, so every other FF xx is a real marker; an
    /// embedded EXIF thumbnail sits in an APP segment, which is skipped by its length. Stray
    /// bytes between segments are skipped to the next marker, as libjpeg skips them (with only
    /// a warning), so they cannot hide scans from the count.
    static func scanCount(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int {
        guard let base = bytes.baseAddress, bytes.count >= 4 else { return 0 }
        let count = bytes.count
        /// The next marker at or after `start`: an FF followed by neither 00, a restart marker
        /// nor another FF (fill).
        func nextMarker(from start: Int) -> Int {
            var j = start
            while j + 1 < count {
                guard let found = memchr(base + j, 0xFF, count - j) else { return count }
                j = base.distance(to: UnsafeRawPointer(found))
                guard j + 1 < count else { return count }
                switch bytes[j + 1] {
                case 0x00, 0xD0...0xD7: j += 2
                case 0xFF: j += 1
                default: return j
                }
            }
            return count
        }
        var scans = 0
        var i = nextMarker(from: 2)  // after SOI
        while i + 4 <= count {
            let marker = bytes[i + 1]
            if marker == 0xD9 { break }
            if marker == 0xDA {
                scans += 1
                if scans > limit { break }
            }
            switch marker {
            case 0xD8, 0x01, 0xD0...0xD7: i += 2
            default: i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
            }
            i = nextMarker(from: i)
        }
        return scans
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
