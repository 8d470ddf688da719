// The harness's results: what `latest.json` holds, what `latest.md`/`latest.svg` are rendered
// from and what the regression gate reads. Times are milliseconds, memory MiB.

/// One benchmark run, written as `Benchmarks/results/latest.json`.
struct BenchReport: Codable {
    var schema = 1
    /// ISO 8601, UTC.
    var started: String
    /// "quick" (the CI gate) or "full".
    var mode: String
    var machine: Machine
    var photos: [Photo]
    /// Whole processes (start-up included), ours and peers alternated round by round.
    var wholeProcess: [ProcessComparison]
    /// libjpeg-turbo alone (`djpeg -scale 1/N` + `cjpeg`) on the same JPEGs.
    var floors: [Floor]
    /// In-process, warm: what a warm Lambda does per image.
    var warm: [WarmResult]
    /// The Lambda bundle's `bootstrap` kept warm over several S3 events.
    var function: [FunctionResult] = []
    /// The default set on a sideways photo and on panoramas, against the photo upright.
    var shapes: [ShapeResult] = []
    /// The `bootstrap` from exec to its first `/next`, and to its first response.
    var coldInit: [ColdInitResult]
    /// `imgfn backfill` against a shell loop of `imgfn invoke` (nil in older reports).
    var backfill: BackfillResult? = nil
    /// SSIMULACRA2 and CPU-seconds of the default set, ours and vipsthumbnail (nil in older reports).
    var quality: QualityResult? = nil
    /// The default set per million uploads at Lambda's memory sizes, CPU limited (nil in older reports).
    var cost: CostResult? = nil
    /// `imgfn serve` beside thumbor under wrk (nil in older reports).
    var http: HTTPResult? = nil
    /// The figures the gate compares with `Benchmarks/baseline.json`, by key.
    var ratios: [String: Double]
    var gate: [GateCheck]
}

struct Machine: Codable {
    var cpu: String
    var cores: Int
    var memoryGiB: Double
    var kernel: String
    var os: String
    /// The libvips our binaries link, e.g. "8.18.7 (pyvips-binary wheel)".
    var ourLibvips: String
    /// Peer tool → version line.
    var peers: [String: String]
}

struct Photo: Codable {
    /// Short id used in tables and keys, e.g. "20mp-baseline".
    var id: String
    var path: String
    var width: Int
    var height: Int
    var bytes: Int
    /// "baseline JPEG", "progressive JPEG", "PNG", "WebP"…
    var kind: String
    var megapixels: Double { Double(width * height) / 1_000_000 }
}

/// Summary of repeated runs of one thing.
struct Timing: Codable {
    var runs: Int
    var medianMs: Double
    var p90Ms: Double
    var minMs: Double
    /// Largest peak RSS of the process over the runs (whole-process runs only).
    var peakRSSMiB: Double?
}

/// One task on one photo: our process against each peer's, in the same rounds.
struct ProcessComparison: Codable {
    /// "resize-320" (one 320-wide JPEG), "derive-default" (the default derivative set) or
    /// "derive-web-3x2" (320/640/1280 in JPEG and WebP).
    var task: String
    var photo: String
    var ours: Timing
    var peers: [PeerTiming]
}

struct PeerTiming: Codable {
    /// "vipsthumbnail", "imagemagick", "pillow".
    var tool: String
    var timing: Timing
    /// Median over rounds of (our time ÷ this peer's time) in the same round.
    var oursOverPeer: Double
}

/// The libjpeg-turbo floor for a 320-wide JPEG from `photo`.
struct Floor: Codable {
    var photo: String
    /// The `-scale 1/N` used: the same shrink-on-load as ours.
    var scale: Int
    var decode: Timing
    var encode: Timing
    /// Our warm in-process time ÷ (decode + encode), the median over pairs measured one after
    /// the other in the warm phase (`WarmResult.oursOverFloor`).
    var oursWarmOverFloor: Double?
    /// Our whole-process time ÷ (decode + encode), the median over the rounds.
    var oursProcessOverFloor: Double?
}

struct WarmResult: Codable {
    var task: String
    var photo: String
    var runs: Int
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var maxMs: Double
    /// With `threads` workers each doing images one after another.
    var imagesPerSecond: Double
    var threads: Int
    /// Peak RSS of the harness while it did this task one image at a time (VmHWM reset before).
    var peakRSSMiB: Double
    /// For a JPEG's resize: the median over the latency phase of (this image's time ÷ the
    /// libjpeg-turbo floor run next to it).
    var oursOverFloor: Double?
}

/// The Lambda function kept warm: one `bootstrap` handed S3 events one after another.
struct FunctionResult: Codable {
    /// "derive-default": the default derivative set of the event's photo.
    var task: String
    var photo: String
    var invocations: Int
    /// The first invocation, first-use costs included (`/next` answered → `/response`).
    var firstMs: Double
    /// The invocations after the first.
    var warm: Timing
    var derivativesPerInvocation: Int
    /// Each invocation's peak RSS (VmHWM reset before it): the median, and the largest, which
    /// is Lambda's "Max Memory Used".
    var peakRSSMedianMiB: Double
    var peakRSSMaxMiB: Double
    /// Its VmRSS while waiting for the next event.
    var idleRSSMiB: Double
}

struct ColdInitResult: Codable {
    /// "bundle" (build/lambda as shipped), "debian" (linked with Debian's libvips), "c-client"
    /// (a trivial C program doing the same GET /next: the floor for process start).
    var variant: String
    var description: String
    var runs: Int
    /// exec → first `/next` request.
    var initMedianMs: Double
    var initP90Ms: Double
    /// exec → first `/response` for a one-photo S3 event (nil for the C client).
    var firstImageMedianMs: Double?
    var firstImageP90Ms: Double?
}

/// One ratio against the baseline.
struct GateCheck: Codable {
    var key: String
    var baseline: Double
    var current: Double
    /// When `current` was over tolerance: the figure measured a second time.
    var remeasured: Double?
    /// Allowed regression, e.g. 0.25 = current may be up to 25 % above baseline.
    var tolerance: Double
    /// Within tolerance the first time, or the second.
    var passed: Bool
}
