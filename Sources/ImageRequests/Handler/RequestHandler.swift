import Crypto
import Dispatch
import ImagePipeline
import ImageService
import ImgfnBase

/// Answers one HTTP request: the single function behind `imgfn serve` and the Lambda function's
/// HTTP events. Never throws: every problem is a status with a one-line reason.
///
/// Routes (GET and HEAD):
/// - `/health`: 200 with the renders running and waiting.
/// - `/{preset}/{key}[.{ext}]`: a configured derivative (`PresetURL`), served from its stored
///   file when the store has a current one, else rendered and written to that same key.
/// - `/{signature}/{options}/plain/{source}[@{ext}]` and the Base64 form: imgproxy's processing
///   URLs (`ProcessingURL`), signature checked first.
/// - `/_page/{key}`, when `settings.servesPage`: an HTML page with a `<picture>` of the source's
///   preset URLs (`page(for:)`).
///
/// For either: HEAD the source (404 if missing) → `ETag` from its version and the normalised
/// request → `If-None-Match` answered with 304 from that HEAD alone → a stored result (GET) →
/// else wait for a render slot (`AdmissionGate`: 503 when full) → GET the source → the set's
/// decode → derive → encode for this one file → write it through → answer.
public struct RequestHandler: Sendable {
    public let pipeline: Pipeline
    /// Where sources are read.
    public let sources: any BlobStore
    /// Where results are read and written (the output bucket, or the sources' store).
    public let outputs: any BlobStore
    public let settings: RequestSettings
    let gate: AdmissionGate
    let inFlight = InFlightRenders<RenderOutcome>()

    /// A render's answer: the image and whether the source read was still the one announced
    /// (only then is it written through), or the refusal.
    typealias RenderOutcome = Swift.Result<(image: RenderedImage, current: Bool), Refusal>

    /// - Parameter stores: the store of a bucket by name (`StoreFactory`); asked for
    ///   `settings.bucket` (or "" for the filesystem store) and for the output bucket.
    public init(pipeline: Pipeline, stores: @Sendable (String) -> any BlobStore, settings: RequestSettings) {
        self.pipeline = pipeline
        let bucket = settings.bucket ?? ""
        sources = stores(bucket)
        outputs = stores(pipeline.config.output.bucket ?? bucket)
        self.settings = settings
        gate = AdmissionGate(running: settings.concurrency, waiting: settings.queueLength)
    }

    /// How an image answer was made, in `X-Imgfn-Result` and the access log.
    public enum Result: String, Sendable {
        /// Rendered for this request (and written through when configured).
        case rendered
        /// A stored file: a derivative set's, or an earlier request's result.
        case stored
        /// Rendered for another request asking for the same answer at the same time.
        case joined
        /// 304: the client's copy is current.
        case notModified = "not-modified"
    }

    /// Renders running and requests waiting for one, now.
    public var load: (running: Int, waiting: Int) {
        get async { await gate.load }
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .error(
                405, "method \(request.method.prefix(20)) not allowed: GET or HEAD", headers: [("Allow", "GET, HEAD")])
        }
        if request.path == "/health" {
            let load = await gate.load
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                body: Array(#"{"status":"ok","renders":\#(load.running),"waiting":\#(load.waiting)}"#.utf8))
        }
        do throws(ProcessingURL.Problem) {
            if let preset = try PresetURL.parse(request.path, derivatives: pipeline.config.derivatives) {
                return await serve(preset, request)
            }
            if request.path.hasPrefix("/_page/") && !settings.servesPage {
                return .error(404, "no such route: the page is off (imgfn serve --page)")
            }
            if request.path.hasPrefix("/_page/") {
                guard let key = KeyEncoding.decode(String(request.path.dropFirst("/_page/".count)), plusAsSpace: false)
                else { return .error(400, "the key after /_page/ is not valid percent-encoding") }
                return await page(for: key)
            }
            guard let (signature, signedPath) = ProcessingURL.split(request.path) else {
                return .error(404, "no such route: use /PRESET/KEY or /SIGNATURE/OPTIONS/plain/SOURCE")
            }
            if let signing = settings.signing {
                guard signing.verify(signature: signature, path: signedPath) else {
                    return .error(403, "invalid signature")
                }
            } else if !settings.allowUnsigned {
                return .error(403, "signed URLs are required and no signing key is configured")
            }
            let url = try ProcessingURL.parse(
                request.path, presets: pipeline.config.derivatives, maxDimension: settings.maxDimension)
            return await serve(url, request)
        } catch {
            return .error(error.status, error.reason)
        }
    }

    // MARK: - Steps shared by both routes

    /// One stored result per source version and normalised request (`tag`), beside the
    /// source's set: `{output.prefix}_requests/{dir}{file}/{hash}` (`OutputKeys`).
    func resultKey(_ keys: OutputKeys, _ tag: String) -> String {
        keys.requestResultsPrefix + Self.digestHex(tag)
    }

    /// The source's description, or the answer when there is none to serve: 403 for a key
    /// outside the source prefix (or not a plain relative key), 404, 413, 502/503.
    func head(_ key: String) async -> Swift.Result<ObjectInfo, Refusal> {
        if let reason = Self.refusal(ofKey: key, prefix: pipeline.config.source.prefix) {
            return .failure(Refusal(.error(403, reason)))
        }
        let info: ObjectInfo?
        do {
            info = try await sources.head(key)
        } catch {
            return .failure(Refusal(Self.response(for: error, subject: "the store")))
        }
        guard let info else { return .failure(Refusal(.error(404, "no source \(key.prefix(300))"))) }
        let limit = pipeline.config.source.limits.maxBytes
        if info.size > limit {
            return .failure(Refusal(.error(413, "source is \(info.size) bytes, over the limit of \(limit)")))
        }
        return .success(info)
    }

    /// Why `key` may not be read, or nil: only relative keys under the source prefix, without
    /// empty, `.` or `..` segments (after percent-decoding, so encoded traversal is caught too).
    static func refusal(ofKey key: String, prefix: String) -> String? {
        // Bytes, not Characters: a "/" followed by a combining mark is one Character in Swift,
        // and canonical equivalence would let another spelling of the prefix pass.
        let bytes = Array(key.utf8)
        let segments = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let dot = UInt8(ascii: ".")
        if bytes.isEmpty || bytes.contains(0) || bytes.contains(UInt8(ascii: "\\"))
            || segments.contains(where: { $0.isEmpty || Array($0) == [dot] || Array($0) == [dot, dot] })
        {
            return "key \(key.prefix(300)) is not a plain relative key (no empty, . or .. segments)"
        }
        if !bytes.starts(with: prefix.utf8) {
            return "key \(key.prefix(300)) is not under the source prefix \"\(prefix)\""
        }
        return nil
    }

    /// A stored file to serve: its bytes when it exists and (when given) was made from this
    /// version of the source with this configuration.
    func storedResult(_ key: String, source: ObjectInfo?, configHash: String?) async -> (
        bytes: [UInt8], contentType: String
    )? {
        guard let object = try? await outputs.get(key, maxBytes: 256 << 20) else { return nil }
        let metadata = object.info.attributes.metadata
        if let source, let etag = source.etag, metadata["source-etag"].map(ETag.unquoted) != etag { return nil }
        if let configHash, metadata["config-hash"] != configHash { return nil }
        let bytes = object.bytes.withUnsafeBytes { [UInt8]($0) }
        return (bytes, object.info.attributes.contentType)
    }

    /// Waits for a render slot, GETs the source and runs `work` on a Dispatch thread (libvips
    /// work blocks; Swift concurrency's threads must not), with the deadline it must keep:
    /// `settings.renderTimeout` from when the source has been read, or `answerBy` if sooner.
    /// The image is returned with `current`: false when the source read is not the version the
    /// HEAD described (replaced in between), so its result is not stored under the HEAD's ETag.
    /// One render per `tag` (the answer's ETag) at a time: a request for the same answer
    /// meanwhile waits for it, without a slot, and gets its outcome with `joined` (it neither
    /// stores the result nor counts as a render).
    func render(
        _ source: ObjectInfo, answerBy: ContinuousClock.Instant?, sharing tag: String,
        _ work: @escaping @Sendable (SourceBytes, RenderDeadline) throws(ImgfnError) -> RenderedImage
    ) async -> (outcome: RenderOutcome, joined: Bool) {
        await inFlight.run(tag) { await render(source, answerBy: answerBy, work) }
    }

    private func render(
        _ source: ObjectInfo, answerBy: ContinuousClock.Instant?,
        _ work: @escaping @Sendable (SourceBytes, RenderDeadline) throws(ImgfnError) -> RenderedImage
    ) async -> RenderOutcome {
        switch await gate.enter(timeout: settings.queueTimeout) {
        case .admitted: break
        case .queueFull:
            return .failure(
                Refusal(
                    .error(
                        503, "overloaded: \(gate.running) renders running and \(gate.waiting) waiting",
                        headers: [("Retry-After", "1")])))
        case .timedOut:
            return .failure(
                Refusal(
                    .error(
                        503, "no render slot within \(settings.queueTimeout.components.seconds) s",
                        headers: [("Retry-After", "1")])))
        }
        let result: RenderOutcome
        do {
            let object = try await sources.get(source.key, maxBytes: pipeline.config.source.limits.maxBytes)
            let current = object.info.etag == source.etag && object.info.versionId == source.versionId
            let bytes = object.bytes
            let left = answerBy.map { $0 - .now }
            let deadline =
                if let left, left < settings.renderTimeout {
                    RenderDeadline(after: left, name: "the invocation's deadline (less its margin)")
                } else {
                    RenderDeadline(after: settings.renderTimeout)
                }
            let outcome = await withCheckedContinuation { continuation in
                DispatchQueue.global(qos: .userInitiated).async {
                    continuation.resume(returning: Swift.Result { () throws(ImgfnError) in try work(bytes, deadline) })
                }
            }
            switch outcome {
            case .success(let image): result = .success((image, current))
            case .failure(let error): result = .failure(Refusal(Self.response(for: error, subject: "the source")))
            }
        } catch {
            result = .failure(Refusal(Self.response(for: error, subject: "the store")))
        }
        await gate.leave()
        return result
    }

    /// The HTTP status for an `ImgfnError`, with its message as the reason.
    static func response(for error: ImgfnError, subject: String) -> HTTPResponse {
        let code = error.code
        switch code {
        case .emptyInput, .unsupportedFormat: return .error(415, error.message)
        case .corruptImage: return .error(422, error.message)
        case .overLimit: return .error(413, error.message)
        case .overFormatLimit, .invalidOptions: return .error(400, error.message)
        case .notFound: return .error(404, error.message)
        case .timedOut: return .error(504, error.message)
        case .storeUnavailable, .deadline:
            return .error(503, "\(subject) is unavailable: \(error.message)", headers: [("Retry-After", "1")])
        case .accessDenied, .inputUnreadable:
            return .error(502, "\(subject) refused: \(error.message)")
        default: return .error(500, error.message)
        }
    }

    func resultMetadata(_ source: ObjectInfo) -> [String: String] {
        var metadata = DerivedBy.metadata
        metadata["source-key"] = source.key
        metadata["config-hash"] = pipeline.configHash
        if let etag = source.etag { metadata["source-etag"] = etag }
        if let version = source.versionId { metadata["source-version-id"] = version }
        return metadata
    }

    /// A weak entity tag: the answer is the same image for the same source version, request and
    /// configuration (bytes may differ between a set's file and a render of it).
    func etag(_ source: ObjectInfo, _ request: [String]) -> String {
        let fields =
            [
                "imgfn-1", VipsRuntime.libvipsVersion, pipeline.configHash, source.key, source.etag ?? "",
                source.versionId ?? "", "\(source.size)",
            ] + request
        return "W/\"\(Self.digestHex(fields.joined(separator: "\n")))\""
    }

    /// 32 hex digits of SHA-256.
    static func digestHex(_ text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// `If-None-Match` (a list, `*`, weak or strong tags) against `tag`, compared weakly.
    func matches(_ header: String?, _ tag: String) -> Bool {
        guard let header else { return false }
        func opaque(_ text: Substring) -> Substring {
            let trimmed = text.trimmingCharacters()
            return trimmed.hasPrefix("W/") ? trimmed.dropFirst(2) : trimmed
        }
        let ours = opaque(Substring(tag))
        return header.split(separator: ",").contains { $0.trimmingCharacters() == "*" || opaque($0) == ours }
    }

    func commonHeaders(etag: String, negotiated: Bool) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("ETag", etag), ("Cache-Control", settings.cacheControl)]
        if negotiated { headers.append(("Vary", "Accept")) }
        return headers
    }

    /// `X-Imgfn-Source-Size: WIDTHxHEIGHT`, the source's upright size, on rendered answers.
    func sourceSize(_ result: RenderedImage) -> [(name: String, value: String)] {
        [("X-Imgfn-Source-Size", "\(result.source.orientedWidth)x\(result.source.orientedHeight)")]
    }

    func notModified(_ common: [(name: String, value: String)]) -> HTTPResponse {
        HTTPResponse(status: 304, headers: common + [("X-Imgfn-Result", Result.notModified.rawValue)])
    }

    func image(
        _ bytes: [UInt8], _ contentType: String, _ common: [(name: String, value: String)], _ result: Result
    ) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            headers: [("Content-Type", contentType)] + common + [("X-Imgfn-Result", result.rawValue)],
            body: bytes)
    }
}

/// A response that ends a request early (carried through `Result`).
struct Refusal: Error {
    let response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
}
