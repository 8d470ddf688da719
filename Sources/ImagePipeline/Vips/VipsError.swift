import CVips

/// Reads libvips' error buffer at the failure site.
enum VipsError {
    /// Copies and clears libvips' error buffer, as one line (`noReason` when empty: some
    /// libvips builds fail an operation without a message, and a report must still say why).
    ///
    /// Clearing matters: the buffer is process-wide, so a message left behind would be
    /// prefixed to the next, unrelated failure.
    static func take() -> String {
        guard let raw = vips_error_buffer_copy() else { return noReason }
        defer { g_free(raw) }
        let message = String(cString: raw)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingSpaces() }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
        return message.isEmpty ? noReason : message
    }

    static let noReason = "libvips failed without giving a reason"
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
