import ImgfnBase

extension Pipeline {
    /// One file of one derivative, made on demand (the pull side): the same decode as a set
    /// (header and limits first, shrink-on-load for this size only), the derivative's resize and
    /// steps, then the configured encoder settings for `format`.
    ///
    /// `derivative` is the name of one of the configuration's derivatives (a preset). With a
    /// `deadline`, libvips is stopped there (`RenderDeadline`).
    /// - Throws: `.invalidOptions` when there is no such derivative or it is not made in
    ///   `format`; `.timedOut` past the deadline; otherwise what decoding and encoding throw
    ///   (`.overLimit`, `.corruptImage`, …).
    public func render(
        derivative name: String, as format: OutputFormat, from source: SourceBytes, deadline: RenderDeadline? = nil
    ) throws(ImgfnError) -> RenderedImage {
        guard let index = config.derivatives.firstIndex(where: { $0.name == name }) else {
            throw ImgfnError(.invalidOptions, "no derivative named \"\(name)\" in the configuration")
        }
        let derivative = config.derivatives[index]
        guard derivative.formats.contains(format) else {
            throw ImgfnError(
                .invalidOptions,
                "derivative \(name) is made as \(derivative.formats.map(\.rawValue).joined(separator: ", ")), not \(format.rawValue)"
            )
        }
        return try render(derivative, steps: steps[index], as: format, from: source, deadline: deadline) { chosen in
            config.encodeOptions(for: derivative, format: chosen)
        }
    }

    /// An image for options given with a request rather than configured (an imgproxy-style URL):
    /// `resize` and `steps`, then `encode` over the configuration's settings for the format
    /// (`quality` and `metadata` changing them), `format` nil choosing the input's own format
    /// when imgfn writes it, else JPEG. With a `deadline`, libvips is stopped there.
    /// - Throws: what decoding and encoding throw, `.invalidOptions` for options out of range,
    ///   `.timedOut` past the deadline.
    public func render(
        resize: ResizeOptions, steps: [any PipelineStep] = [], as format: OutputFormat?, quality: Int? = nil,
        metadata: ((MetadataPolicy) -> MetadataPolicy)? = nil, from source: SourceBytes,
        deadline: RenderDeadline? = nil
    ) throws(ImgfnError) -> RenderedImage {
        try resize.validate()
        let spec = DerivativeSpec(name: "request", resize: resize, formats: [])
        return try render(spec, steps: steps, as: format, from: source, deadline: deadline) { chosen in
            var options = config.encodeOptions(for: spec, format: chosen)
            if let quality {
                options.quality = quality
                options.target = nil
            }
            if let metadata { options.metadata = metadata(options.metadata) }
            return options
        }
    }

    /// The one decode → resize and steps → encode of a single file; `encode` gives the encoder
    /// settings for the format chosen.
    /// A failure once the deadline has passed is reported with the deadline's code (`.timedOut`):
    /// libvips' own message for a stopped computation ("killed for image") says nothing useful. (A failure of
    /// another kind that happens to end after the deadline is reported so too.)
    private func render(
        _ derivative: DerivativeSpec, steps: [any PipelineStep], as format: OutputFormat?, from source: SourceBytes,
        deadline: RenderDeadline?, encode: (OutputFormat) -> EncodeOptions
    ) throws(ImgfnError) -> RenderedImage {
        let (info, _) = try ImageDecoder.open(source, limits: config.source.limits)
        let chosen = format ?? OutputFormat(matching: info.format)
        let scale = derivative.resize.neededScale(width: info.orientedWidth, height: info.orientedHeight)
        do throws(ImgfnError) {
            if let deadline, deadline.hasPassed { throw deadline.error }
            // Watched again after each copy to memory: a finished memory image no longer
            // signals progress for the image it was made from.
            let image: VipsImage
            do {
                let base = try ImageDecoder.decodeShrunk(
                    source, info: info, scale: Swift.min(scale, 1), deadline: deadline)
                if let deadline { deadline.watch(base) }
                image = try Self.prepare(derivative, steps: steps, from: base)
            }
            if let deadline {
                if deadline.hasPassed { throw deadline.error }
                deadline.watch(image)
            }
            let encoded = try ImageEncoder.encode(
                image, as: chosen, encode(chosen), background: derivative.resize.background)
            return RenderedImage(image: encoded, source: info)
        } catch {
            if let deadline, error.code != deadline.code, deadline.hasPassed { throw deadline.error }
            throw error
        }
    }
}

/// A file made on demand, and what its source was.
public struct RenderedImage: Sendable {
    public var image: EncodedImage
    /// The source's header (format, upright size).
    public var source: ImageInfo
}
