import ImgfnBase
import TestSupport
import Testing

@testable import ImagePipeline

/// A render's time limit: libvips itself is stopped (its kill flag, set from the progress
/// signal), not only checked before and after.
@Suite struct RenderDeadlineTests {
    static let phone = "large/matrix/phone-12mp-orientation-1-baseline.jpg"

    /// No check of ours runs inside `decodeShrunk`: only libvips' own kill check can stop it.
    @Test func aPassedDeadlineStopsLibvipsInTheMiddleOfADecode() throws {
        let source = try Fixtures.bytes(Self.phone)
        let (info, _) = try ImageDecoder.open(source, limits: .default)
        let deadline = RenderDeadline(after: .zero)
        #expect(deadline.hasPassed)
        let error = #expect(throws: ImgfnError.self) {
            _ = try ImageDecoder.decodeShrunk(source, info: info, scale: 1, deadline: deadline)
        }
        #expect(error?.message.contains("killed") == true, "\(error?.message ?? "")")
        // The same decode without a deadline succeeds: the failure above was the kill.
        let image = try ImageDecoder.decodeShrunk(source, info: info, scale: 1)
        #expect(image.width * image.height > 12_000_000)
    }

    /// A copy in memory ends what the loader's watch reaches: the resize and steps after it
    /// (`prepare`, the stage a huge or enlarged preset spends its time in) are stopped only
    /// because the render watches the decoded image again.
    @Test func theResizeAfterTheDecodeIsStoppedToo() throws {
        let source = try Fixtures.bytes(Self.phone)
        let (info, _) = try ImageDecoder.open(source, limits: .default)
        let base = try ImageDecoder.decodeShrunk(
            source, info: info, scale: 1, deadline: RenderDeadline(after: .seconds(600)))
        let spec = DerivativeSpec(
            name: "big", resize: ResizeOptions(width: 3000, height: 3000, fit: .cover, gravity: .attention),
            formats: [.jpeg])
        let passed = RenderDeadline(after: .zero)
        passed.watch(base)
        let error = #expect(throws: ImgfnError.self) { _ = try Pipeline.prepare(spec, steps: [], from: base) }
        #expect(error?.message.contains("killed") == true, "\(error?.message ?? "")")
        // Unwatched, the same resize is made.
        let fresh = try ImageDecoder.decodeShrunk(source, info: info, scale: 1)
        #expect(try Pipeline.prepare(spec, steps: [], from: fresh).width == 3000)
    }

    @Test func aRenderPastItsDeadlineThrowsTimedOut() throws {
        let pipeline = try Pipeline(.default)
        let source = try Fixtures.bytes(Self.phone)
        let error = #expect(throws: ImgfnError.self) {
            _ = try pipeline.render(
                resize: ResizeOptions(width: 320), as: .jpeg, from: source, deadline: RenderDeadline(after: .zero))
        }
        #expect(error?.code == .timedOut)
        #expect(error?.message == "the render was stopped at its time limit of 0 s")
    }

    /// Watching costs nothing in the result: the same bytes with a deadline far away as without.
    @Test func aDeadlineNotReachedLeavesTheImageAsItWas() throws {
        let pipeline = try Pipeline(.default)
        let source = try Fixtures.bytes(Self.phone)
        for (name, format) in [("w320", OutputFormat.webp), ("w1280", .jpeg)] {
            let watched = try pipeline.render(
                derivative: name, as: format, from: source, deadline: RenderDeadline(after: .seconds(600)))
            let plain = try pipeline.render(derivative: name, as: format, from: source)
            #expect(watched.image.bytes == plain.image.bytes)
        }
    }

    // A derivative set (the push path) with a deadline: stopped as a whole, with the deadline's
    // code, in its encodes too.

    static func invocation(_ limit: Duration) -> RenderDeadline {
        RenderDeadline(after: limit, name: "the invocation's deadline", code: .deadline)
    }

    @Test func aSetPastItsDeadlineThrowsTheDeadlinesCode() throws {
        let pipeline = try Pipeline(.default)
        let source = try Fixtures.bytes(Self.phone)
        let error = #expect(throws: ImgfnError.self) {
            _ = try pipeline.derive(source, deadline: Self.invocation(.zero))
        }
        #expect(error?.code == .deadline)
        #expect(error?.code.isTransient == true)
        #expect(error?.message == "the derivative set was stopped at the invocation's deadline")
    }

    /// The encodes work on copies in memory, which the decode's watch no longer reaches: each
    /// is watched on its own, so an encode is stopped between strips.
    @Test func anEncodeOfAWatchedCopyInMemoryIsStopped() throws {
        let source = try Fixtures.bytes(Self.phone)
        let (info, _) = try ImageDecoder.open(source, limits: .default)
        let base = try ImageDecoder.decodeShrunk(source, info: info, scale: 1)
        let spec = DerivativeSpec(name: "full", resize: ResizeOptions(width: 4000), formats: [.png])
        let image = try Pipeline.prepare(spec, steps: [], from: base)
        RenderDeadline(after: .zero).watch(image)
        let error = #expect(throws: ImgfnError.self) {
            _ = try ImageEncoder.encode(image, as: .png, .init(), background: spec.resize.background)
        }
        #expect(error?.message.contains("killed") == true, "\(error?.message ?? "")")
        let fresh = try Pipeline.prepare(spec, steps: [], from: base)
        #expect(
            try ImageEncoder.encode(fresh, as: .png, .init(), background: spec.resize.background).bytes.count
                > 1_000_000)
    }

    /// A set whose encodes take seconds (a full-size PNG at zlib level 9 and a JPEG of the
    /// 24 MP photo: ~3.5 s on two cores, the decode ~0.3 s) given 1.5 s: libvips itself is
    /// stopped ("killed"), not the set checked once it is done.
    @Test func aSetIsStoppedInsideItsEncodes() throws {
        let config = try PipelineConfig.parse(
            json: Array(
                (#"{"derivatives": [{"name": "full", "width": 8000, "formats": ["png", "jpeg"]}], "#
                    + #""encode": {"png": {"compression": 9}}}"#).utf8))
        let pipeline = try Pipeline(config)
        let source = try Fixtures.bytes("large/kleiber-24mp.jpg")
        let error = #expect(throws: ImgfnError.self) {
            _ = try pipeline.derive(source, deadline: Self.invocation(.milliseconds(1500)))
        }
        #expect(error?.code == .deadline)
        let stopped = error?.underlying as? ImgfnError
        #expect(stopped?.message.contains("killed") == true, "\(stopped?.message ?? "no libvips error")")
    }

    @Test func aSetWithinItsDeadlineIsTheSameSet() throws {
        let pipeline = try Pipeline(.default)
        let source = try Fixtures.bytes(Self.phone)
        let watched = try pipeline.derive(source, deadline: Self.invocation(.seconds(600)))
        let plain = try pipeline.derive(source)
        #expect(watched.files.count == plain.files.count)
        #expect(watched.files.map(\.image.bytes) == plain.files.map(\.image.bytes))
    }
}
