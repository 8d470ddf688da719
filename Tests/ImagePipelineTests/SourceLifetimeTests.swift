import ImagePipeline
import ImgfnBase
import Synchronization
import TestSupport
import Testing

/// A step that notes, when it runs, whether the source bytes it watches are still allocated.
/// Steps run after the shared decode, while the derivatives are prepared.
struct SourceProbeStep: PipelineStep {
    static let op = "probe-source"
    private static let state = Mutex<(watched: WeakSource, seenAlive: [Bool])>((WeakSource(), []))

    init(parameters: ConfigReader) throws(ImgfnError) {}

    func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage {
        Self.state.withLock { $0.seenAlive.append($0.watched.value != nil) }
        return image
    }

    static func watch(_ source: SourceBytes) {
        state.withLock {
            $0.watched.value = source
            $0.seenAlive = []
        }
    }

    static var seenAlive: [Bool] { state.withLock { $0.seenAlive } }
}

final class WeakSource: @unchecked Sendable {
    weak var value: SourceBytes?
}

/// The encoded source is not kept through the derivatives: a warm function's peak memory holds
/// the decode and the encoders, not also the upload's bytes.
@Suite(.serialized) struct SourceLifetimeTests {
    static func pipeline() throws -> Pipeline {
        var registry = StepRegistry.builtIn
        registry.register(SourceProbeStep.self)
        let json =
            #"{"derivatives": [{"name": "t", "width": 320, "formats": ["jpeg"], "steps": [{"op": "probe-source"}]}]}"#
        return try Pipeline(json: Array(json.utf8), registry: registry, baseDirectory: Fixtures.root)
    }

    @Test func theSourceIsFreedOnceDecodedWhenTheCallerHandsItOver() throws {
        let pipeline = try Self.pipeline()
        let bytes = try Fixtures.bytes(Fixtures.photo)
        SourceProbeStep.watch(bytes)
        let set = try pipeline.derive(consume bytes)
        #expect(SourceProbeStep.seenAlive == [false])
        #expect(set.files.count == 1)
    }

    /// The async form runs on a Dispatch thread (never blocking a Swift-concurrency thread) and
    /// still hands over the last reference.
    @Test func theAsyncFormFreesTheSourceToo() async throws {
        let pipeline = try Self.pipeline()
        let bytes = try Fixtures.bytes(Fixtures.photo)
        SourceProbeStep.watch(bytes)
        let set = try await pipeline.derive(detaching: consume bytes)
        #expect(SourceProbeStep.seenAlive == [false])
        #expect(set.files.count == 1)
    }

    @Test func aSourceTheCallerStillHoldsIsLeftAlone() throws {
        // The probe can tell: with the caller's reference alive, the step sees the bytes.
        let pipeline = try Self.pipeline()
        let bytes = try Fixtures.bytes(Fixtures.photo)
        SourceProbeStep.watch(bytes)
        let set = try pipeline.derive(bytes)
        #expect(SourceProbeStep.seenAlive == [true])
        #expect(bytes.count > 0 && set.files.count == 1)
    }
}
