#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SourceBytes {
    /// Reads a whole file, refusing it before reading when it is larger than `maxBytes`.
    /// - Throws: `.inputUnreadable` (missing, a directory, no permission, I/O error),
    ///   `.overLimit` (too large), `.emptyInput` (zero bytes).
    public static func read(path: String, maxBytes: Int) throws(ImgfnError) -> SourceBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImgfnError(.inputUnreadable, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImgfnError(.inputUnreadable, "cannot stat: \(errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw ImgfnError(.inputUnreadable, "is a directory") }
            return try read(fileDescriptor: fd, maxBytes: maxBytes)
        }
        let size = Int(info.st_size)
        try checkSize(size, maxBytes: maxBytes)
        let bytes = SourceBytes(capacity: size)
        var done = 0
        while done < size {
            let n = sysRead(fd, bytes.base + done, size - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ImgfnError(.inputUnreadable, n == 0 ? "file shrank while reading" : "read failed: \(errnoText())")
            }
            done += n
        }
        return bytes
    }

    /// Reads a stream (stdin, a pipe) to its end, refusing it as soon as it passes `maxBytes`.
    /// With `closing`, the descriptor is closed afterwards (and an invalid one is an error).
    public static func read(fileDescriptor fd: Int32, maxBytes: Int, closing: Bool = false) throws(ImgfnError)
        -> SourceBytes
    {
        if closing {
            guard fd >= 0 else { throw ImgfnError(.inputUnreadable, "cannot open: \(errnoText())") }
        }
        defer { if closing { close(fd) } }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { sysRead(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ImgfnError(.inputUnreadable, "read failed: \(errnoText())") }
            if n == 0 { break }
            data.append(contentsOf: chunk[..<n])
            if data.count > maxBytes {
                throw ImgfnError(.overLimit, "input is over the byte limit of \(maxBytes) bytes")
            }
        }
        try checkSize(data.count, maxBytes: maxBytes)
        return SourceBytes(data)
    }

    package static func checkSize(_ size: Int, maxBytes: Int) throws(ImgfnError) {
        if size == 0 { throw ImgfnError(.emptyInput, "input is empty (0 bytes)") }
        if size > maxBytes {
            throw ImgfnError(.overLimit, "input is \(size) bytes, over the byte limit of \(maxBytes)")
        }
    }
}

package func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// `read(2)`, named apart from `SourceBytes.read` which shadows it inside the extension.
private func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
