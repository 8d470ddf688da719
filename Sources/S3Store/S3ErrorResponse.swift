/// The `<Error>` document S3 sends with a failed request: `<Code>` says what went wrong
/// (`NoSuchKey`, `SlowDown`, …), `<Message>` says it for people.
///
/// Only these two elements are read. Others (`StringToSign`, `AWSAccessKeyId`, request IDs) are
/// left out of messages on purpose.
struct S3ErrorResponse: Equatable {
    var code: String?
    var message: String?

    /// Reads the two elements from an error body; both nil when it is not S3's XML.
    init(xml: String) {
        code = Self.element("Code", in: xml)
        message = Self.element("Message", in: xml)
    }

    init(code: String?, message: String?) {
        self.code = code
        self.message = message
    }

    /// The text of the first `<name>…</name>`, entities decoded, on one line; nil if absent.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(name)>"),
            let close = xml[open.upperBound...].firstRange(of: "</\(name)>")
        else { return nil }
        let text = decodeEntities(String(xml[open.upperBound..<close.lowerBound]))
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return words.isEmpty ? nil : String(words.prefix(300))
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }
}
