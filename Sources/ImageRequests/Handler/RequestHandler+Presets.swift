import ImagePipeline
import ImageService
import ImgfnBase

extension RequestHandler {
    /// `/{preset}/{key}[.{ext}]`: the derivative's file from the store when it is this source
    /// version's (by its output key, else through a current manifest), else rendered and stored
    /// under that key.
    func serve(_ url: PresetURL, _ request: HTTPRequest) async -> HTTPResponse {
        let source: ObjectInfo
        switch await head(url.key) {
        case .success(let info): source = info
        case .failure(let refusal): return refusal.response
        }
        let accepted = AcceptedFormat(accept: request.header("Accept"))
        let format = url.format ?? accepted.choose(among: url.derivative.formats)
        let negotiated = url.format == nil && url.derivative.formats.count > 1
        let tag = etag(source, ["preset", url.derivative.name, format.rawValue])
        let common = commonHeaders(etag: tag, negotiated: negotiated)
        if matches(request.header("If-None-Match"), tag) { return notModified(common) }

        let config = pipeline.config
        let keys = OutputKeys(sourceKey: url.key, sourcePrefix: config.source.prefix, output: config.output)
        let name = url.derivative.name
        // The set's own file: straight from its key when the template does not need the size,
        // else (or when that file is not this source's) through a current manifest. A template
        // with the size cannot be looked up before the image is made: a render is then stored
        // under the request's own result key instead, which the next request finds.
        let sized = config.output.key.contains("{width}") || config.output.key.contains("{height}")
        let ownKey = sized ? resultKey(keys, tag) : keys.key(name: name, format: format, width: 0, height: 0)
        if let stored = await storedResult(ownKey, source: source, configHash: pipeline.configHash) {
            return image(stored.bytes, format.contentType, common, .stored)
        }
        if let manifest = try? await Manifest.read(from: outputs, key: keys.manifestKey),
            manifest.isCurrent(for: source, configHash: pipeline.configHash),
            let listed = manifest.derivatives.first(where: { $0.name == name && $0.format == format }),
            let stored = await storedResult(listed.key, source: nil, configHash: nil)
        {
            return image(stored.bytes, format.contentType, common, .stored)
        }
        let (rendered, joined) = await render(source, answerBy: request.deadline, sharing: tag) {
            bytes, deadline throws(ImgfnError) in
            try pipeline.render(derivative: name, as: format, from: bytes, deadline: deadline)
        }
        switch rendered {
        case .failure(let refusal): return refusal.response
        case .success(let (result, current)):
            let image = result.image
            if settings.writeThrough && current && !joined {
                try? await outputs.put(
                    ownKey, bytes: image.bytes,
                    attributes: BlobAttributes(
                        contentType: format.contentType, cacheControl: config.output.cacheControl,
                        metadata: resultMetadata(source)))
            }
            return self.image(
                image.bytes, format.contentType, common + sourceSize(result), joined ? .joined : .rendered)
        }
    }
}
