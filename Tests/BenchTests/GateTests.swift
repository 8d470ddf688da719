import Foundation
import Testing

@testable import imgfn_bench

/// The regression gate and the report, on a hand-made run (no processes started).
@Suite struct GateTests {
    static func report(resizeRatio: Double, rss: Double, initMs: Double) -> BenchReport {
        let timing = Timing(runs: 3, medianMs: 10, p90Ms: 11, minMs: 9, peakRSSMiB: rss)
        return BenchReport(
            started: "2026-11-25T12:00:00Z", mode: "quick",
            machine: Machine(cpu: "test CPU", cores: 2, memoryGiB: 4, kernel: "6.0", os: "Debian", ourLibvips: "8.18.7",
                             peers: ["vipsthumbnail": "libvips 8.14.1"]),
            photos: [Photo(id: "24mp-baseline", path: "x.jpg", width: 6571, height: 3696, bytes: 1, kind: "baseline JPEG")],
            wholeProcess: [
                ProcessComparison(task: "resize-320", photo: "24mp-baseline", ours: timing,
                                  peers: [PeerTiming(tool: "vipsthumbnail", timing: timing, oursOverPeer: resizeRatio)]),
                ProcessComparison(task: "derive-default", photo: "24mp-baseline", ours: timing,
                                  peers: [PeerTiming(tool: "vipsthumbnail", timing: timing, oursOverPeer: 0.6)]),
            ],
            floors: [Floor(photo: "24mp-baseline", scale: 8, decode: timing, encode: timing, oursWarmOverFloor: 1.1,
                           oursProcessOverFloor: 1.4)],
            warm: [],
            coldInit: [
                ColdInitResult(variant: "bundle", description: "b", runs: 20, initMedianMs: initMs, initP90Ms: initMs),
                ColdInitResult(variant: "c-client", description: "c", runs: 20, initMedianMs: 1, initP90Ms: 1),
            ],
            ratios: [:], gate: [])
    }

    static let baseline = Gate.Baseline(note: "test", ratios: [
        "process.resize-320.24mp-baseline.ours÷vipsthumbnail": .init(value: 0.7, tolerance: 0.25),
        "process.derive-default.24mp-baseline.peak-rss-mib": .init(value: 140, tolerance: 0.15),
        "cold-init.bundle÷c-client": .init(value: 14, tolerance: 0.5),
        "warm.resize-320.24mp-baseline.ours÷floor": .init(value: 1.1, tolerance: 0.25),
    ])

    @Test func ratiosAreTakenFromTheRun() {
        let ratios = Gate.ratios(of: Self.report(resizeRatio: 0.7, rss: 142, initMs: 15))
        #expect(ratios["process.resize-320.24mp-baseline.ours÷vipsthumbnail"] == 0.7)
        #expect(ratios["process.derive-default.24mp-baseline.ours÷vipsthumbnail"] == 0.6)
        #expect(ratios["process.derive-default.24mp-baseline.peak-rss-mib"] == 142)
        #expect(ratios["cold-init.bundle÷c-client"] == 15)
        #expect(ratios["warm.resize-320.24mp-baseline.ours÷floor"] == 1.1)
    }

    @Test func withinToleranceItPasses() {
        let checks = Gate.check(Gate.ratios(of: Self.report(resizeRatio: 0.85, rss: 160, initMs: 20)), against: Self.baseline)
        #expect(checks.count == 4)
        #expect(checks.allSatisfy { $0.passed })
    }

    @Test func aRegressionBeyondToleranceFailsThatCheckOnly() {
        // 0.7 × 1.25 = 0.875 allowed; 0.9 is a regression. Memory 140 × 1.15 = 161 allowed; 170 is one.
        let checks = Gate.check(Gate.ratios(of: Self.report(resizeRatio: 0.9, rss: 170, initMs: 15)), against: Self.baseline)
        let failed = Set(checks.filter { !$0.passed }.map(\.key))
        #expect(failed == ["process.resize-320.24mp-baseline.ours÷vipsthumbnail",
                           "process.derive-default.24mp-baseline.peak-rss-mib"])
    }

    @Test func aFigureMissingFromTheRunFails() {
        var report = Self.report(resizeRatio: 0.7, rss: 142, initMs: 15)
        report.coldInit = []
        let check = Gate.check(Gate.ratios(of: report), against: Self.baseline).first { $0.key == "cold-init.bundle÷c-client" }
        #expect(check?.passed == false)
    }

    @Test func theBaselineRoundTripsThroughItsFile() throws {
        let path = NSTemporaryDirectory() + "imgfn-bench-baseline-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = Self.report(resizeRatio: 0.7, rss: 142, initMs: 15)
        try Gate.write(Gate.ratios(of: report), machine: report.machine, to: path)
        let loaded = try Gate.load(path)
        #expect(loaded.ratios["cold-init.bundle÷c-client"]?.tolerance == 0.5)
        #expect(loaded.ratios["process.derive-default.24mp-baseline.peak-rss-mib"]?.tolerance == 0.15)
        #expect(Gate.check(Gate.ratios(of: report), against: loaded).allSatisfy { $0.passed })
    }

    @Test func theReportShowsTargetsAndTheGateAndTheChartIsWellFormed() throws {
        var report = Self.report(resizeRatio: 0.9, rss: 170, initMs: 15)
        report.gate = Gate.check(Gate.ratios(of: report), against: Self.baseline)
        let markdown = Report.markdown(report)
        #expect(markdown.contains("### Targets"))
        #expect(markdown.contains("| peak RSS of a 24 MP JPEG's default derivative set ≤ 150 MB | 24mp-baseline: 178 MB | **not met** |"))
        #expect(markdown.contains("**2 of 4 checks FAIL:**"))
        let svg = Report.svg(report)
        #expect(svg.hasPrefix("<?xml") && svg.contains("</svg>"))
        #expect(svg.components(separatedBy: "<rect").count > 3)  // background, legend, bars
    }
}
