import Foundation
import ImagePipeline
import Synchronization
import Testing

@testable import imgfn_bench

/// The warm phase on the committed fixture, with a stand-in for the floor's processes.
@Suite struct WarmTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let photo = Photo(
        id: "2.5mp-baseline", path: "Fixtures/photos/storm.jpg", width: 1920, height: 1280,
        bytes: 1, kind: "baseline JPEG")

    @Test func eachImageIsPairedWithARunOfTheFloor() throws {
        try VipsRuntime.start()
        let calls = Atomic(0)
        // A floor of 1 s: every pair's ratio is this image's time in seconds, far below 1.
        let result = try Warm.resize320(Self.photo, root: Self.root, iterations: 6, budgetMs: 60_000) {
            calls.add(1, ordering: .relaxed)
            return 1000
        }
        #expect(result.runs == 6)
        #expect(calls.load(ordering: .relaxed) == 7)  // the warm-up pair, then one per image
        let ratio = try #require(result.oursOverFloor)
        #expect(ratio > 0 && ratio < 1)
        #expect(abs(ratio - result.p50Ms / 1000) < result.p50Ms / 1000 * 0.5 + 0.001)
    }

    @Test func withoutAFloorThereIsNoRatio() throws {
        try VipsRuntime.start()
        let result = try Warm.resize320(Self.photo, root: Self.root, iterations: 5, budgetMs: 60_000)
        #expect(result.oursOverFloor == nil)
        #expect(result.p50Ms > 0 && result.imagesPerSecond > 0)
    }
}
