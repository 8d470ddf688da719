// imgfn-bench: cold init, per-image latency and the derivative set, ours against peers in the
// same run; writes Benchmarks/results/latest.{json,md,svg} and gates on Benchmarks/baseline.json.
// See README "Performance" and `make bench` / `make bench-quick`.
import Foundation
import ImagePipeline

#if canImport(Glibc)
import Glibc
#endif

/// Progress goes to stderr so stdout stays the Markdown report.
func log(_ message: String) {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
}

func run(_ options: Options) throws -> Bool {
    let started = ISO8601DateFormatter().string(from: Date())
    try VipsRuntime.start()
    let photos = try Inputs.load(root: options.root)
    let scratch = NSTemporaryDirectory() + "imgfn-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    let tools = try resolveTools(options)
    let machine = describeMachine(tools)
    log("\(machine.cpu), \(machine.cores) cores; ours: libvips \(machine.ourLibvips); peers: "
        + machine.peers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; "))

    // Cold start first, while this process is small and the machine quiet.
    log("cold init: \(options.coldInitRuns) runs per variant")
    let coldInit = try ColdInit.measure(ColdInitSetup(
        bundleRoot: options.bundle, debianBootstrap: options.debianBootstrap,
        cClient: options.tools + "/next-client", photoPath: options.root + "/Fixtures/photos/storm.jpg",
        runs: options.coldInitRuns, scratch: scratch + "/cold"))

    let wholeProcess = WholeProcess(tools: tools, scratch: scratch + "/process")
    var comparisons: [ProcessComparison] = []
    var floors: [Floor] = []
    for photo in photos {
        log("whole process, resize-320: \(photo.id), \(options.resizeRounds) rounds")
        let (comparison, floor) = try wholeProcess.resize320(photo, root: options.root, rounds: options.resizeRounds)
        comparisons.append(comparison)
        if let floor { floors.append(floor) }
    }
    for set in [WholeProcess.DerivativeSetTask.defaultSet, .web3x2(root: options.root)] {
        for photo in photos where options.derivePhotos.contains(photo.id) {
            log("whole process, \(set.task): \(photo.id), \(options.deriveRounds) rounds")
            comparisons.append(try wholeProcess.derive(set, photo, root: options.root, rounds: options.deriveRounds))
        }
    }

    var warm: [WarmResult] = []
    let budgetMs: Double = options.quick ? 3000 : 20000
    for photo in photos {
        log("warm, resize-320: \(photo.id)")
        warm.append(try Warm.resize320(photo, root: options.root, iterations: options.warmResizeIterations, budgetMs: budgetMs))
    }
    for photo in photos where options.derivePhotos.contains(photo.id) {
        log("warm, derive-default: \(photo.id)")
        warm.append(try Warm.deriveDefault(photo, root: options.root, iterations: options.warmDeriveIterations,
                                           budgetMs: budgetMs * 2))
    }
    for index in floors.indices {
        guard let ours = warm.first(where: { $0.task == "resize-320" && $0.photo == floors[index].photo }) else { continue }
        floors[index].oursWarmOverFloor = ours.p50Ms / (floors[index].decode.medianMs + floors[index].encode.medianMs)
    }

    var report = BenchReport(
        started: started, mode: options.quick ? "quick" : "full", machine: machine, photos: photos,
        wholeProcess: comparisons, floors: floors, warm: warm, coldInit: coldInit, ratios: [:], gate: [])
    report.ratios = Gate.ratios(of: report)
    let baselinePath = options.root + "/" + options.baseline
    if options.writeBaseline {
        try Gate.write(report.ratios, machine: machine, to: baselinePath)
        log("wrote \(options.baseline)")
    }
    if FileManager.default.fileExists(atPath: baselinePath) {
        report.gate = Gate.check(report.ratios, against: try Gate.load(baselinePath))
    }

    let results = options.root + "/" + options.results
    try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(report).write(to: URL(fileURLWithPath: results + "/latest.json"))
    let markdown = Report.markdown(report)
    try markdown.write(toFile: results + "/latest.md", atomically: true, encoding: .utf8)
    try Report.svg(report).write(toFile: results + "/latest.svg", atomically: true, encoding: .utf8)
    if options.updateReadme { try updateReadme(options.root + "/README.md", with: markdown) }
    print(markdown)
    log("wrote \(options.results)/latest.json, latest.md, latest.svg")

    let failed = report.gate.filter { !$0.passed }
    for check in failed {
        log("REGRESSION \(check.key): \(String(format: "%.3f", check.current)) > baseline \(check.baseline) "
            + "+ \(Int(check.tolerance * 100)) %")
    }
    return !options.gate || failed.isEmpty
}

func resolveTools(_ options: Options) throws -> WholeProcess.Tools {
    func required(_ name: String) throws -> String {
        guard let path = Spawn.which(name) else { throw BenchError("\(name) not found: run scripts/install-deps.sh --bench") }
        return path
    }
    // The real ImageMagick 6 binary: `convert` may be a wrapper script on some machines.
    let imagemagick = Spawn.which("convert-im6.q16") ?? Spawn.which("convert")
    let python = Spawn.which("python3")
    let pillow = python.flatMap { Spawn.firstLine([$0, "-c", "import PIL; print(PIL.__version__)"]) != nil ? $0 : nil }
    if pillow == nil { log("Pillow not importable: measured without it") }
    return WholeProcess.Tools(
        launcher: options.tools + "/timed-run", imgfn: options.imgfn, vipsthumbnail: try required("vipsthumbnail"),
        imagemagick: imagemagick, pillowPython: pillow,
        pillowScript: options.root + "/Benchmarks/peers/pillow_thumbnail.py",
        djpeg: try required("djpeg"), cjpeg: try required("cjpeg"))
}

func describeMachine(_ tools: WholeProcess.Tools) -> Machine {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let cpu = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
    let memKiB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
        .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
    let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
    let os = osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
        .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
    var name = utsname()
    uname(&name)
    let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    var peers: [String: String] = [:]
    peers["vipsthumbnail"] = Spawn.firstLine([tools.vipsthumbnail, "--vips-version"])
    peers["imagemagick"] = tools.imagemagick.flatMap { Spawn.firstLine([$0, "-version"]) }
        .map { $0.replacingOccurrences(of: "Version: ", with: "").components(separatedBy: " https").first ?? $0 }
    peers["pillow"] = tools.pillowPython.flatMap { Spawn.firstLine([$0, "-c", "import PIL; print('Pillow', PIL.__version__)"]) }
    peers["djpeg"] = Spawn.firstLine([tools.djpeg, "-version"])
    return Machine(
        cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount, memoryGiB: (memKiB / 1_048_576 * 10).rounded() / 10,
        kernel: kernel, os: os, ourLibvips: VipsRuntime.libvipsVersion, peers: peers)
}

/// Replaces the text between the README's bench markers with `markdown`.
func updateReadme(_ path: String, with markdown: String) throws {
    let readme = try String(contentsOfFile: path, encoding: .utf8)
    guard let start = readme.range(of: "<!-- bench:start -->"), let end = readme.range(of: "<!-- bench:end -->"),
          start.upperBound <= end.lowerBound
    else { throw BenchError("README.md has no <!-- bench:start --> … <!-- bench:end --> markers") }
    let updated = readme[..<start.upperBound] + "\n" + markdown + "\n" + readme[end.lowerBound...]
    try String(updated).write(toFile: path, atomically: true, encoding: .utf8)
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    exit(try run(options) ? 0 : 1)
} catch {
    log("error: \(error)")
    exit(2)
}
