import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline
import ImageRequests
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve images on demand over HTTP: presets and signed imgproxy-style URLs.",
        discussion: """
            Answers GET and HEAD on --host:--port (default 127.0.0.1:8080):
              /PRESET/KEY[.EXT]                          a derivative of the configuration, by name
              /SIGNATURE/OPTIONS/plain/local:///KEY@EXT  imgproxy's processing URLs (or s3://BUCKET/KEY,
                                                         or the source as URL-safe Base64 + .EXT)
              /health                                    200 while the server runs
              /metrics                                   Prometheus text
              /_page/KEY                                 with --page: a <picture> page of KEY's presets
            Sources are keys of the store under the configuration's source prefix, never URLs. \
            Signatures are imgproxy's: IMGFN_SIGNING_KEY and IMGFN_SIGNING_SALT (hex; \
            comma-separated pairs to rotate keys), IMGFN_SIGNATURE_SIZE (bytes, default 32). \
            Without keys, processing URLs are refused unless --insecure-unsigned is given. \
            Without an extension the format follows Accept (AVIF, WebP, else the source's), \
            with Vary: Accept. Results are written to the store under the output prefix, so a \
            repeat costs a GET. One JSON access-log line per request on standard output.

            Exit status: 64 for bad options or signing keys, 78 for an invalid configuration, \
            69 when the address cannot be bound.
            """
    )

    @Option(help: "The store: a directory (the embedded filesystem store) or s3://BUCKET.")
    var store = "."

    @OptionGroup var s3: S3Options

    @OptionGroup var config: ConfigOption

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port; the address is printed).")
    var port = 8080

    @Flag(
        name: .customLong("insecure-unsigned"),
        help: "Accept processing URLs with any signature (only for trusted networks).")
    var insecureUnsigned = false

    @Option(help: "Renders at once (default: the number of cores).")
    var concurrency: Int?

    @Option(help: "Requests that may wait for a render before 503 (default: 4 per core).")
    var queue: Int?

    @Option(
        name: .customLong("render-timeout"),
        help: "Seconds a render may take once started; then it is stopped and answered with 504.")
    var renderTimeout: Double = 30

    @Option(name: .customLong("cache-control"), help: "Cache-Control of images served.")
    var cacheControl = "public, max-age=86400"

    @Flag(name: .customLong("no-write-through"), help: "Do not store rendered results.")
    var noWriteThrough = false

    @Option(name: .customLong("max-dimension"), help: "Largest width or height a URL may ask for.")
    var maxDimension = 8192

    @Flag(help: "Serve /_page/KEY, a <picture> page of a source's presets, to try negotiation in a browser.")
    var page = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let queue, queue < 0 { throw ValidationError("--queue must be 0 or more") }
        guard renderTimeout >= 0.001 && renderTimeout <= 86400 else {
            throw ValidationError("--render-timeout must be from 0.001 to 86400 seconds")
        }
        guard (1...ResizeOptions.maxDimension).contains(maxDimension) else {
            throw ValidationError("--max-dimension must be 1…\(ResizeOptions.maxDimension)")
        }
        if store.hasPrefix("s3://") && store.dropFirst(5).isEmpty {
            throw ValidationError("--store: serve needs one bucket: s3://BUCKET")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let pipeline = try config.loadPipeline()
        var settings = RequestSettings(cores: ProcessInfo.processInfo.activeProcessorCount)
        do {
            settings.signing = try RequestSettings.signing(environment: environment)
        } catch {
            throw ExitStatus.report(error, subject: "IMGFN_SIGNING_KEY")
        }
        settings.allowUnsigned = insecureUnsigned
        if settings.signing == nil && !insecureUnsigned {
            printError(
                "imgfn: serve: no IMGFN_SIGNING_KEY/IMGFN_SIGNING_SALT: processing URLs are refused (403); presets are served"
            )
        }
        if store.hasPrefix("s3://") { settings.bucket = String(store.dropFirst(5).prefix { $0 != "/" }) }
        settings.cacheControl = cacheControl
        settings.writeThrough = !noWriteThrough
        settings.maxDimension = maxDimension
        settings.servesPage = page
        if let concurrency { settings.concurrency = concurrency }
        if let queue { settings.queueLength = queue }
        settings.renderTimeout = .milliseconds(Int((renderTimeout * 1000).rounded()))
        // Renders run side by side, one per core by default: each gets its share of the cores
        // as libvips threads rather than all of them (more threads than cores only switch).
        // Measured (make bench, HTTP): +4 % requests/s at 2.5 and 20 MP, lower p99 at 4 connections.
        if environment["VIPS_CONCURRENCY"] == nil {
            let cores = ProcessInfo.processInfo.activeProcessorCount
            try VipsRuntime.setConcurrency(max(1, cores / settings.concurrency))
        }
        let handler = RequestHandler(pipeline: pipeline, stores: try s3.makeStores(store), settings: settings)
        let server = HTTPServer(handler: handler) { line in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let json = try? encoder.encode(line) else { return }
            _ = writeAll(STDOUT_FILENO, Array(json) + [UInt8(ascii: "\n")])
        }
        let (host, port, configHash) = (self.host, self.port, pipeline.configHash)
        do {
            try await server.run(host: host, port: port) { address in
                let line = #"{"listening":"http://\#(host):\#(address.port ?? port)","configHash":"\#(configHash)"}"#
                _ = writeAll(STDOUT_FILENO, Array((line + "\n").utf8))
            }
        } catch {
            printError("imgfn: serve: cannot listen on \(host):\(port): \(error)")
            throw ExitCode(ExitStatus.unavailable)
        }
    }
}
