import Foundation
import ImagePipeline
import ImgfnBase

/// The photos the harness measures: the committed 2.5 MP fixture plus the large real photos
/// `scripts/fetch-bench-photos.sh` puts in `Fixtures/large/` (see Fixtures/README.md).
enum Inputs {
    struct Entry {
        var id: String
        var path: String
        var kind: String
    }

    static let entries = [
        Entry(id: "2.5mp-baseline", path: "Fixtures/photos/storm.jpg", kind: "baseline JPEG"),
        Entry(id: "20mp-baseline", path: "Fixtures/large/kleiber-20mp.jpg", kind: "baseline JPEG"),
        Entry(id: "13mp-progressive", path: "Fixtures/large/dragonfly-13mp-progressive.jpg", kind: "progressive JPEG"),
        Entry(id: "4mp-png", path: "Fixtures/large/sunset-4mp.png", kind: "PNG"),
        Entry(id: "4mp-webp", path: "Fixtures/large/sunset-4mp.webp", kind: "WebP"),
        Entry(id: "24mp-baseline", path: "Fixtures/large/kleiber-24mp.jpg", kind: "baseline JPEG"),
    ]

    /// The photos, with their dimensions read by libvips (header only), relative to `root`.
    static func load(root: String) throws -> [Photo] {
        try entries.map { entry in
            let path = root + "/" + entry.path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BenchError("missing \(entry.path): run scripts/fetch-bench-photos.sh (make bench does)")
            }
            let info = try ImageResizer.info(of: SourceBytes([UInt8](data)))
            return Photo(
                id: entry.id, path: entry.path, width: info.orientedWidth, height: info.orientedHeight,
                bytes: data.count, kind: entry.kind)
        }
    }
}

extension Photo {
    var isJPEG: Bool { kind.hasSuffix("JPEG") }

    /// libjpeg's `-scale 1/N` for a `width`-wide result: the largest N in 1, 2, 4, 8 that still
    /// leaves at least `width` pixels, which is the shrink-on-load libvips' thumbnail uses.
    func jpegScale(toWidth width: Int) -> Int {
        [8, 4, 2, 1].first { (self.width + $0 - 1) / $0 >= width } ?? 1
    }

    /// The height of a `width`-wide resize, rounded as libvips does.
    func height(atWidth width: Int) -> Int {
        max(1, Int((Double(height) * Double(width) / Double(self.width)).rounded()))
    }
}
