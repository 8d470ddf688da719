import CVips
import Dispatch
import FoundationEssentials
import Synchronization

extension Pipeline {
    /// Makes every derivative of `source` from a single decode.
    ///
    /// The source is decoded once, with shrink-on-load, to the smallest size that still serves
    /// the most demanding derivative (never above the original unless a derivative enlarges),
    /// and kept in memory; each derivative is then a resize of that image, its steps and its
    /// encodes. Up to `jobs` derivatives are made at once (default: the number of cores).
    /// Output bytes do not depend on `jobs`.
    /// - Throws: `ImagePipelineError` for the first derivative that failed; nothing is stored.
    public func derive(_ source: SourceBytes, jobs: Int? = nil) throws(ImagePipelineError) -> DerivativeSet {
        let clock = ContinuousClock()
        let start = clock.now
        let (info, _) = try ImageDecoder.open(source, limits: config.source.limits)
        // Decode once, at the least shrink-on-load any derivative would get from libvips'
        // thumbnail, and resample nowhere else but in each derivative's own resize: every
        // derivative then starts from pixels at least as good as thumbnail's.
        let scale = config.derivatives
            .map { $0.resize.neededScale(width: info.orientedWidth, height: info.orientedHeight) }
            .max() ?? 1
        let base = try ImageDecoder.decodeShrunk(
            source, info: info, shrink: ImageDecoder.loadShrink(forReduction: 1 / Swift.max(scale, 1e-6)))
        let decodeEnd = clock.now

        let derivatives = config.derivatives
        let results = Mutex<[Int: Result<[DerivativeSet.File], ImagePipelineError>]>([:])
        let shared = UncheckedSendable(base)
        let steps = self.steps
        let config = self.config
        let work = { @Sendable (i: Int) in
            let result = Result { () throws(ImagePipelineError) -> [DerivativeSet.File] in
                try Self.make(derivatives[i], steps: steps[i], from: shared.value, config: config)
            }
            results.withLock { $0[i] = result }
        }
        let parallel = Swift.max(1, Swift.min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, derivatives.count))
        if parallel == 1 {
            for i in derivatives.indices { work(i) }
        } else {
            // Hand out indices to `parallel` workers; each takes the next derivative when free.
            let next = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: parallel) { _ in
                while true {
                    let i = next.withLock { value in defer { value += 1 }; return value }
                    guard i < derivatives.count else { return }
                    work(i)
                }
            }
        }
        var files: [DerivativeSet.File] = []
        let collected = results.withLock { $0 }
        for i in derivatives.indices {
            switch collected[i] {
            case .success(let made)?: files += made
            case .failure(let error)?: throw error
            case nil: throw ImagePipelineError(.encodeFailed, "derivative \(derivatives[i].name) was not made")
            }
        }
        let (placeholder, dominant) = try Self.preview(of: base)
        let end = clock.now
        return DerivativeSet(
            source: info, files: files, placeholder: placeholder, dominantColour: dominant,
            decodeMilliseconds: (decodeEnd - start).milliseconds, deriveMilliseconds: (end - decodeEnd).milliseconds)
    }

    /// One derivative: resize from the shared base, steps, then every format.
    static func make(
        _ derivative: DerivativeSpec, steps: [any PipelineStep], from base: VipsImage, config: PipelineConfig
    ) throws(ImagePipelineError) -> [DerivativeSet.File] {
        var image = try Resizer.resize(.decoded(base), options: derivative.resize)
        let context = StepContext(background: derivative.resize.background, derivative: derivative.name)
        for step in steps { image = try Resizer.toEightBitSRGB(step.apply(to: image, context: context)) }
        // Several formats read the same pixels: compute them once.
        if derivative.formats.count > 1 { image = try image.inMemory() }
        var files: [DerivativeSet.File] = []
        for format in derivative.formats {
            let options = config.encodeOptions(for: derivative, format: format)
            let encoded = try ImageEncoder.encode(image, as: format, options, background: derivative.resize.background)
            files.append(DerivativeSet.File(name: derivative.name, image: encoded))
        }
        return files
    }

    /// A 16-px-wide WebP data URI and the dominant colour, from the decoded base.
    static func preview(of base: VipsImage) throws(ImagePipelineError) -> (String, String) {
        let tiny = try Resizer.resize(.decoded(base), options: ResizeOptions(width: 16, height: 16)).flattened(onto: .white)
        let webp = try ImageEncoder.encode(tiny, as: .webp, EncodeOptions(quality: 50), background: .white)
        let uri = "data:image/webp;base64," + Data(webp.bytes).base64EncodedString()
        let sample = try PixelBuffer(
            Resizer.resize(.decoded(base), options: ResizeOptions(width: 64, height: 64)).flattened(onto: .white).srgb())
        return (uri, sample.dominantColour)
    }
}

extension PixelBuffer {
    /// The most common colour: pixels are counted in 16 levels per channel, and the average of
    /// the fullest bin is returned as `#rrggbb`.
    var dominantColour: String {
        var counts = [Int](repeating: 0, count: 4096)
        var sums = [(Int, Int, Int)](repeating: (0, 0, 0), count: 4096)
        for p in stride(from: 0, to: pixels.count - bands + 1, by: bands) {
            let r = Int(pixels[p]), g = Int(pixels[p + 1]), b = Int(pixels[p + 2])
            let bin = (r >> 4) << 8 | (g >> 4) << 4 | b >> 4
            counts[bin] += 1
            sums[bin].0 += r
            sums[bin].1 += g
            sums[bin].2 += b
        }
        let best = counts.indices.max { counts[$0] < counts[$1] } ?? 0
        let n = Swift.max(counts[best], 1)
        let hex = [sums[best].0 / n, sums[best].1 / n, sums[best].2 / n].map { value -> String in
            let digits = String(value, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return "#" + hex.joined()
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// Carries a value across threads that the compiler cannot prove safe. Used for the decoded
/// base image: it is complete in memory before any worker starts, and libvips reads shared
/// images from many threads (its own thread pools do exactly that).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
