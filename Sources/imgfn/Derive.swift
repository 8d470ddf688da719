import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline
import ImageService
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

struct Derive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "derive",
        abstract: "Make every derivative of each input, and its manifest, into a directory.",
        discussion: """
            Each input is decoded once; every derivative of the configuration (default: 320, 640, \
            1280 and 2048 wide in JPEG and WebP, plus AVIF for the two large ones) is made from \
            that decode. Directories are searched recursively for image files (recognised by \
            their bytes; hidden files are skipped). Files go to OUT under the configuration's \
            key template, e.g. OUT/derived/photos/cat/w320.webp, with OUT/derived/photos/cat/manifest.json \
            written last.

            A failed input is reported with its reason and does not stop the others; the exit \
            code is then non-zero. Ctrl-C leaves no partial files.

            \(ExitStatus.helpText)
            """
    )

    @Argument(help: "Image files and directories.")
    var inputs: [String]

    @OptionGroup var config: ConfigOption

    @Option(help: "Output directory (the filesystem blob store's root).")
    var out: String

    @Option(help: "Override the configuration's output prefix (\"\" for none).")
    var prefix: String?

    @Option(help: "Images processed at once (default: the number of cores).")
    var jobs: Int?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        AtomicFile.installInterruptCleanup()
        let pipeline = try loadPipeline()
        let sources = try collectSources()
        let store = FileSystemBlobStore(root: out)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workers = Swift.max(1, Swift.min(jobs ?? cores, sources.count))
        let perImage = Swift.max(1, (jobs ?? cores) / workers)
        let progress = Progress(total: sources.count, json: json)
        let clock = ContinuousClock()
        let start = clock.now

        var results: [Int: InputResult] = [:]
        await withTaskGroup(of: (Int, InputResult).self) { group in
            var next = 0
            func launch() {
                guard next < sources.count else { return }
                let index = next
                let source = sources[index]
                next += 1
                group.addTask { (index, await Self.process(source, pipeline: pipeline, store: store, jobs: perImage)) }
            }
            for _ in 0..<workers { launch() }
            while let (index, result) = await group.next() {
                results[index] = result
                progress.update(result)
                launch()
            }
        }
        let ordered = sources.indices.compactMap { results[$0] }
        let summary = Summary(results: ordered, seconds: (clock.now - start).seconds)
        progress.finish()
        if json { print(summary.json) } else { print(summary.table) }
        if let code = summary.exitCode { throw ExitCode(code) }
    }

    private func loadPipeline() throws -> Pipeline {
        // The output directory is a bucket of its own: derivatives can never be read back
        // as inputs, so the same-bucket recursion guard does not apply.
        try config.loadPipeline { config in
            config.output.bucket = config.output.bucket ?? "local"
            if let prefix { config.output.prefix = prefix }
        }
    }

    /// A source: the file to read and the key it is stored under (its path below the
    /// directory given, or its name for a file given directly).
    struct Source: Sendable {
        var path: String
        var key: String
    }

    private func collectSources() throws -> [Source] {
        var sources: [Source] = []
        for input in inputs {
            var info = stat()
            guard stat(input, &info) == 0 else {
                throw ExitStatus.report(
                    ImgfnError(.inputUnreadable, "cannot open: \(String(cString: strerror(errno)))"), subject: input)
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                let root = input.hasSuffix("/") ? String(input.dropLast()) : input
                for relative in Self.imageFiles(below: root) {
                    sources.append(Source(path: "\(root)/\(relative)", key: relative))
                }
            } else {
                let name = input.split(separator: "/").last.map(String.init) ?? input
                sources.append(Source(path: input, key: name))
            }
        }
        return sources
    }

    /// Relative paths of the image files below `root` (recognised by their first bytes),
    /// sorted; hidden entries and symbolic links to directories are skipped.
    static func imageFiles(below root: String, relative: String = "") -> [String] {
        guard let dir = opendir(relative.isEmpty ? root : "\(root)/\(relative)") else { return [] }
        defer { closedir(dir) }
        var found: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }
            let path = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = stat()
            guard lstat("\(root)/\(path)", &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: found += imageFiles(below: root, relative: path)
            case S_IFREG where looksLikeImage("\(root)/\(path)"): found.append(path)
            default: continue
            }
        }
        return found.sorted()
    }

    static func looksLikeImage(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 64)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 64) }
        guard n > 0 else { return false }
        return head[..<n].withUnsafeBytes { ImageFormat.sniff($0) } != nil
    }

    static func process(_ source: Source, pipeline: Pipeline, store: FileSystemBlobStore, jobs: Int) async
        -> InputResult
    {
        do {
            let bytes = try SourceBytes.read(path: source.path, maxBytes: pipeline.config.source.limits.maxBytes)
            let bytesIn = bytes.count
            // The last reference: the pipeline frees the source once it is decoded.
            let set = try await pipeline.derive(detaching: consume bytes, jobs: jobs)
            let keys = OutputKeys(
                sourceKey: source.key, sourcePrefix: pipeline.config.source.prefix, output: pipeline.config.output)
            // A rerun under another configuration replaces the set: files it no longer makes go.
            let previous = try await Manifest.read(from: store, key: keys.manifestKey)
            let manifest = try await set.store(
                in: store, sourceKey: source.key, pipeline: pipeline, replacing: previous)
            return InputResult(
                path: source.path, bytesIn: bytesIn, files: manifest.fileKeys.count,
                bytesOut: manifest.storedBytes,
                manifestKey: keys.manifestKey,
                omitted: set.omitted.map(\.summary), error: nil)
        } catch {
            return InputResult(path: source.path, bytesIn: 0, files: 0, bytesOut: 0, manifestKey: nil, error: error)
        }
    }
}

/// What happened to one input.
struct InputResult: Sendable {
    var path: String
    var bytesIn: Int
    var files: Int
    var bytesOut: Int
    var manifestKey: String?
    /// Files of the configuration its format could not hold (`DerivativeSet.Omission.summary`).
    var omitted: [String] = []
    var error: ImgfnError?
}
