import CHeif
import CJxl
import CVips
import ImgfnBase
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libvips' process-wide state: started once, thread-safely, on first use.
///
/// Start-up does what libvips' maintainers recommend for servers handling untrusted input:
/// the operation cache is off (we never repeat an operation), every loader is blocked except
/// JPEG, PNG, WebP, GIF, TIFF and HEIF/AVIF, and optional modules are *not* loaded at start.
/// Loading Debian's five modules (magick, poppler, openslide, heif, jxl) is most of
/// `vips_init`'s time (README "Performance"); only the HEIF module is ever needed, and only when
/// a HEIF/AVIF image is read or written, so `requireHEIF()` loads that one on demand.
public enum VipsRuntime {
    /// Loader classes that stay usable after everything else under `VipsForeignLoad` is blocked.
    /// Subclasses (file, buffer, source variants) follow their parent.
    static let allowedLoaders = [
        "VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp",
        "VipsForeignLoadNsgif", "VipsForeignLoadTiff", "VipsForeignLoadHeif",
    ]

    /// How libvips is started: what a shell read from its environment, handed down once.
    public struct Settings: Sendable, Equatable {
        /// Load every libvips module at start (libvips' default), instead of only the HEIF
        /// module when a HEIF/AVIF image needs it: for measuring the difference.
        public var eagerModules = false
        /// Where libvips' modules are; nil: beside the libvips shared object this process loaded.
        public var moduleDirectory: String?
        /// Cap glibc's malloc arenas at 2 (false when the operator set `MALLOC_ARENA_MAX`).
        public var capMallocArenas = true
        /// Fix glibc's trim threshold at 128 KiB (false when `MALLOC_TRIM_THRESHOLD_` is set).
        public var fixTrimThreshold = true

        public init() {}

        /// From a shell's environment: `IMGFN_VIPS_MODULES=eager`, `IMGFN_VIPS_MODULE_DIR`,
        /// and glibc's own `MALLOC_ARENA_MAX` / `MALLOC_TRIM_THRESHOLD_`, which then win.
        public init(environment: [String: String]) {
            eagerModules = environment["IMGFN_VIPS_MODULES"] == "eager"
            moduleDirectory = environment["IMGFN_VIPS_MODULE_DIR"]
            capMallocArenas = environment["MALLOC_ARENA_MAX"] == nil
            fixTrimThreshold = environment["MALLOC_TRIM_THRESHOLD_"] == nil
        }
    }

    private static let configured = Mutex<Settings?>(nil)

    /// Sets how libvips will start; call once, before anything decodes. Without it, `Settings()`.
    /// - Returns: false when libvips had already started (the settings then do nothing).
    @discardableResult
    public static func configure(_ settings: Settings) -> Bool {
        configured.withLock { value in
            guard !started.load(ordering: .acquiring) else { return false }
            value = settings
            return true
        }
    }

    private static let started = Atomic(false)
    private static var settings: Settings { configured.withLock { $0 } ?? Settings() }

    /// Starts libvips if it is not started yet. Cheap after the first call.
    /// - Throws: `ImgfnError.vipsUnavailable` if `vips_init` failed.
    public static func start() throws(ImgfnError) {
        try startResult.get()
    }

    /// Sets the number of worker threads libvips uses per pipeline (`VIPS_CONCURRENCY`);
    /// `nil` or 0 restores libvips' default (the number of cores).
    public static func setConcurrency(_ threads: Int?) throws(ImgfnError) {
        try start()
        vips_concurrency_set(Int32(clamping: threads ?? 0))
    }

    /// Returns the free memory of every malloc arena to the system. For a long-lived process
    /// between images: freed image buffers otherwise stay resident, scattered through the
    /// arenas of libvips' worker threads, and pile up from image to image (a warm function's
    /// idle RSS crept up by about a megabyte per set without it: README "Performance").
    public static func releaseFreeMemory() {
        cv_malloc_trim()
    }

    /// The version of the libvips this process linked, e.g. "8.18.7".
    public static var libvipsVersion: String {
        "\(vips_version(0)).\(vips_version(1)).\(vips_version(2))"
    }

    /// Makes the HEIF/AVIF loader and saver available, loading libvips' `heif` module the first
    /// time. libvips builds that link libheif in (no module) need nothing loaded.
    /// - Throws: `ImgfnError.vipsUnavailable` when this libvips has no HEIF support.
    public static func requireHEIF() throws(ImgfnError) {
        try start()
        try heifResult.get()
    }

    private static let startResult: Result<Void, ImgfnError> = {
        let settings = configured.withLock { value in
            started.store(true, ordering: .releasing)
            return value ?? Settings()
        }
        // libvips loads its modules from "$VIPSHOME/lib/vips-modules-MAJOR.MINOR" when VIPSHOME
        // is set, so pointing VIPSHOME at a directory that cannot exist skips them all. The
        // variable is restored afterwards (libvips reads it, so this is the one place the process
        // environment is touched). `eagerModules` keeps libvips' default (every module at start).
        // glibc gives every thread that allocates its own malloc arena and keeps freed memory
        // in it; libvips' worker threads then pile up tens of megabytes of peak RSS. Two arenas
        // is what libvips' maintainers suggest for servers (MALLOC_ARENA_MAX, if set, wins).
        if settings.capMallocArenas { _ = cv_set_malloc_arena_max(2) }
        // glibc also raises its mmap and trim thresholds (up to 32/64 MiB) once a large block is
        // freed, after which freed image buffers stay in the heap instead of going back to the
        // system, and the next stage's buffers pile on top: a fixed 128 KiB threshold (glibc's
        // initial value) keeps the peak of a set near its largest stage (README "Performance").
        if settings.fixTrimThreshold { _ = cv_set_malloc_trim_threshold(128 * 1024) }
        let eager = settings.eagerModules
        let previous = getenv("VIPSHOME").map { String(cString: $0) }
        if !eager { setenv("VIPSHOME", "/nonexistent/imgfn-deferred-vips-modules", 1) }
        let failed = vips_init("imgfn") != 0
        if !eager {
            if let previous { setenv("VIPSHOME", previous, 1) } else { unsetenv("VIPSHOME") }
        }
        if failed {
            return .failure(ImgfnError(.vipsUnavailable, "libvips failed to start: \(VipsError.take())"))
        }
        // libvips reports recoverable oddities (and errors in tiles it then fails on) as GLib
        // warnings on stderr. Failures reach callers through the error buffer instead, so the
        // warnings are dropped rather than let through as extra lines around our one-line errors.
        g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, { _, _, _, _ in }, nil)
        vips_cache_set_max(0)
        vips_block_untrusted_set(1)
        vips_operation_block_set("VipsForeignLoad", 1)
        for loader in allowedLoaders { vips_operation_block_set(loader, 0) }
        return .success(())
    }()

    private static let heifResult: Result<Void, ImgfnError> = {
        if g_type_from_name("VipsForeignLoadHeifBuffer") != 0 { return .success(()) }
        guard let module = moduleDirectory.map({ $0 + "/vips-heif.so" }) else {
            return .failure(
                ImgfnError(.vipsUnavailable, "HEIF/AVIF support unavailable: libvips module directory not found"))
        }
        // What GModule does, without linking GModule (single-file libvips builds do not export
        // it): open the module and run its `g_module_check_init`, which registers the loader
        // and saver types and ignores its argument. RTLD_NODELETE keeps the module resident.
        guard let handle = dlopen(module, RTLD_NOW | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "cannot open \(module)"
            return .failure(ImgfnError(.vipsUnavailable, "HEIF/AVIF support unavailable: \(reason)"))
        }
        typealias CheckInit = @convention(c) (UnsafeMutableRawPointer?) -> UnsafePointer<CChar>?
        guard let symbol = dlsym(handle, "g_module_check_init") else {
            return .failure(
                ImgfnError(.vipsUnavailable, "HEIF/AVIF support unavailable: \(module) is not a libvips module"))
        }
        if let failure = unsafeBitCast(symbol, to: CheckInit.self)(nil) {
            return .failure(ImgfnError(.vipsUnavailable, "HEIF/AVIF support unavailable: \(String(cString: failure))"))
        }
        // A type registered after start-up inherits its class' blocked flag from the parent
        // (VipsForeignLoad, blocked): unblock the HEIF loader again now that it exists.
        vips_operation_block_set("VipsForeignLoadHeif", 0)
        guard g_type_from_name("VipsForeignLoadHeifBuffer") != 0 else {
            return .failure(
                ImgfnError(.vipsUnavailable, "HEIF/AVIF support unavailable: \(module) registered no loader"))
        }
        return .success(())
    }()

    /// `Settings.moduleDirectory`, else `vips-modules-MAJOR.MINOR` beside the libvips shared object
    /// this process loaded, which is where libvips' own install (and Debian's) puts them.
    /// (libvips' `vips_guess_libdir` cannot tell: it caches the value it saw while VIPSHOME
    /// pointed nowhere.)
    static var moduleDirectory: String? {
        if let dir = settings.moduleDirectory { return dir }
        guard let path = libraryPath, let slash = path.lastIndex(of: "/"),
            path[path.index(after: slash)...].hasPrefix("libvips.so")
        else { return nil }
        return "\(path[..<slash])/vips-modules-\(vips_version(0)).\(vips_version(1))"
    }

    /// The libheif shared object HEIC decoding opened, once it has (from `/proc/self/maps`).
    static var heifLibraryPath: String? { mappedLibrary(named: "libheif") }

    /// For a program that owns its standard error (the CLI): libjxl's failure traces, which
    /// would come before the program's own one-line error, are silenced by pointing fd 2 at
    /// /dev/null while libjxl runs. The caller must write its own messages to a copy of fd 2
    /// taken before (another thread may be decoding). Off by default, so a server's or a
    /// test's crash reports reach stderr.
    public static func silenceJPEGXLTraces() { cjxl_quiet_stderr(1) }

    /// The libjxl shared object JPEG XL decoding opened, once it has.
    static var jxlLibraryPath: String? { mappedLibrary(named: "libjxl.so") }

    /// The libvips shared object this process loaded (from `/proc/self/maps`), e.g.
    /// `/usr/lib/x86_64-linux-gnu/libvips.so.42.16.1` (Debian's) or a single-file build's
    /// `libvips-<hash>.so.42`.
    public static var libraryPath: String? { mappedLibrary(named: "libvips") }

    private static func mappedLibrary(named prefix: String) -> String? {
        guard
            let maps = try? SourceBytes.read(
                fileDescriptor: open("/proc/self/maps", O_RDONLY | O_CLOEXEC), maxBytes: 16 << 20, closing: true)
        else { return nil }
        let text = maps.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        for line in text.split(separator: "\n") {
            guard let start = line.firstIndex(of: "/") else { continue }
            let path = line[start...]
            if let slash = path.lastIndex(of: "/"), path[path.index(after: slash)...].hasPrefix(prefix) {
                return String(path)
            }
        }
        return nil
    }

    /// What this libvips can read and write, as imgfn uses it: loaders allowed (HEIF/AVIF only
    /// when its support loads), savers present, and HEIC and JPEG XL when the system's libheif
    /// and libjxl open. Starts libvips, loads the HEIF module and opens those libraries.
    public static func codecs() -> (loaders: [String], savers: [String]) {
        guard (try? start()) != nil else { return ([], []) }
        let heif = (try? requireHEIF()) != nil
        // By operation nickname: stable across builds (libpng or libspng, GIF via nsgif…).
        func has(_ nickname: String) -> Bool { vips_type_find("VipsOperation", nickname) != 0 }
        var loaders = [
            ("JPEG", "jpegload_buffer"), ("PNG", "pngload_buffer"), ("WebP", "webpload_buffer"),
            ("GIF", "gifload_buffer"), ("TIFF", "tiffload_buffer"), ("AVIF", "heifload_buffer"),
        ].filter { has($0.1) && ($0.0 != "AVIF" || heif) }.map(\.0)
        // HEIC: through the system's libheif (CHeif), when it opens and decodes HEVC.
        var reason = [CChar](repeating: 0, count: 256)
        if reason.withUnsafeMutableBufferPointer({ cheif_open($0.baseAddress!, $0.count) }) == 0 {
            loaders.insert("HEIC (\(heifLibraryPath ?? "libheif"))", at: loaders.count - (heif ? 1 : 0))
        }
        // JPEG XL: through the system's libjxl (CJxl), when it opens.
        if reason.withUnsafeMutableBufferPointer({ cjxl_open($0.baseAddress!, $0.count) }) == 0 {
            loaders.append("JPEG XL (\(jxlLibraryPath ?? "libjxl"))")
        }
        let savers = [
            ("JPEG", "jpegsave_buffer"), ("PNG", "pngsave_buffer"), ("WebP", "webpsave_buffer"),
            ("AVIF", "heifsave_buffer"),
        ].filter { has($0.1) && ($0.0 != "AVIF" || heif) }.map(\.0)
        return (loaders, savers)
    }
}
