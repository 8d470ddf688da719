import Foundation

/// What each file of the default set is worth and what the set costs: every file scored with
/// SSIMULACRA2 (`imgfn score`: against the source resized in float), ours and vipsthumbnail with
/// the same encoder settings; the CPU-seconds of the whole set (`imgfn derive` against one
/// vipsthumbnail per file), rounds alternated; and bytes at equal score, our 1280-px JPEG and
/// WebP against vipsthumbnail's own curve (its JPEG and its default effort-4 WebP at four
/// qualities, interpolated to our score).
struct QualityResult: Codable {
    struct File: Codable {
        var photo: String
        var tool: String
        var width: Int
        var format: String
        var bytes: Int
        var score: Double
    }

    struct SetCost: Codable {
        var photo: String
        var tool: String
        /// Medians over the rounds.
        var cpuSeconds: Double
        var wallMs: Double
        var peakRSSMiB: Double
    }

    struct EqualScore: Codable {
        var photo: String
        var format: String
        var width: Int
        var oursBytes: Int
        var oursScore: Double
        /// The peer's bytes interpolated to our score, and its measured (quality, bytes, score).
        var peerBytes: Double
        var peerCurve: [[Double]]
        var oursOverPeer: Double
    }

    var files: [File]
    var sets: [SetCost]
    /// Per photo: the median of each round's ours ÷ vipsthumbnail CPU-seconds.
    var cpuOursOverPeer: [String: Double]
    var equalScore: [EqualScore]
}

enum QualityBench {
    static let curveQualities = [60, 70, 80, 90]
    static let curveWidth = 1280

    static func measure(
        photos: [Photo], root: String, tools: WholeProcess.Tools, scratch: String, rounds: Int
    ) throws -> QualityResult {
        var result = QualityResult(files: [], sets: [], cpuOursOverPeer: [:], equalScore: [])
        let defaultSet = WholeProcess.DerivativeSetTask.defaultSet
        let outputs = defaultSet.outputs
        for photo in photos {
            log("quality and cost, derive-default: \(photo.id), \(rounds) rounds")
            let input = root + "/" + photo.path
            let dir = scratch + "/quality-\(photo.id)"
            let oursDir = dir + "/imgfn"
            let peerDir = dir + "/vipsthumbnail"
            var ours: [(ms: Double, rssMiB: Double, cpuMs: Double)] = []
            var peer: [(ms: Double, rssMiB: Double, cpuMs: Double)] = []
            for round in 0...rounds {
                for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                    let outDir = side == 0 ? oursDir : peerDir
                    try? FileManager.default.removeItem(atPath: outDir)
                    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
                    if side == 0 {
                        let run = try Spawn.timed(
                            [tools.imgfn, "derive", input, "--out", oursDir, "--prefix", ""], launcher: tools.launcher)
                        if round > 0 { ours.append(run) }
                    } else {
                        var total: (ms: Double, rssMiB: Double, cpuMs: Double) = (0, 0, 0)
                        for command in defaultSet.peerCommands(tools.vipsthumbnail, input: input, dir: peerDir) {
                            let run = try Spawn.timed(command, launcher: tools.launcher)
                            total = (total.ms + run.ms, max(total.rssMiB, run.rssMiB), total.cpuMs + run.cpuMs)
                        }
                        if round > 0 { peer.append(total) }
                    }
                }
            }
            for (tool, runs) in [("imgfn", ours), ("vipsthumbnail", peer)] {
                result.sets.append(
                    .init(
                        photo: photo.id, tool: tool, cpuSeconds: median(runs.map(\.cpuMs)) / 1000,
                        wallMs: median(runs.map(\.ms)), peakRSSMiB: median(runs.map(\.rssMiB))))
            }
            result.cpuOursOverPeer[photo.id] = median(zip(ours, peer).map { $0.cpuMs / $1.cpuMs })

            // The files of the last round, scored against one reference.
            let stem = (photo.path as NSString).lastPathComponent.replacingOccurrences(
                of: "." + (photo.path as NSString).pathExtension, with: "")
            var scored: [(tool: String, width: Int, format: String, path: String)] = []
            for (index, output) in outputs.enumerated() {
                let ext = String(output.suffix.prefix { $0 != "[" })
                let format = ext == "jpg" ? "jpeg" : ext
                scored.append(("imgfn", output.width, format, "\(oursDir)/\(stem)/w\(output.width).\(ext)"))
                scored.append(("vipsthumbnail", output.width, format, "\(peerDir)/o\(index).\(ext)"))
            }
            // vipsthumbnail's curve at one width, for bytes at equal score.
            var curve: [(format: String, quality: Int, path: String)] = []
            for format in ["jpeg", "webp"] {
                for quality in curveQualities {
                    let ext = format == "jpeg" ? "jpg" : "webp"
                    let settings = format == "jpeg" ? "Q=\(quality),interlace,strip" : "Q=\(quality),effort=4,strip"
                    let path = "\(peerDir)/curve-\(quality).\(ext)"
                    _ = try Spawn.timed(
                        [tools.vipsthumbnail, input, "-s", "\(curveWidth)x", "-o", "\(path)[\(settings)]"],
                        launcher: tools.launcher)
                    curve.append((format, quality, path))
                }
            }
            let scores = try score(input, scored.map(\.path) + curve.map(\.path), tools: tools, scratch: dir)
            for (file, score) in zip(scored, scores) {
                result.files.append(
                    .init(
                        photo: photo.id, tool: file.tool, width: file.width, format: file.format,
                        bytes: size(file.path), score: score))
            }
            let curveScores = Array(scores.dropFirst(scored.count))
            for format in ["jpeg", "webp"] {
                guard
                    let mine = result.files.first(where: {
                        $0.photo == photo.id && $0.tool == "imgfn" && $0.format == format && $0.width == curveWidth
                    })
                else { continue }
                let points = zip(curve, curveScores).filter { $0.0.format == format }.map {
                    (quality: Double($0.0.quality), bytes: Double(size($0.0.path)), score: $0.1)
                }
                let bytes = interpolate(points.map { ($0.score, $0.bytes) }, at: mine.score)
                result.equalScore.append(
                    .init(
                        photo: photo.id, format: format, width: curveWidth, oursBytes: mine.bytes,
                        oursScore: mine.score, peerBytes: bytes,
                        peerCurve: points.map { [$0.quality, $0.bytes, $0.score] },
                        oursOverPeer: Double(mine.bytes) / bytes))
            }
        }
        return result
    }

    /// `imgfn score --json SOURCE FILE…`, in the order given.
    static func score(_ source: String, _ files: [String], tools: WholeProcess.Tools, scratch: String) throws
        -> [Double]
    {
        let out = scratch + "/scores.json"
        _ = try Spawn.timed([tools.imgfn, "score", "--json", source] + files, launcher: tools.launcher, stdout: out)
        struct Row: Decodable {
            let file: String
            let ssimulacra2: Double
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        guard rows.count == files.count else { throw BenchError("imgfn score gave \(rows.count) of \(files.count)") }
        return rows.map(\.ssimulacra2)
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// Piecewise-linear y at `x` through `points` sorted by x; beyond either end, the nearest
    /// segment extended.
    static func interpolate(_ points: [(x: Double, y: Double)], at x: Double) -> Double {
        let sorted = points.sorted { $0.x < $1.x }
        guard sorted.count >= 2 else { return sorted.first?.y ?? .nan }
        var i = 0
        while i < sorted.count - 2 && x > sorted[i + 1].x { i += 1 }
        let (a, b) = (sorted[i], sorted[i + 1])
        guard b.x != a.x else { return (a.y + b.y) / 2 }
        return a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)
    }
}
