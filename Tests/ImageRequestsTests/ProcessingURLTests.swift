import ImagePipeline
import ImageRequests
import Testing

/// Reading imgproxy's processing URLs: every supported option, both source forms, and the
/// refusals (with their statuses).
@Suite struct ProcessingURLTests {
    let presets = PipelineConfig.default.derivatives

    func parse(_ path: String) throws -> ProcessingURL {
        try ProcessingURL.parse(path, presets: presets, maxDimension: 8192)
    }

    func problem(_ path: String) -> ProcessingURL.Problem? {
        do {
            _ = try ProcessingURL.parse(path, presets: presets, maxDimension: 8192)
            return nil
        } catch {
            return error
        }
    }

    @Test func plainSourceWithExtension() throws {
        let url = try parse("/sig/rs:fill:300:400:0/g:sm/plain/local:///uploads/a%20b.jpg@webp")
        #expect(url.signature == "sig")
        #expect(url.signedPath == "/rs:fill:300:400:0/g:sm/plain/local:///uploads/a%20b.jpg@webp")
        #expect(url.source == .local(key: "uploads/a b.jpg"))
        #expect(url.options.format == .webp)
        let resize = url.options.resizeOptions(sourceWidth: 4000, sourceHeight: 3000)
        #expect(resize == ResizeOptions(width: 300, height: 400, fit: .cover, gravity: .attention))
    }

    @Test func base64SourceSplitBySlashes() throws {
        // The documentation's example path, with an s3:// source instead of a web URL.
        let encoded = Base64URL.encode(Array("s3://photos/uploads/curiosity.jpg".utf8))
        let split = stride(from: 0, to: encoded.count, by: 16).map {
            String(Array(encoded)[$0..<min($0 + 16, encoded.count)])
        }.joined(separator: "/")
        let url = try parse("/sig/rs:fit:300:400/\(split).png")
        #expect(url.source == .s3(bucket: "photos", key: "uploads/curiosity.jpg"))
        #expect(url.options.format == .png)
        #expect(url.options.resizeOptions(sourceWidth: 10, sourceHeight: 10).fit == .inside)
    }

    @Test func everyOption() throws {
        var o = try parse("/s/w:120/h:80/rt:force/el:1/q:55/f:avif/bg:10:20:30/plain/local:///k").options
        #expect(
            (o.width, o.height, o.resizingType, o.enlarge, o.quality, o.format) == (120, 80, .force, true, 55, .avif))
        #expect(o.background == RGBColour(red: 10, green: 20, blue: 30))
        #expect(o.resizeOptions(sourceWidth: 10, sourceHeight: 10).fit == .fill)

        o = try parse("/s/width:120/height:80/resizing_type:fill-down/enlarge:t/quality:0/format:jpg/plain/local:///k")
            .options
        #expect((o.width, o.height, o.resizingType, o.quality, o.format) == (120, 80, .fillDown, nil, .jpeg))
        // fill-down never enlarges.
        #expect(o.resizeOptions(sourceWidth: 10, sourceHeight: 10).enlarge == false)

        o = try parse("/s/s:640:0:0:0/ext:webp/plain/local:///k").options
        #expect((o.width, o.height, o.format) == (640, 0, .webp))
        #expect(o.resizeOptions(sourceWidth: 10, sourceHeight: 10) == ResizeOptions(width: 640))

        o = try parse("/s/rs:fit:300:300:0:1/ex:1:so/bg:ff8800/plain/local:///k").options
        let resize = o.resizeOptions(sourceWidth: 10, sourceHeight: 10)
        #expect((resize.fit, resize.gravity) == (.contain, .south))
        #expect(resize.background == RGBColour(red: 255, green: 136, blue: 0))

        for (code, gravity) in [
            ("no", Gravity.north), ("so", .south), ("ea", .east), ("we", .west), ("noea", .northeast),
            ("nowe", .northwest), ("soea", .southeast), ("sowe", .southwest), ("ce", .centre), ("sm", .attention),
        ] {
            o = try parse("/s/rs:fill:100:100/g:\(code)/plain/local:///k").options
            #expect(o.resizeOptions(sourceWidth: 10, sourceHeight: 10).gravity == gravity, "g:\(code)")
        }
        // Offsets of zero are accepted (builders write them).
        #expect(try parse("/s/g:no:0:0/plain/local:///k").options.gravity == .north)

        // A later option overrides an earlier one; the extension overrides f:.
        o = try parse("/s/w:100/w:200/f:png/plain/local:///k@webp").options
        #expect((o.width, o.format) == (200, .webp))
    }

    @Test func fillDownKeepsTheBoxShape() throws {
        let o = try parse("/s/rs:fill-down:300:200/plain/local:///k").options
        // Large enough: as fill.
        #expect(
            o.resizeOptions(sourceWidth: 4000, sourceHeight: 3000)
                == ResizeOptions(width: 300, height: 200, fit: .cover))
        // Too small: the largest 3:2 box it fills, never enlarged.
        #expect(
            o.resizeOptions(sourceWidth: 100, sourceHeight: 100) == ResizeOptions(width: 100, height: 67, fit: .cover))
    }

    @Test func autoChoosesByOrientation() throws {
        let o = try parse("/s/rs:auto:300:200/plain/local:///k").options
        #expect(o.resizeOptions(sourceWidth: 4000, sourceHeight: 3000).fit == .cover)
        #expect(o.resizeOptions(sourceWidth: 3000, sourceHeight: 4000).fit == .inside)
    }

    @Test func zeroSizeKeepsTheSourceSize() throws {
        let o = try parse("/s/rs:fit:0:0:1/plain/local:///k").options
        let resize = o.resizeOptions(sourceWidth: 10, sourceHeight: 10)
        #expect(resize.fit == .inside && !resize.enlarge && resize.width == ResizeOptions.maxDimension)
    }

    @Test func presetsAreTheConfigurationsDerivatives() throws {
        let o = try parse("/s/pr:w640/plain/local:///k").options
        #expect(o.presets == ["w640"])
        #expect(o.resizeOptions(sourceWidth: 4000, sourceHeight: 3000) == ResizeOptions(width: 640))
        // Options after the preset override it.
        #expect(try parse("/s/pr:w640/w:100/plain/local:///k").options.width == 100)
        #expect(problem("/s/pr:nope/plain/local:///k")?.status == 400)
    }

    @Test func canonicalFormIgnoresSpelling() throws {
        let a = try parse("/s/rs:fit:300:200/plain/local:///k").options
        let b = try parse("/s/w:300/height:200/rt:fit/plain/local:///k").options
        #expect(a.canonical == b.canonical)
        #expect(a.canonical != (try parse("/s/rs:fit:300:201/plain/local:///k").options.canonical))
    }

    @Test func refusals() {
        // 400: options the server cannot do, or values out of range, each saying which.
        for path in [
            "/s/nope:1/plain/local:///k", "/s/w:abc/plain/local:///k", "/s/w:9000/plain/local:///k",
            "/s/q:101/plain/local:///k", "/s/rt:zoom/plain/local:///k", "/s/g:fp:0.5:0.5/plain/local:///k",
            "/s/g:no:10:0/plain/local:///k", "/s/el:maybe/plain/local:///k", "/s/f:bmp/plain/local:///k",
            "/s/w:100/plain/local:///k@gif", "/s/w:100/enc/abcdef", "/s/w:100/plain/ftp-less-text",
            "/s/w:100", "/s/w:100/!!notbase64!!.png", "/s/bg:10:20/plain/local:///k",
            "/s/rs:fill:300:300:0:1/plain/local:///k", "/s/rt:force/ex:1/plain/local:///k",
            "/s/dpr:0/plain/local:///k", "/s/dpr:-1/plain/local:///k", "/s/dpr:x/plain/local:///k",
            "/s/dpr:9/plain/local:///k", "/s/w:5000/dpr:2/plain/local:///k", "/s/dpr:2/h:4097/plain/local:///k",
            "/s/z:1:2/plain/local:///k", "/s/z:0/plain/local:///k", "/s/bl:200/plain/local:///k",
            "/s/sh:20/plain/local:///k", "/s/bl:0.01/plain/local:///k", "/s/ar:0/plain/local:///k",
            "/s/exp:soon/plain/local:///k", "/s/sm:maybe/plain/local:///k", "/s/fn:a%2Fb/plain/local:///k",
            "/s/fn:\(Base64URL.encode(Array("a/b".utf8))):1/plain/local:///k", "/s/fn:/plain/local:///k",
        ] {
            #expect(problem(path)?.status == 400, "\(path): \(String(describing: problem(path)))")
        }
        #expect(problem("/s/w:9000/plain/local:///k")?.reason.contains("8192") == true)
        // 403: sources that are URLs to fetch (no SSRF), in either form.
        for source in [
            "plain/http://169.254.169.254/latest/meta-data", "plain/https://example.com/a.jpg",
            "plain/file:///etc/passwd", Base64URL.encode(Array("http://127.0.0.1:9000/x".utf8)) + ".jpg",
        ] {
            #expect(problem("/s/w:100/\(source)")?.status == 403, "\(source)")
        }
        #expect(problem("/onlysignature")?.status == 404)
    }

    /// The options imgproxy URL builders add beside the size: dpr and zoom scale the request,
    /// blur and sharpen become steps, metadata flags change the configuration's policy, and
    /// cachebuster, expiry and file name change nothing in the bytes (so not the canonical form).
    @Test func retinaFiltersMetadataAndFileOptions() throws {
        var o = try parse("/s/w:300/h:200/dpr:2/plain/local:///k").options
        #expect(o.resizeOptions(sourceWidth: 4000, sourceHeight: 3000) == ResizeOptions(width: 600, height: 400))
        o = try parse("/s/rs:fill:100:100/z:1.5/dpr:2/plain/local:///k").options
        #expect(
            o.resizeOptions(sourceWidth: 4000, sourceHeight: 3000)
                == ResizeOptions(width: 300, height: 300, fit: .cover))
        // Neither side given: the source's size scaled, down freely, up only with el:1.
        o = try parse("/s/z:0.5/plain/local:///k").options
        #expect(o.resizeOptions(sourceWidth: 4000, sourceHeight: 3000) == ResizeOptions(width: 2000, height: 1500))
        o = try parse("/s/dpr:2/plain/local:///k").options
        #expect(o.resizeOptions(sourceWidth: 400, sourceHeight: 300).width == ResizeOptions.maxDimension)
        o = try parse("/s/dpr:2/el:1/plain/local:///k").options
        #expect(
            o.resizeOptions(sourceWidth: 400, sourceHeight: 300)
                == ResizeOptions(width: 800, height: 600, enlarge: true))

        o = try parse("/s/w:300/bl:4/sh:0.7/plain/local:///k").options
        #expect(o.steps.map { type(of: $0).op } == ["blur", "sharpen"])
        #expect(try parse("/s/w:300/blur:0/plain/local:///k").options.steps.isEmpty)

        let plain = try parse("/s/w:300/plain/local:///k").options.canonical
        for same in ["cb:v2", "cachebuster:2024-01-01", "exp:4102444800", "fn:a", "att:1", "ar:1"] {
            #expect(try parse("/s/w:300/\(same)/plain/local:///k").options.canonical == plain, "\(same)")
        }
        for different in ["dpr:2", "z:2", "bl:1", "sh:1", "sm:1", "kcr:0", "scp:1"] {
            #expect(try parse("/s/w:300/\(different)/plain/local:///k").options.canonical != plain, "\(different)")
        }
        #expect(
            try parse("/s/w:300/dpr:2/plain/local:///k").options.canonical
                == (try parse("/s/w:300/z:2/plain/local:///k").options.canonical))
        #expect(try parse("/s/exp:1700000000/plain/local:///k").options.expires == 1_700_000_000)
    }

    @Test func metadataFlagsChangeThePolicy() throws {
        let configured: MetadataPolicy = [.copyright]
        func policy(_ options: String) throws -> MetadataPolicy {
            try parse("/s/\(options)/plain/local:///k").options.metadata(from: configured)
        }
        #expect(try policy("w:1") == [.copyright])
        #expect(try policy("sm:1") == [.copyright])
        #expect(try policy("sm:0") == [.copyright, .exif, .gps, .xmp])
        #expect(try policy("sm:1/kcr:0") == [])
        #expect(try policy("scp:0") == [.copyright, .icc])
        #expect(try parse("/s/scp:1/plain/local:///k").options.metadata(from: .all) == [.copyright, .exif, .gps, .xmp])
    }

    @Test func contentDispositionNamesTheFile() throws {
        func disposition(_ options: String, _ format: OutputFormat = .webp) throws -> String? {
            try parse("/s/\(options)/plain/local:///k").options.contentDisposition(
                sourceKey: "uploads/2024/IMG_0001.HEIC", format: format)
        }
        #expect(try disposition("w:1") == nil)
        #expect(
            try disposition("att:1", .jpeg) == #"attachment; filename="IMG_0001.jpg"; filename*=UTF-8''IMG_0001.jpg"#)
        #expect(
            try disposition("fn:my%20photo") == #"inline; filename="my photo.webp"; filename*=UTF-8''my%20photo.webp"#)
        let encoded = Base64URL.encode(Array("café \"1\"".utf8))
        #expect(
            try disposition("fn:\(encoded):1/att:t")
                == #"attachment; filename="caf_ _1_.webp"; filename*=UTF-8''caf%C3%A9%20%221%22.webp"#)
    }

    @Test func presetURLs() throws {
        let derivatives = presets
        var url = try #require(try PresetURL.parse("/w320/uploads/2024/a%20b.jpg", derivatives: derivatives))
        #expect((url.derivative.name, url.key, url.format) == ("w320", "uploads/2024/a b.jpg", nil))
        url = try #require(try PresetURL.parse("/w320/uploads/a.jpg.webp", derivatives: derivatives))
        #expect((url.key, url.format) == ("uploads/a.jpg", .webp))
        // AVIF is not made at 320: the extension is then part of the key.
        url = try #require(try PresetURL.parse("/w320/uploads/a.jpg.avif", derivatives: derivatives))
        #expect((url.key, url.format) == ("uploads/a.jpg.avif", nil))
        // A key with one extension keeps it (the format is negotiated).
        url = try #require(try PresetURL.parse("/w1280/uploads/a.webp", derivatives: derivatives))
        #expect((url.key, url.format) == ("uploads/a.webp", nil))
        #expect(try PresetURL.parse("/sig/rs:fit:1/plain/local:///k", derivatives: derivatives) == nil)
    }

    @Test func acceptIsNormalised() {
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
        #expect(AcceptedFormat(accept: chrome) == .avif)
        #expect(AcceptedFormat(accept: "image/webp,*/*") == .webp)
        #expect(AcceptedFormat(accept: "image/avif;q=0, image/webp") == .webp)
        #expect(AcceptedFormat(accept: "image/*,*/*;q=0.8") == .original)
        #expect(AcceptedFormat(accept: nil) == .original)
        #expect(AcceptedFormat.avif.choose(among: [.jpeg, .webp]) == .webp)
        #expect(AcceptedFormat.original.choose(among: [.webp, .jpeg]) == .jpeg)
        #expect(AcceptedFormat.original.choose(forInput: .png, hasAlpha: false) == .png)
        #expect(AcceptedFormat.original.choose(forInput: .webp, hasAlpha: false) == .jpeg)
        #expect(AcceptedFormat.original.choose(forInput: .webp, hasAlpha: true) == .png)
        #expect(AcceptedFormat.original.choose(forInput: .heic, hasAlpha: false) == .jpeg)
    }
}
