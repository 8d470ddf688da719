import Foundation
import ImagePipeline
import ImageService

/// The default set on inputs of unusual shape, against the same photo upright, in the same
/// rounds: a 12 MP phone photo stored sideways (EXIF orientation 6) and two 50:1 panoramas
/// (400×20000, 20000×400) whose large sizes no WebP or AVIF can hold. Inputs come from
/// `Fixtures/make-matrix-fixtures.py` (`make matrix-fixtures`).
///
/// What bounds a panorama's time: nothing is enlarged, so every derivative has at most the
/// source's pixels (8 MP here, and the source itself at most `maxPixels`); a file over its
/// format's size limit is left out before any encoding (`OutputFormat.maxDimension`), so the
/// costly encoders never see it.
enum Shapes {
    struct Input {
        var id: String
        var file: String
        var what: String
    }

    static let upright = Input(
        id: "12mp-upright", file: "phone-12mp-orientation-1-baseline.jpg", what: "4272×2848 baseline JPEG, upright")
    static let others = [
        Input(
            id: "12mp-sideways", file: "phone-12mp-orientation-6-baseline.jpg",
            what: "the same photo stored 2848×4272, EXIF orientation 6"),
        Input(id: "400x20000", file: "tall-400x20000.jpg", what: "400×20000 baseline JPEG"),
        Input(id: "20000x400", file: "wide-20000x400.jpg", what: "20000×400 baseline JPEG"),
    ]

    /// Each input's `imgfn derive` (default set) as a whole process, `rounds` measured rounds
    /// after one unmeasured, inputs in an order rotated each round.
    static func measure(imgfn: String, launcher: String, root: String, rounds: Int, scratch: String) throws
        -> [ShapeResult]
    {
        let inputs = [upright] + others
        let dir = root + "/Fixtures/large/matrix"
        for input in inputs where !FileManager.default.fileExists(atPath: "\(dir)/\(input.file)") {
            throw BenchError("missing Fixtures/large/matrix/\(input.file): run make matrix-fixtures (make bench does)")
        }
        var samples: [String: [(ms: Double, rss: Double)]] = [:]
        var made: [String: (files: Int, omitted: Int)] = [:]
        for round in 0...rounds {
            for offset in inputs.indices {
                let input = inputs[(round + offset) % inputs.count]
                let out = "\(scratch)/shapes/\(input.id)"
                try? FileManager.default.removeItem(atPath: out)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let result = try Spawn.timed(
                    [imgfn, "derive", "\(dir)/\(input.file)", "--out", out], launcher: launcher)
                if round > 0 { samples[input.id, default: []].append((result.ms, result.rssMiB)) }
                made[input.id] = try count(out)
            }
        }
        let base = samples[upright.id] ?? []
        return inputs.map { input in
            let own = samples[input.id] ?? []
            return ShapeResult(
                input: input.id, what: input.what, timing: Timing(own.map(\.ms), rss: own.map(\.rss)),
                overUpright: median(zip(own, base).map { $0.ms / $1.ms }),
                files: made[input.id]?.files ?? 0, omitted: made[input.id]?.omitted ?? 0)
        }
    }

    /// Files written and left out, from the one manifest under `out`.
    static func count(_ out: String) throws -> (files: Int, omitted: Int) {
        let all = FileManager.default.enumerator(atPath: out)?.allObjects as? [String] ?? []
        guard let path = all.first(where: { $0.hasSuffix("manifest.json") }),
            let data = FileManager.default.contents(atPath: "\(out)/\(path)")
        else { throw BenchError("imgfn derive wrote no manifest under \(out)") }
        let manifest = try JSONDecoder().decode(Manifest.self, from: data)
        return (manifest.derivatives.count, manifest.omitted?.count ?? 0)
    }
}

/// The default set on one unusual input, whole process.
struct ShapeResult: Codable {
    var input: String
    var what: String
    var timing: Timing
    /// Median over rounds of this input's time ÷ the upright photo's in the same round.
    var overUpright: Double
    var files: Int
    var omitted: Int
}
