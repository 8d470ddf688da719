import FoundationEssentials
import ImagePipeline
import ImageService
import ImgfnBase

extension RequestHandler {
    /// An imgproxy processing URL (signature already checked): the source must be a key of the
    /// store served; a stored result of the same normalised request is served, else one is
    /// rendered (header first: format, `auto`, the output limit) and stored.
    func serve(_ url: ProcessingURL, _ request: HTTPRequest) async -> HTTPResponse {
        switch url.source {
        case .local where settings.bucket != nil:
            return .error(403, "local:/// sources are not served: the store is s3://\(settings.bucket ?? "")")
        case .s3(let bucket, _) where bucket != settings.bucket:
            return .error(403, "bucket \(bucket.prefix(64)) is not served")
        default: break
        }
        let options = url.options
        if let expires = options.expires, Double(expires) < Date().timeIntervalSince1970 {
            return .error(404, "this URL expired at \(Date(timeIntervalSince1970: Double(expires)).ISO8601Format())")
        }
        let key = url.source.key
        let source: ObjectInfo
        switch await head(key) {
        case .success(let info): source = info
        case .failure(let refusal): return refusal.response
        }
        let accepted = AcceptedFormat(accept: request.header("Accept"))
        let negotiated = options.format == nil
        let wanted = options.format?.rawValue ?? "accept-\(accepted.rawValue)"
        let tag = etag(source, ["process", options.canonical, wanted])
        let common = commonHeaders(etag: tag, negotiated: negotiated)
        if matches(request.header("If-None-Match"), tag) { return notModified(common) }

        let config = pipeline.config
        let keys = OutputKeys(sourceKey: key, sourcePrefix: config.source.prefix, output: config.output)
        let resultKey = resultKey(keys, tag)
        // Content-Disposition (`fn`, `att`) names the file; the bytes are the same without it.
        func disposition(_ contentType: String) -> [(name: String, value: String)] {
            let format = OutputFormat.allCases.first { $0.contentType == contentType } ?? .jpeg
            return options.contentDisposition(sourceKey: key, format: format).map { [("Content-Disposition", $0)] }
                ?? []
        }
        if settings.writeThrough,
            let stored = await storedResult(resultKey, source: source, configHash: pipeline.configHash)
        {
            return image(stored.bytes, stored.contentType, common + disposition(stored.contentType), .stored)
        }
        let maxOutputPixels = settings.maxOutputPixels
        let (rendered, joined) = await render(source, answerBy: request.deadline, sharing: tag) {
            bytes, deadline throws(ImgfnError) in
            // The header first (no pixels): the format for Accept, `auto`'s choice, and the output
            // size, which `el:1` could otherwise make far larger than the source.
            let info = try ImageResizer.info(of: bytes, limits: config.source.limits)
            let format = options.format ?? accepted.choose(forInput: info.format, hasAlpha: info.hasAlpha)
            let resize = options.resizeOptions(sourceWidth: info.orientedWidth, sourceHeight: info.orientedHeight)
            // A box (contain pads to it; cover and fill fill it at most), else the source scaled.
            let scale = resize.neededScale(width: info.orientedWidth, height: info.orientedHeight)
            var width = Double(info.orientedWidth) * scale
            var height = Double(info.orientedHeight) * scale
            if resize.fit != .inside, let boxWidth = resize.width, let boxHeight = resize.height {
                (width, height) = (Double(boxWidth), Double(boxHeight))
            }
            if width * height > Double(maxOutputPixels) {
                throw ImgfnError(
                    .overLimit,
                    "the output would be about \(Int(width))×\(Int(height)), over the limit of \(maxOutputPixels / 1_000_000) MP"
                )
            }
            return try pipeline.render(
                resize: resize, steps: options.steps, as: format, quality: options.quality,
                metadata: options.metadata(from:), from: bytes, deadline: deadline)
        }
        switch rendered {
        case .failure(let refusal): return refusal.response
        case .success(let (result, current)):
            let image = result.image
            if settings.writeThrough && current && !joined {
                try? await outputs.put(
                    resultKey, bytes: image.bytes,
                    attributes: BlobAttributes(
                        contentType: image.format.contentType, cacheControl: settings.cacheControl,
                        metadata: resultMetadata(source)))
            }
            return self.image(
                image.bytes, image.format.contentType,
                common + sourceSize(result) + disposition(image.format.contentType), joined ? .joined : .rendered)
        }
    }
}
