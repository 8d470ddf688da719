import ImgfnBase

/// How requests are served: the settings `imgfn serve` takes as flags and the function as
/// environment variables (README "Serving images on demand"). Every default is here.
public struct RequestSettings: Sendable {
    /// imgproxy-style signature keys; nil: none configured.
    public var signing: URLSigning?
    /// Accept processing URLs with any signature (imgproxy's behaviour without keys). Off by
    /// default: without keys and without this, processing URLs are refused (403).
    public var allowUnsigned = false
    /// The S3 bucket requests may name (`s3://BUCKET/KEY`); nil for the filesystem store
    /// (`local:///KEY`).
    public var bucket: String?
    /// `Cache-Control` of images answered. A day by default, not `immutable`: the URL names a
    /// source key, not its version, so a replaced upload must show; a stale copy revalidates
    /// with a 304 that costs one HEAD.
    public var cacheControl = "public, max-age=86400"
    /// Write each rendered result to the store (under the output prefix), so a repeat costs a
    /// GET instead of a render.
    public var writeThrough = true
    /// The largest width or height a URL may ask for.
    public var maxDimension = 8192
    /// The most pixels a processing URL's output may have (with `el:1` and one side given, a
    /// narrow source could otherwise be enlarged far past the source limit): 8192².
    public var maxOutputPixels = 8192 * 8192
    /// Renders at once (decode → encode); the rest wait.
    public var concurrency: Int
    /// Requests that may wait for a render; beyond this, 503 at once.
    public var queueLength: Int
    /// Serve `/_page/{key}`, the `<picture>` page for trying negotiation in a browser. Off by
    /// default: a page with a script has no place on a production image origin.
    public var servesPage = false
    /// How long a request waits for a render before a 503.
    public var queueTimeout: Duration = .seconds(10)
    /// How long a render may take once it has its slot and the source's bytes (the store's
    /// reads have their own timeouts): libvips is stopped there and the answer is a 504
    /// (`RenderDeadline`). Generous by default: the largest sources allowed (100 MP) render in a
    /// few seconds; a render that takes longer holds a slot others need.
    public var renderTimeout: Duration = .seconds(30)

    /// - Parameter cores: the CPUs renders may use (one render per core, a queue of four each).
    public init(cores: Int) {
        concurrency = max(1, cores)
        queueLength = 4 * max(1, cores)
    }
}

extension RequestSettings {
    /// The signing keys from an environment (both shells read theirs once and pass it):
    /// `IMGFN_SIGNING_KEY`, `IMGFN_SIGNING_SALT` (hex, comma-separated pairs) and
    /// `IMGFN_SIGNATURE_SIZE`; nil when no key is set.
    /// - Throws: `.invalidOptions` naming what is wrong.
    public static func signing(environment: [String: String]) throws(ImgfnError) -> URLSigning? {
        guard let keys = environment["IMGFN_SIGNING_KEY"], !keys.isEmpty else { return nil }
        guard let salts = environment["IMGFN_SIGNING_SALT"] else {
            throw ImgfnError(.invalidOptions, "IMGFN_SIGNING_KEY is set but IMGFN_SIGNING_SALT is not")
        }
        var size: Int?
        if let text = environment["IMGFN_SIGNATURE_SIZE"], !text.isEmpty {
            guard let value = Int(text) else {
                throw ImgfnError(.invalidOptions, "IMGFN_SIGNATURE_SIZE \"\(text)\" is not a number of bytes")
            }
            size = value
        }
        return try URLSigning(keys: keys, salts: salts, size: size)
    }
}
