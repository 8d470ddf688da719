import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files so a reader sees either nothing or the whole file: the bytes go to a hidden
/// temporary file in the destination's directory, which is then renamed over the destination.
/// A failure (or Ctrl-C, with `installInterruptCleanup()`) removes the temporary file.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically, creating or replacing it (mode 0666 less umask).
    /// - Throws: `.outputUnwritable` with the reason; no temporary file remains.
    public static func write(_ bytes: [UInt8], to path: String, sync: Bool = false) throws(ImgfnError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ImgfnError) in try write(buffer, to: path, sync: sync) }
        }
        try result.get()
    }

    /// Writes `bytes` to `path` atomically; see `write(_:to:sync:)`.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, sync: Bool = false) throws(ImgfnError) {
        let (directory, name) = split(path)
        let temp = "\(directory)/.\(name).imgfn-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw ImgfnError(.outputUnwritable, "cannot create \(path): \(errnoText())") }
        let slot = PendingTempFiles.register(temp)
        defer { PendingTempFiles.unregister(slot) }
        var failure: String?
        do {
            let buffer = bytes
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = "cannot write \(path): \(errnoText())"
                    break
                }
                done += n
            }
            if failure == nil && sync && fsync(fd) != 0 { failure = "cannot sync \(path): \(errnoText())" }
        }
        if close(fd) != 0 && failure == nil { failure = "cannot write \(path): \(errnoText())" }
        if failure == nil && rename(temp, path) != 0 { failure = "cannot write \(path): \(errnoText())" }
        if let failure {
            unlink(temp)
            throw ImgfnError(.outputUnwritable, failure)
        }
    }

    /// Whether a directory entry's name is one of `write`'s temporary files
    /// (`.NAME.imgfn-PID-RANDOM.tmp`), which a listing must not take for an object.
    public static func isTemporary(name: some Collection<UInt8>) -> Bool {
        let text = String(decoding: name, as: UTF8.self)
        return text.hasPrefix(".") && text.hasSuffix(".tmp") && text.contains(".imgfn-")
    }

    /// Removes pending temporary files, then exits with 128 + signal number, on SIGINT, SIGTERM
    /// and SIGHUP. Call once from a command-line program.
    public static func installInterruptCleanup() {
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            _ = Glibc.signal(signal) { received in
                PendingTempFiles.unlinkAll()
                _exit(128 + received)
            }
        }
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

/// Paths of temporary files being written, kept as C strings in fixed slots so that a signal
/// handler can unlink them without allocating or locking.
enum PendingTempFiles {
    private static let capacity = 256
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        return slots
    }()
    private static let lock = Mutex(())

    static func register(_ path: String) -> Int? {
        let copy = strdup(path)
        return lock.withLock { _ in
            for i in 0..<capacity where slots[i] == nil {
                slots[i] = copy
                return i
            }
            free(copy)
            return nil
        }
    }

    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        lock.withLock { _ in
            free(slots[slot])
            slots[slot] = nil
        }
    }

    /// Async-signal-safe: reads the slots and calls unlink(2), nothing else.
    static func unlinkAll() {
        for i in 0..<capacity {
            if let path = slots[i] { unlink(path) }
        }
    }
}
