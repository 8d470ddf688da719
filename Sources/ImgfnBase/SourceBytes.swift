#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An encoded image held in memory at a stable address, as libvips' buffer loaders need:
/// libvips does not copy the buffer, it reads from it whenever pixels are pulled, so every
/// image made from it keeps this object alive.
public final class SourceBytes: @unchecked Sendable {
    // Immutable after init, so sharing across threads is safe.
    /// The first byte; libvips' buffer loaders read from here.
    package let base: UnsafeMutableRawPointer
    /// Number of bytes.
    public let count: Int

    /// Copies `bytes`.
    public convenience init(_ bytes: some Collection<UInt8>) {
        self.init(capacity: bytes.count)
        let buffer = UnsafeMutableRawBufferPointer(start: base, count: count)
        buffer.copyBytes(from: bytes)
    }

    /// Uninitialised storage for `capacity` bytes, for readers that fill it in place.
    package init(capacity: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(capacity, 1), alignment: 16)
        count = capacity
    }

    deinit { base.deallocate() }

    /// The bytes, read-only, for the duration of `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The first `n` bytes (fewer if the input is shorter), for sniffing.
    package func prefix(_ n: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: Swift.min(n, count))
    }
}
