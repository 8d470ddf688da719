import ImagePipeline
import ImgfnBase
import Testing

@testable import S3Store

@Suite struct S3AttemptFailureTests {
    enum Kind: Equatable {
        case transient
        case permanent(ImgfnError.Code)
    }

    static func kind(_ status: Int, _ code: String?) -> Kind {
        switch S3AttemptFailure.forResponse(
            status: status, error: S3ErrorResponse(code: code, message: "m"), what: "GET s3://b/k",
            permanentCode: .inputUnreadable)
        {
        case .transient: .transient
        case .permanent(let error): .permanent(error.code)
        }
    }

    @Test(
        arguments: [
            (404, "NoSuchKey", Kind.permanent(.notFound)), (404, "NoSuchBucket", .permanent(.notFound)),
            (404, nil, .permanent(.notFound)), (403, "AccessDenied", .permanent(.accessDenied)),
            (403, "InvalidAccessKeyId", .permanent(.accessDenied)),
            (403, "SignatureDoesNotMatch", .permanent(.accessDenied)),
            (400, "ExpiredToken", .permanent(.accessDenied)), (403, nil, .permanent(.accessDenied)),
            (503, "SlowDown", .transient), (500, "InternalError", .transient), (503, nil, .transient),
            (502, nil, .transient), (429, nil, .transient), (400, "RequestTimeout", .transient),
            (200, "InternalError", .transient), (501, "NotImplemented", .permanent(.inputUnreadable)),
            (400, "InvalidArgument", .permanent(.inputUnreadable)),
            (409, "OperationAborted", .permanent(.inputUnreadable)),
            (301, "PermanentRedirect", .permanent(.inputUnreadable)), (412, nil, .permanent(.inputUnreadable)),
        ] as [(Int, String?, Kind)])
    func classification(_ status: Int, _ code: String?, _ expected: Kind) {
        #expect(Self.kind(status, code) == expected)
    }

    @Test func messagesNameTheRequestTheCodeAndTheRegion() {
        guard
            case .permanent(let error) = S3AttemptFailure.forResponse(
                status: 301, error: S3ErrorResponse(code: "PermanentRedirect", message: "Use the right endpoint."),
                what: "PUT s3://b/k.jpg", permanentCode: .outputUnwritable, bucketRegion: "eu-west-1")
        else {
            Issue.record("expected a permanent failure")
            return
        }
        #expect(error.code == .outputUnwritable)
        #expect(
            error.message
                == "PUT s3://b/k.jpg: HTTP 301 PermanentRedirect: Use the right endpoint. (the bucket is in eu-west-1)")
    }

    @Test func errorDocumentsAreRead() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match
              the signature you provided. &lt;Check&gt; your key &amp; signing method.</Message>
            <AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 …</StringToSign></Error>
            """
        let error = S3ErrorResponse(xml: xml)
        #expect(error.code == "SignatureDoesNotMatch")
        #expect(
            error.message
                == "The request signature we calculated does not match the signature you provided."
                + " <Check> your key & signing method.")
        #expect(S3ErrorResponse(xml: "<html>Bad Gateway</html>") == S3ErrorResponse(code: nil, message: nil))
        #expect(S3ErrorResponse(xml: "") == S3ErrorResponse(code: nil, message: nil))
    }

    @Test func metadataValuesOutsidePrintableASCIIAreRFC2047Encoded() {
        #expect(MetadataEncoding.encode("plain value") == "plain value")
        #expect(MetadataEncoding.encode("café") == "=?UTF-8?B?Y2Fmw6k=?=")
        #expect(MetadataEncoding.decode("=?UTF-8?B?Y2Fmw6k=?=") == "café")
        #expect(MetadataEncoding.decode("=?utf-8?Q?caf=C3=A9_au_lait?=") == "café au lait")
        #expect(MetadataEncoding.decode("=?UTF-8?B?5pel?= =?UTF-8?B?5pys?=") == "日本")
        #expect(MetadataEncoding.decode("=? not encoded") == "=? not encoded")
        for value in ["line\nbreak", "tab\there", "日本/写真.jpg", "=?looks encoded?="] {
            #expect(MetadataEncoding.decode(MetadataEncoding.encode(value)) == value)
        }
    }
}
