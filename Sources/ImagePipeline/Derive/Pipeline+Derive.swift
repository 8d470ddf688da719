import CVips
import Dispatch
import FoundationEssentials
import ImgfnBase
import Synchronization

extension Pipeline {
    /// Makes every derivative of `source` from a single decode.
    ///
    /// Three stages, to bound memory: (1) the source is decoded once into memory, shrunk on
    /// load only as much as the most demanding derivative allows, its pixels as stored with
    /// their EXIF orientation (see `decodeShrunk`); (2) each derivative is resized from it,
    /// turned upright and its steps applied, into memory (small next to the decode), and the
    /// decode is released; (3) the files each format can hold are encoded, up to `jobs` at once
    /// (default: the number of cores), the costliest first; the others are `omitted`. Output
    /// bytes do not depend on `jobs`.
    ///
    /// `source` is let go as soon as it is decoded: when the caller passes its last reference
    /// (`derive(consume bytes)`), the encoded bytes are freed before the derivatives are made.
    ///
    /// With a `budget`, AVIF encodes that would not fit the time left are made at a lower effort
    /// or left out (see `EncodeBudget`); each such file says so (`File.loweredEffort`, an
    /// omission).
    ///
    /// With a `deadline`, the whole set is abandoned there: libvips is stopped between tiles in
    /// the decode, the resizes and the encodes (`RenderDeadline`; one codec call already
    /// running, such as a WebP or AVIF encode, finishes first) and no encode starts after it.
    /// - Throws: `ImgfnError` for the first derivative that failed, the deadline's code once it
    ///   has passed; nothing is stored.
    public func derive(
        _ source: consuming SourceBytes, jobs: Int? = nil, budget: EncodeBudget? = nil,
        deadline: RenderDeadline? = nil
    ) throws(ImgfnError) -> DerivativeSet {
        do throws(ImgfnError) {
            return try deriveSet(source, jobs: jobs, budget: budget, deadline: deadline)
        } catch {
            // libvips' message for a stopped computation ("killed for image") says nothing useful.
            if let deadline, error.code != deadline.code, deadline.hasPassed {
                throw deadline.error(stopping: "the derivative set", underlying: error)
            }
            throw error
        }
    }

    private func deriveSet(
        _ source: consuming SourceBytes, jobs: Int?, budget: EncodeBudget?, deadline: RenderDeadline?
    ) throws(ImgfnError) -> DerivativeSet {
        let stopped = { () -> ImgfnError? in
            guard let deadline, deadline.hasPassed else { return nil }
            return deadline.error(stopping: "the derivative set")
        }
        if let error = stopped() { throw error }
        let clock = ContinuousClock()
        let start = clock.now
        var decoded = start
        let (info, _) = try ImageDecoder.open(source, limits: config.source.limits)
        let derivatives = config.derivatives
        var images: [VipsImage] = []
        var unscaledTwins: [[Int]] = []
        let placeholder: String
        let dominant: String
        do {
            // Decode at the least shrink-on-load any derivative would get from libvips'
            // thumbnail, and resample nowhere but in each derivative's own resize: every
            // derivative starts from pixels at least as good as thumbnail's.
            let scales = derivatives.map {
                $0.resize.neededScale(width: info.orientedWidth, height: info.orientedHeight)
            }
            let shrink = { (scale: Double) in ImageDecoder.loadShrink(forReduction: 1 / Swift.max(scale, 1e-6)) }
            let sharedShrink = shrink(scales.max() ?? 1)
            unscaledTwins = Self.unscaledTwins(derivatives, scales: scales)
            let base = try ImageDecoder.decodeShrunk(
                source, info: info, scale: Swift.min(scales.max() ?? 1, 1), deadline: deadline)
            decoded = clock.now
            // Watched again after each copy to memory: a finished memory image no longer signals
            // progress for the image it was made from.
            if let deadline { deadline.watch(base) }
            _ = consume source  // the decode is in memory: nothing reads the encoded bytes again
            let shrinksOnLoad = info.format == .jpeg || info.format == .webp
            for (i, (derivative, steps)) in zip(derivatives, self.steps).enumerated() {
                if let earlier = unscaledTwins[i].first {
                    images.append(images[earlier])  // the same pixels: no second resize
                    continue
                }
                // When the shared decode was itself shrunk on load (its pixels rounded to 8 bits
                // by the decoder) and thumbnail would shrink this derivative more deeply (e.g.
                // 120 px from 1920: 1/8 against 1/4 for a 200-px sibling), the resize runs in
                // floating point so that rounding is not compounded by another (DeriveTests holds
                // every derivative's PSNR to thumbnail's). A full-size shared decode needs no
                // such care, and is too large to convert cheaply.
                let precise = shrinksOnLoad && sharedShrink > 1 && shrink(scales[i]) > sharedShrink
                if let error = stopped() { throw error }
                let image = try Self.prepare(derivative, steps: steps, from: base, precise: precise)
                if let deadline { deadline.watch(image) }  // its encodes
                images.append(image)
            }
            (placeholder, dominant) = try Self.preview(
                of: Self.previewSource(base: base, derivatives: derivatives, steps: self.steps, images: images))
        }  // the decoded source is released here, before the encoders allocate theirs
        let resized = clock.now

        // A file its format cannot hold is left out with the reason, before any encoding: one
        // format's limit must not cost the upload every other derivative.
        struct Task {
            let derivative: Int, format: OutputFormat, cost: Int
            var effort: Int?  // when the budget lowered it
        }
        var tasks: [Task] = []
        var omitted: [DerivativeSet.Omission] = []
        // A file that would repeat an earlier derivative's (same pixels, format and settings)
        // is not encoded again: it is that file (`sameAs`).
        var repeats: [(derivative: Int, format: OutputFormat, of: Int)] = []
        for (i, derivative) in derivatives.enumerated() {
            let (width, height) = (images[i].width, images[i].height)
            for format in derivative.formats {
                if let reason = format.sizeRefusal(width: width, height: height) {
                    omitted.append(
                        .init(name: derivative.name, format: format, width: width, height: height, reason: reason))
                    continue
                }
                let options = self.config.encodeOptions(for: derivative, format: format)
                if let twin = unscaledTwins[i].first(where: {
                    derivatives[$0].formats.contains(format)
                        && self.config.encodeOptions(for: derivatives[$0], format: format) == options
                }) {
                    repeats.append((i, format, twin))
                    continue
                }
                let cost = width * height * (format == .avif ? 5 : format == .webp ? 2 : 1)  // at the default efforts
                tasks.append(Task(derivative: i, format: format, cost: cost))
            }
        }
        let workers = Swift.max(1, Swift.min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, tasks.count))
        if let budget {
            // Lower AVIF efforts a step at a time, then leave the largest AVIF files out, until
            // the estimate fits the time left.
            let leftMs = Double(budget.timeLeft().milliseconds)
            let parallel = Swift.max(0.1, Swift.min(budget.cpus, Double(workers)))
            func effort(_ task: Task) -> Int {
                task.effort ?? self.config.encodeOptions(for: derivatives[task.derivative], format: task.format).effort
                    ?? EncodeOptions.defaultEffort(for: task.format)
            }
            // Workers share the encodes, but one encode runs on one core: the estimate is the
            // larger of the total over the CPUs and the longest single encode.
            func estimate() -> Double {
                let each = tasks.map { task in
                    let options = self.config.encodeOptions(for: derivatives[task.derivative], format: task.format)
                    let pixels = images[task.derivative].width * images[task.derivative].height
                    let once = EncodeBudget.estimateMilliseconds(
                        pixels: pixels, format: task.format, effort: effort(task))
                    // A quality target encodes, decodes and scores up to `maxEncodes` times.
                    return options.target == nil
                        ? once : Double(QualitySearch.maxEncodes) * (once + Double(pixels) / 1e6 * 250)
                }
                return Swift.max(each.reduce(0, +) / parallel, each.max() ?? 0)
            }
            while estimate() > leftMs {
                let avif = tasks.indices.filter { tasks[$0].format == .avif }
                guard !avif.isEmpty else { break }
                let highest = avif.map { effort(tasks[$0]) }.max() ?? 0
                if highest > 0 {
                    for i in avif where effort(tasks[i]) == highest { tasks[i].effort = highest - 1 }
                    continue
                }
                let needed = estimate()
                let largest = avif.max { tasks[$0].cost < tasks[$1].cost }!
                let task = tasks.remove(at: largest)
                let image = images[task.derivative]
                omitted.append(
                    .init(
                        name: derivatives[task.derivative].name, format: .avif, width: image.width,
                        height: image.height,
                        reason:
                            "\(DerivativeSet.Omission.budgetReason): the encodes needed ~\(Int(needed)) ms, \(Int(leftMs)) ms were left"
                    ))
            }
            // A repeat of a file left out is left out too.
            repeats.removeAll { repeated in
                let made = tasks.contains { $0.derivative == repeated.of && $0.format == repeated.format }
                if !made, let reason = omitted.last(where: { $0.format == repeated.format })?.reason {
                    let image = images[repeated.derivative]
                    omitted.append(
                        .init(
                            name: derivatives[repeated.derivative].name, format: repeated.format, width: image.width,
                            height: image.height, reason: reason))
                }
                return !made
            }
        }
        let order = tasks.indices.sorted { tasks[$0].cost > tasks[$1].cost }
        let planned = tasks
        let results = Mutex<[Int: Result<EncodedImage, ImgfnError>]>([:])
        let shared = UncheckedSendable(images)
        let config = self.config
        let encode = { @Sendable (taskIndex: Int) in
            let task = planned[taskIndex]
            let derivative = derivatives[task.derivative]
            let result = Result { () throws(ImgfnError) -> EncodedImage in
                // No encode starts after the deadline.
                if let deadline, deadline.hasPassed { throw deadline.error(stopping: "the derivative set") }
                var options = config.encodeOptions(for: derivative, format: task.format)
                if let effort = task.effort { options.effort = effort }
                return try ImageEncoder.encode(
                    shared.value[task.derivative], as: task.format, options, background: derivative.resize.background)
            }
            results.withLock { $0[taskIndex] = result }
        }
        let next = Mutex(0)
        let run = { @Sendable in
            while true {
                let k = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                guard k < order.count else { return }
                encode(order[k])
            }
        }
        if workers == 1 { run() } else { DispatchQueue.concurrentPerform(iterations: workers) { _ in run() } }
        let encoded = results.withLock { $0 }
        var made: [Int: [OutputFormat: EncodedImage]] = [:]
        var lowered: [Int: [OutputFormat: Int]] = [:]
        for (i, task) in tasks.enumerated() {
            if let effort = task.effort { lowered[task.derivative, default: [:]][task.format] = effort }
            switch encoded[i] {
            case .success(let image)?: made[task.derivative, default: [:]][task.format] = image
            case .failure(let error)?: throw error
            case nil: throw ImgfnError(.encodeFailed, "\(derivatives[task.derivative].name) was not encoded")
            }
        }
        var files: [DerivativeSet.File] = []
        for (i, derivative) in derivatives.enumerated() {
            for format in derivative.formats {
                if let image = made[i]?[format] {
                    files.append(
                        DerivativeSet.File(name: derivative.name, image: image, loweredEffort: lowered[i]?[format]))
                } else if let twin = repeats.first(where: { $0.derivative == i && $0.format == format })?.of,
                    let image = made[twin]?[format]
                {
                    files.append(
                        DerivativeSet.File(
                            name: derivative.name, image: image, sameAs: derivatives[twin].name,
                            loweredEffort: lowered[twin]?[format]))
                }
            }
        }
        let end = clock.now
        return DerivativeSet(
            source: info, files: files, omitted: omitted, placeholder: placeholder, dominantColour: dominant,
            decodeMilliseconds: (decoded - start).milliseconds, resizeMilliseconds: (resized - decoded).milliseconds,
            encodeMilliseconds: (end - resized).milliseconds)
    }

    /// `derive` for async callers: the work (CPU-bound, and parallel inside) runs on a Dispatch
    /// thread, so no Swift-concurrency thread is blocked while it does. The caller's last
    /// reference to `source` is still the last one: it is freed once decoded.
    public func derive(
        detaching source: consuming SourceBytes, jobs: Int? = nil, budget: EncodeBudget? = nil,
        deadline: RenderDeadline? = nil
    ) async throws(ImgfnError) -> DerivativeSet {
        let handOver = HandOver(source)
        let result = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(
                    returning: Result { () throws(ImgfnError) in
                        try self.derive(handOver.take(), jobs: jobs, budget: budget, deadline: deadline)
                    })
            }
        }
        return try result.get()
    }

    /// For each derivative, the earlier ones whose pixels it repeats, in order: both leave the
    /// source at its own size (never enlarged, not cropped or padded: `inside`, or one
    /// dimension given) and apply the same steps with the same background. A 1000-px-wide
    /// upload is then one 1000-px image for every width from 1000 up, and each of its files
    /// is made by the first derivative that has that format (with the same settings). Steps
    /// are taken to depend on their parameters only (`StepContext.derivative` names the
    /// derivative in messages; a step whose pixels depend on it must not be used so).
    static func unscaledTwins(_ derivatives: [DerivativeSpec], scales: [Double]) -> [[Int]] {
        func unscaled(_ i: Int) -> Bool {
            let resize = derivatives[i].resize
            return scales[i] >= 1 && !resize.enlarge
                && (resize.fit == .inside || resize.width == nil || resize.height == nil)
        }
        return derivatives.indices.map { j in
            guard unscaled(j) else { return [] }
            return (0..<j).filter { i in
                unscaled(i) && derivatives[i].steps == derivatives[j].steps
                    && derivatives[i].resize.background == derivatives[j].resize.background
            }
        }
    }

    /// One derivative's pixels: resized from the shared decode, steps applied, in memory.
    /// `precise` resizes in floating point and rounds once, back to 8 bits.
    static func prepare(
        _ derivative: DerivativeSpec, steps: [any PipelineStep], from base: VipsImage, precise: Bool = false
    ) throws(ImgfnError) -> VipsImage {
        var image: VipsImage
        if precise {
            // +0.5 now, so that the resize's final (truncating) cast to 8 bits rounds to nearest;
            // resampling kernels sum to 1, so the offset passes through unchanged.
            let float = try base.derive("convert to float") { cv_add_float($0, $1, 0.5) }
            image = try Thumbnailer.resize(float, options: derivative.resize)
        } else {
            image = try Thumbnailer.resize(base, options: derivative.resize)
        }
        let context = StepContext(background: derivative.resize.background, derivative: derivative.name)
        for step in steps { image = try step.apply(to: image, context: context).eightBitSRGB() }
        return try image.inMemory()
    }

    /// What the preview is made from: the smallest derivative that shows the whole frame only
    /// resized (no steps, no crop or padding, not enlarged) and is at least twice the 64-px
    /// sample, else the decoded base. Two resizes of a few hundred pixels instead of two passes
    /// over the whole decode (8–9 ms of CPU each from a 13 MP base, 16–20 from 24 MP); a 16-px
    /// placeholder and a 16-level colour count cannot tell the difference.
    static func previewSource(
        base: VipsImage, derivatives: [DerivativeSpec], steps: [[any PipelineStep]], images: [VipsImage]
    ) -> VipsImage {
        let plain = derivatives.indices.filter { i in
            let resize = derivatives[i].resize
            let image = images[i]
            return steps[i].isEmpty && (resize.fit == .inside || resize.width == nil || resize.height == nil)
                && image.width <= base.uprightWidth && image.height <= base.uprightHeight
                && Swift.max(image.width, image.height) >= 2 * previewSample
        }
        let area = { (i: Int) in images[i].width * images[i].height }
        guard let smallest = plain.min(by: { area($0) < area($1) }) else { return base }
        return images[smallest]
    }

    /// The box the dominant colour is counted in.
    static let previewSample = 64

    /// A 16-px-wide WebP data URI and the dominant colour, from `image` (the decoded base or a
    /// derivative showing the whole frame, see `previewSource`).
    static func preview(of image: VipsImage) throws(ImgfnError) -> (String, String) {
        let tiny = try Thumbnailer.resize(image, options: ResizeOptions(width: 16, height: 16)).flattened(
            onto: .white)
        let webp = try ImageEncoder.encode(tiny, as: .webp, EncodeOptions(quality: 50), background: .white)
        let uri = "data:image/webp;base64," + Data(webp.bytes).base64EncodedString()
        let sample = try PixelBuffer(
            Thumbnailer.resize(image, options: ResizeOptions(width: previewSample, height: previewSample))
                .flattened(onto: .white)
                .srgb()
        )
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
            let r = Int(pixels[p])
            let g = Int(pixels[p + 1])
            let b = Int(pixels[p + 2])
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

/// Hands one reference to the source over to another thread and keeps none itself.
private final class HandOver: @unchecked Sendable {
    // Written once before the hand-over, taken once after it: never shared.
    private var source: SourceBytes?
    init(_ source: consuming SourceBytes) { self.source = source }
    func take() -> SourceBytes {
        defer { source = nil }
        return source!
    }
}

/// Carries a value across threads that the compiler cannot prove safe. Used for the decoded
/// base image: it is complete in memory before any worker starts, and libvips reads shared
/// images from many threads (its own thread pools do exactly that).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
