import Foundation

/// Whole-process runs (start-up included, as a CLI user or a cold function pays it): ours and
/// the peers on the same photo and output size, alternated round by round with the order
/// rotated each round, so machine drift lands on every tool alike. Ratios are per round.
struct WholeProcess {
    /// The programs, resolved on this machine.
    struct Tools {
        var launcher: String
        var imgfn: String
        var vipsthumbnail: String
        /// ImageMagick 6's `convert` (the real binary, not a wrapper), if installed.
        var imagemagick: String?
        /// `python3` when it can import PIL.
        var pillowPython: String?
        var pillowScript: String
        var djpeg: String
        var cjpeg: String
    }

    /// One tool's way of doing the task: the commands (run one after another, times summed,
    /// peak RSS the largest), after emptying `outputs`.
    struct Contestant {
        var tool: String
        var commands: [[String]]
        var outputs: String
    }

    /// A derivative set as `imgfn derive` makes it (`config` nil: the built-in default) and as
    /// vipsthumbnail runs, one process per output file with the same widths and encode settings.
    struct DerivativeSetTask {
        var task: String
        var config: String?
        var outputs: [(width: Int, suffix: String)]

        /// Our default encoder settings (`EncodeSettings.defaults`), so that both sides do the same work.
        static let jpeg = "jpg[Q=80,interlace,strip]", webp = "webp[Q=76,effort=2,strip]",
            avif = "avif[Q=54,effort=0,strip]"

        /// The peer's side of the set: one vipsthumbnail per output, `o<index>.<suffix>` in `dir`.
        func peerCommands(_ vipsthumbnail: String, input: String, dir: String) -> [[String]] {
            outputs.enumerated().map { index, output in
                [vipsthumbnail, input, "-s", "\(output.width)x", "-o", "\(dir)/o\(index).\(output.suffix)"]
            }
        }

        /// `PipelineConfig.default`: 320/640/1280/2048 in JPEG and WebP, AVIF for the large two.
        static let defaultSet = DerivativeSetTask(
            task: "derive-default", config: nil,
            outputs: [
                (320, jpeg), (320, webp), (640, jpeg), (640, webp),
                (1280, jpeg), (1280, webp), (1280, avif), (2048, jpeg), (2048, webp), (2048, avif),
            ])

        /// Three sizes × two formats (`Benchmarks/configs/web-3x2.json`): the set the derive
        /// target also allows, without the AVIF encodes that dominate both sides of the default.
        static func web3x2(root: String) -> DerivativeSetTask {
            DerivativeSetTask(
                task: "derive-web-3x2", config: root + "/Benchmarks/configs/web-3x2.json",
                outputs: [
                    (320, jpeg), (320, webp), (640, jpeg), (640, webp), (1280, jpeg), (1280, webp),
                ])
        }
    }

    let tools: Tools
    let scratch: String

    /// One 320-wide JPEG (quality 80, metadata stripped): ours, vipsthumbnail, ImageMagick with
    /// the exact `jpeg:size` hint, Pillow with `draft`; and for JPEGs the libjpeg-turbo floor,
    /// `djpeg -scale 1/N` and `cjpeg` of a 320-wide image, in the same rounds.
    func resize320(_ photo: Photo, root: String, rounds: Int) throws -> (ProcessComparison, Floor?) {
        let input = root + "/" + photo.path
        let dir = scratch + "/resize-\(photo.id)"
        let height = photo.height(atWidth: 320)
        var contestants = [
            Contestant(
                tool: "imgfn",
                commands: [
                    [
                        tools.imgfn, "resize", input, "--width", "320", "--format", "jpeg", "--quality", "80", "-o",
                        dir + "/imgfn/out.jpg",
                    ]
                ],
                outputs: dir + "/imgfn"),
            Contestant(
                tool: "vipsthumbnail",
                commands: [
                    [tools.vipsthumbnail, input, "-s", "320x", "-o", dir + "/vipsthumbnail/out.jpg[Q=80,strip]"]
                ],
                outputs: dir + "/vipsthumbnail"),
        ]
        if let convert = tools.imagemagick {
            let hint = photo.isJPEG ? ["-define", "jpeg:size=320x\(height)"] : []
            contestants.append(
                Contestant(
                    tool: "imagemagick",
                    commands: [
                        [convert] + hint + [
                            input, "-auto-orient", "-thumbnail", "320x", "-quality", "80", "-strip",
                            dir + "/imagemagick/out.jpg",
                        ]
                    ],
                    outputs: dir + "/imagemagick"))
        }
        if let python = tools.pillowPython {
            contestants.append(
                Contestant(
                    tool: "pillow",
                    commands: [[python, tools.pillowScript, input, dir + "/pillow/out.jpg", "320"]],
                    outputs: dir + "/pillow"))
        }
        let floor = try floorCommands(photo, root: root)
        if let floor {
            contestants.append(Contestant(tool: "djpeg", commands: [floor.decode], outputs: dir + "/djpeg"))
            contestants.append(Contestant(tool: "cjpeg", commands: [floor.encode], outputs: dir + "/cjpeg"))
        }
        let samples = try run(contestants, rounds: rounds)
        let comparison = compare(
            task: "resize-320", photo: photo, samples: samples, peers: ["vipsthumbnail", "imagemagick", "pillow"])
        guard let floor, let decode = samples["djpeg"], let encode = samples["cjpeg"], let ours = samples["imgfn"]
        else {
            return (comparison, nil)
        }
        let roundRatios = zip(ours, zip(decode, encode)).map { $0.ms / ($1.0.ms + $1.1.ms) }
        return (
            comparison,
            Floor(
                photo: photo.id, scale: floor.scale, decode: Timing(decode.map(\.ms)), encode: Timing(encode.map(\.ms)),
                oursWarmOverFloor: nil, oursProcessOverFloor: median(roundRatios))
        )
    }

    /// libjpeg-turbo alone doing what a 320-wide resize of a JPEG must: decode with the same DCT
    /// scaling libvips' shrink-on-load picks, and encode a 320-wide image.
    struct FloorCommands {
        var scale: Int
        /// `djpeg -scale 1/N` of the photo (its output discarded).
        var decode: [String]
        /// `cjpeg` of the 320-wide image, as a PPM made once.
        var encode: [String]

        /// Runs both; their summed wall time.
        func run(launcher: String) throws -> Double {
            try Spawn.timed(decode, launcher: launcher).ms + Spawn.timed(encode, launcher: launcher).ms
        }
    }

    /// The floor's commands for `photo` (nil unless it is a JPEG); makes the encode's input.
    func floorCommands(_ photo: Photo, root: String) throws -> FloorCommands? {
        guard photo.isJPEG else { return nil }
        let input = root + "/" + photo.path
        let dir = scratch + "/floor-\(photo.id)"
        let ppm = dir + "/320.ppm"
        if !FileManager.default.fileExists(atPath: ppm) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try Spawn.timed([tools.vipsthumbnail, input, "-s", "320x", "-o", ppm], launcher: tools.launcher)
        }
        let scale = photo.jpegScale(toWidth: 320)
        return FloorCommands(
            scale: scale, decode: [tools.djpeg, "-scale", "1/\(scale)", input],
            encode: [tools.cjpeg, "-quality", "80", ppm])
    }

    /// A derivative set: one `imgfn derive` against one vipsthumbnail per output.
    func derive(_ set: DerivativeSetTask, _ photo: Photo, root: String, rounds: Int) throws -> ProcessComparison {
        let input = root + "/" + photo.path
        let dir = scratch + "/\(set.task)-\(photo.id)"
        let peer = set.peerCommands(tools.vipsthumbnail, input: input, dir: dir + "/vipsthumbnail")
        let ours =
            [tools.imgfn, "derive", input, "--out", dir + "/imgfn"] + (set.config.map { ["--config", $0] } ?? [])
        let samples = try run(
            [
                Contestant(tool: "imgfn", commands: [ours], outputs: dir + "/imgfn"),
                Contestant(tool: "vipsthumbnail", commands: peer, outputs: dir + "/vipsthumbnail"),
            ], rounds: rounds)
        return compare(task: set.task, photo: photo, samples: samples, peers: ["vipsthumbnail"])
    }

    typealias Sample = (ms: Double, rss: Double)

    /// One unmeasured round (page cache, first-run effects), then `rounds` measured ones, each in
    /// an order rotated by one from the last.
    private func run(_ contestants: [Contestant], rounds: Int) throws -> [String: [Sample]] {
        var samples: [String: [Sample]] = [:]
        for round in 0...rounds {
            for offset in contestants.indices {
                let contestant = contestants[(round + offset) % contestants.count]
                try? FileManager.default.removeItem(atPath: contestant.outputs)
                try FileManager.default.createDirectory(atPath: contestant.outputs, withIntermediateDirectories: true)
                var total: Sample = (0, 0)
                for command in contestant.commands {
                    let result = try Spawn.timed(command, launcher: tools.launcher)
                    total = (total.ms + result.ms, max(total.rss, result.rssMiB))
                }
                if round > 0 { samples[contestant.tool, default: []].append(total) }
            }
        }
        return samples
    }

    private func compare(task: String, photo: Photo, samples: [String: [Sample]], peers: [String]) -> ProcessComparison
    {
        let ours = samples["imgfn"] ?? []
        return ProcessComparison(
            task: task, photo: photo.id, ours: Timing(ours.map(\.ms), rss: ours.map(\.rss)),
            peers: peers.compactMap { tool in
                guard let theirs = samples[tool] else { return nil }
                let ratios = zip(ours, theirs).map { $0.ms / $1.ms }
                return PeerTiming(
                    tool: tool, timing: Timing(theirs.map(\.ms), rss: theirs.map(\.rss)), oursOverPeer: median(ratios))
            })
    }
}
