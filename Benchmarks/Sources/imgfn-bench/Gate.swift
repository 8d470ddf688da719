import Foundation

/// The regression gate: the ratios of a run against the checked-in `Benchmarks/baseline.json`.
/// Every figure is "lower is better" (ours ÷ a peer, ours ÷ the decode floor, init ÷ a trivial
/// C process, peak RSS); a figure fails when it exceeds its baseline by more than its tolerance.
/// Ratios rather than times: CI machines are shared and noisy, but a peer measured in the same
/// rounds slows down with us.
enum Gate {
    struct Baseline: Codable {
        struct Entry: Codable {
            var value: Double
            /// Allowed regression as a fraction of `value`.
            var tolerance: Double
        }

        var note: String
        var ratios: [String: Entry]
    }

    /// The figures of `report` the gate knows, by key.
    static func ratios(of report: BenchReport) -> [String: Double] {
        var ratios: [String: Double] = [:]
        for comparison in report.wholeProcess {
            for peer in comparison.peers where peer.tool == "vipsthumbnail" {
                ratios["process.\(comparison.task).\(comparison.photo).ours÷vipsthumbnail"] = peer.oursOverPeer
            }
            if comparison.task == "derive-default", let rss = comparison.ours.peakRSSMiB {
                ratios["process.derive-default.\(comparison.photo).peak-rss-mib"] = rss
            }
        }
        for function in report.function {
            ratios["function.\(function.task).\(function.photo).peak-rss-mib"] = function.peakRSSMedianMiB
            ratios["function.\(function.task).\(function.photo).idle-rss-mib"] = function.idleRSSMiB
        }
        for shape in report.shapes where shape.input != Shapes.upright.id {
            ratios["shapes.derive-default.\(shape.input).ours÷upright"] = shape.overUpright
        }
        for floor in report.floors {
            if let warm = floor.oursWarmOverFloor { ratios["warm.resize-320.\(floor.photo).ours÷floor"] = warm }
        }
        if let backfill = report.backfill {
            ratios["backfill.ours÷invoke-loop"] = backfill.oursOverLoop
            ratios["backfill.up-to-date-requests-per-1000"] = backfill.upToDateTotalPer1000
        }
        if let http = report.http {
            for photo in HTTPBench.photos {
                guard let ours = http.requestsPerSecond("imgfn", "transform-320-jpeg", photo), ours > 0 else {
                    continue
                }
                if let thumbor = http.requestsPerSecond("thumbor", "transform-320-jpeg", photo) {
                    ratios["http.transform-320-jpeg.\(photo).thumbor÷ours"] = thumbor / ours
                }
                if let floor = http.decodeFloor[photo] {
                    ratios["http.transform-320-jpeg.\(photo).floor÷ours"] = floor / ours
                }
            }
            if let transform = http.requestsPerSecond("imgfn", "transform-320-jpeg", "20mp-baseline"),
                let cached = http.requestsPerSecond("imgfn", "cached-hit", "20mp-baseline"), cached > 0
            {
                ratios["http.cached-hit.20mp-baseline.transform÷cached"] = transform / cached
            }
            if let overload = http.overload { ratios["http.overload.peak-rss-mib"] = overload.peakRSSMiB }
        }
        if let quality = report.quality {
            for (photo, ratio) in quality.cpuOursOverPeer {
                ratios["quality.derive-default.\(photo).cpu-seconds.ours÷vipsthumbnail"] = ratio
            }
            for row in quality.equalScore {
                ratios["quality.\(row.format)-\(row.width).\(row.photo).bytes-at-equal-score.ours÷vipsthumbnail"] =
                    row.oursOverPeer
            }
        }
        let initMs = Dictionary(report.coldInit.map { ($0.variant, $0.initMedianMs) }) { first, _ in first }
        if let bundle = initMs["bundle"], let floor = initMs["c-client"], floor > 0 {
            ratios["cold-init.bundle÷c-client"] = bundle / floor
        }
        return ratios
    }

    /// Tolerances for a new baseline: whole-process ratios are read to about ±10 % on a shared
    /// machine, so they get 25 %; warm ÷ floor sets our multi-threaded in-process resize against
    /// two single-threaded processes, which a busy neighbour slows unequally (±20 % seen on the
    /// 2.5 MP photo before the pairing, 1.33–1.45 since), and process start has a 1–2 ms denominator, so those get more; memory is
    /// steadier (±2 % between runs): 8 % on a peak (about 12 MiB of a 24 MP set), 10 % on the
    /// smaller idle figure (the function's idle RSS creeps up by 15–25 % over a few
    /// invocations without its post-invocation trim).
    static func defaultTolerance(for key: String) -> Double {
        if key.hasPrefix("cold-init.") { return 0.5 }
        // A count, not a time: it moves only when the code does.
        if key == "backfill.up-to-date-requests-per-1000" { return 0.02 }
        if key.hasPrefix("warm.") { return 0.4 }
        // Requests per second with wrk on the same two cores as the servers: noisier than a
        // process timed alone.
        if key.hasPrefix("http.") && !key.hasSuffix("rss-mib") { return 0.35 }
        // Bytes and scores are deterministic for a given build: only the code moves them.
        if key.contains("bytes-at-equal-score") { return 0.05 }
        if key.hasSuffix("peak-rss-mib") { return 0.08 }
        if key.hasSuffix("idle-rss-mib") { return 0.1 }
        return 0.25
    }

    /// Each baseline figure against this run's. A figure over its tolerance that was measured
    /// again (`remeasured`) passes when the second measurement is within it: noise on a shared
    /// machine seldom strikes the same figure twice, a regression does.
    static func check(_ ratios: [String: Double], against baseline: Baseline, remeasured: [String: Double] = [:])
        -> [GateCheck]
    {
        baseline.ratios.keys.sorted().map { key in
            let entry = baseline.ratios[key]!
            let limit = entry.value * (1 + entry.tolerance)
            let current = ratios[key] ?? .infinity
            let again = current <= limit ? nil : remeasured[key]
            return GateCheck(
                key: key, baseline: entry.value, current: current, remeasured: again, tolerance: entry.tolerance,
                passed: current <= limit || (again.map { $0 <= limit } ?? false))
        }
    }

    /// Each key's median over `runs` (keys missing from a run are taken over the others).
    static func medians(of runs: [[String: Double]]) -> [String: Double] {
        let keys = Set(runs.flatMap(\.keys))
        return Dictionary(uniqueKeysWithValues: keys.map { key in (key, median(runs.compactMap { $0[key] })) })
    }

    static func load(_ path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("no baseline at \(path)") }
        return try JSONDecoder().decode(Baseline.self, from: data)
    }

    static func write(_ ratios: [String: Double], machine: Machine, to path: String) throws {
        var entries: [String: Baseline.Entry] = [:]
        for (key, value) in ratios {
            entries[key] = Baseline.Entry(value: (value * 1000).rounded() / 1000, tolerance: defaultTolerance(for: key))
        }
        let baseline = Baseline(
            note: "Written by `make bench-baseline` on \(machine.cpu), \(machine.cores) cores. Lower is better; "
                + "a run fails the gate when a figure exceeds value × (1 + tolerance).",
            ratios: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(baseline).write(to: URL(fileURLWithPath: path))
    }
}
