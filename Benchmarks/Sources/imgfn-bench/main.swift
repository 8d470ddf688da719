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
    VipsRuntime.configure(VipsRuntime.Settings(environment: ProcessInfo.processInfo.environment))
    try VipsRuntime.start()
    let photos = try Inputs.load(root: options.root)
    let scratch = NSTemporaryDirectory() + "imgfn-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    let tools = try resolveTools(options)
    let machine = describeMachine(tools)
    log(
        "\(machine.cpu), \(machine.cores) cores; ours: libvips \(machine.ourLibvips); peers: "
            + machine.peers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; "))

    let bench = Bench(options: options, photos: photos, tools: tools, scratch: scratch)
    var report =
        try options.only.map { try bench.measureOnly($0, started: started, machine: machine) }
        ?? bench.measureAll(started: started, machine: machine)
    report.ratios = Gate.ratios(of: report)
    let baselinePath = options.baseline.hasPrefix("/") ? options.baseline : options.root + "/" + options.baseline
    if options.writeBaseline {
        // One run can be a lucky or an unlucky one: the baseline is each figure's median over three.
        var runs = [report.ratios]
        for run in 2...3 {
            log("baseline: run \(run) of 3")
            runs.append(Gate.ratios(of: try bench.measureAll(started: started, machine: machine)))
        }
        try Gate.write(Gate.medians(of: runs), machine: machine, to: baselinePath)
        log("wrote \(options.baseline)")
    }
    if FileManager.default.fileExists(atPath: baselinePath) {
        var baseline = try Gate.load(baselinePath)
        if let only = options.only {
            // Only the measured units' keys: the others were not measured.
            baseline.ratios = baseline.ratios.filter { key, _ in
                Bench.unit(of: key, photos: photos).map { only.contains($0.id) } ?? false
            }
        }
        report.gate = Gate.check(report.ratios, against: baseline)
        let failing = report.gate.filter { !$0.passed }.map(\.key)
        if !failing.isEmpty {
            log("over tolerance, measuring again: \(failing.joined(separator: ", "))")
            let again = try bench.remeasure(failing, in: report)
            report.gate = Gate.check(report.ratios, against: baseline, remeasured: again)
        }
    }

    let results = options.results.hasPrefix("/") ? options.results : options.root + "/" + options.results
    try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(report).write(to: URL(fileURLWithPath: results + "/latest.json"))
    let markdown = Report.markdown(report)
    try markdown.write(toFile: results + "/latest.md", atomically: true, encoding: .utf8)
    try Report.svg(report).write(toFile: results + "/latest.svg", atomically: true, encoding: .utf8)
    if options.updateReadme { try updateReadme(options.root + "/README.md", with: markdown) }
    print(markdown)
    // stdout is a pipe in CI: flush the report so the verdict below comes after it, last in the log.
    fflush(nil)
    log("wrote \(options.results)/latest.json, latest.md, latest.svg")

    let failed = report.gate.filter { !$0.passed }
    for check in failed {
        let again = check.remeasured.map { ", again \(String(format: "%.3f", $0))" } ?? ""
        log(
            "REGRESSION \(check.key): \(String(format: "%.3f", check.current))\(again) > baseline \(check.baseline) "
                + "+ \(Int(check.tolerance * 100)) %")
    }
    if !report.gate.isEmpty {
        log("gate: \(report.gate.count - failed.count) of \(report.gate.count) checks pass")
    }
    return !options.gate || failed.isEmpty
}

func resolveTools(_ options: Options) throws -> WholeProcess.Tools {
    func required(_ name: String) throws -> String {
        guard let path = Spawn.which(name) else {
            throw BenchError("\(name) not found: run scripts/install-deps.sh --bench")
        }
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
    let cpu =
        cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
    let memKiB =
        meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
        .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
    let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
    let os =
        osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
        .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
    var name = utsname()
    uname(&name)
    let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    var peers: [String: String] = [:]
    peers["vipsthumbnail"] = Spawn.firstLine([tools.vipsthumbnail, "--vips-version"])
    peers["imagemagick"] = tools.imagemagick.flatMap { Spawn.firstLine([$0, "-version"]) }
        .map { $0.replacingOccurrences(of: "Version: ", with: "").components(separatedBy: " https").first ?? $0 }
    peers["pillow"] = tools.pillowPython.flatMap {
        Spawn.firstLine([$0, "-c", "import PIL; print('Pillow', PIL.__version__)"])
    }
    peers["djpeg"] = Spawn.firstLine([tools.djpeg, "-version"])
    return Machine(
        cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount,
        memoryGiB: (memKiB / 1_048_576 * 10).rounded() / 10,
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
