import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

@Suite struct PipelineConfigTests {
    func load(_ json: String) throws(ImgfnError) -> Pipeline {
        try Pipeline(json: Array(json.utf8), baseDirectory: Fixtures.root)
    }

    func problems(_ json: String) -> String {
        do {
            _ = try load(json)
            return "(loaded)"
        } catch {
            #expect(error.code == .invalidConfig)
            return error.message
        }
    }

    @Test func emptyDocumentIsTheDefault() throws {
        let pipeline = try load("{}")
        #expect(pipeline.config == PipelineConfig.default)
        #expect(pipeline.config.derivatives.map(\.name) == ["w320", "w640", "w1280", "w2048"])
        #expect(pipeline.config.derivatives[3].formats == [.jpeg, .webp, .avif])
    }

    @Test func everySectionIsRead() throws {
        let pipeline = try load(
            """
            {
              "source": { "prefix": "uploads/", "suffixes": [".JPG", ".png"], "maxPixels": 50000000, "maxBytes": 1000000, "maxFrames": 5 },
              "output": { "bucket": "public", "prefix": "img/", "key": "{prefix}{dir}{stem}-{name}.{ext}",
                          "manifestKey": "{prefix}{dir}{stem}.json", "cacheControl": "public, max-age=60" },
              "derivatives": [
                { "name": "sq", "width": 256, "height": 256, "fit": "cover", "gravity": "attention", "formats": ["webp"],
                  "steps": [{ "op": "sharpen", "sigma": 0.8 }, { "op": "watermark", "image": "colour/bars-alpha.png", "opacity": 0.3 }],
                  "encode": { "webp": { "quality": 60 } } },
                { "name": "big", "width": 1600, "enlarge": true, "background": "#000", "formats": ["jpeg", "avif", "png"] }
              ],
              "encode": { "jpeg": { "quality": 85, "progressive": false, "chromaSubsampling": "4:4:4" },
                          "webp": { "effort": 6, "lossless": false }, "avif": { "quality": 40, "effort": 2 },
                          "png": { "compression": 9, "interlace": false } },
              "metadata": { "keep": ["copyright", "icc"] }
            }
            """)
        let c = pipeline.config
        #expect(c.source.prefix == "uploads/" && c.source.suffixes == [".jpg", ".png"])
        #expect(c.source.limits == DecodeLimits(maxPixels: 50_000_000, maxBytes: 1_000_000, maxFrames: 5))
        #expect(c.output.bucket == "public" && c.output.key == "{prefix}{dir}{stem}-{name}.{ext}")
        #expect(c.derivatives[0].resize == ResizeOptions(width: 256, height: 256, fit: .cover, gravity: .attention))
        #expect(c.derivatives[0].steps.map(\.op) == ["sharpen", "watermark"])
        #expect(c.derivatives[1].resize.enlarge && c.derivatives[1].resize.background == .black)
        #expect(c.metadata == [.copyright, .icc])
        let webp = c.encodeOptions(for: c.derivatives[0], format: .webp)
        #expect(webp.quality == 60 && webp.effort == 6)  // derivative override over format default
        let jpeg = c.encodeOptions(for: c.derivatives[1], format: .jpeg)
        #expect(
            jpeg.quality == 85 && !jpeg.progressive && jpeg.chromaSubsampling == .off
                && jpeg.metadata == [.copyright, .icc])
        #expect(c.encodeOptions(for: c.derivatives[1], format: .png).compression == 9)
    }

    @Test(arguments: [
        (
            #"{"derivatives": [{"name": "a", "width": 0, "formats": ["jpeg"]}]}"#,
            "derivatives[0].width: must be 1…16384, got 0"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 10, "formats": ["jpeg"]}, {"name": "b", "width": 99999, "formats": ["jpeg"]}]}"#,
            "derivatives[1].width: must be 1…16384, got 99999"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 10, "formats": ["gif"]}]}"#,
            "derivatives[0].formats[0]: must be one of"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 10, "formats": ["jpeg"], "colour": "red"}]}"#,
            "derivatives[0].colour: unknown key"
        ),
        (#"{"derivatives": [{"name": "a", "formats": ["jpeg"]}]}"#, "derivatives[0]: needs a width, a height or both"),
        (
            #"{"derivatives": [{"name": "a", "width": 1, "formats": ["jpeg"]}, {"name": "a", "width": 2, "formats": ["png"]}]}"#,
            "derivatives[1].name: \"a\" is used by an earlier derivative"
        ),
        (
            #"{"derivatives": [{"name": "a b", "width": 1, "formats": ["jpeg"]}]}"#,
            "derivatives[0].name: must be 1–64 characters"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 1, "fit": "squash", "formats": ["jpeg"]}]}"#,
            "derivatives[0].fit: must be one of"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 1, "formats": ["jpeg"], "steps": [{"op": "posterize"}]}]}"#,
            "derivatives[0].steps[0].op: unknown step \"posterize\""
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 1, "formats": ["jpeg"], "steps": [{"op": "sharpen", "sigma": 50}]}]}"#,
            "derivatives[0].steps[0].sigma: must be a number 0.1…10"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 1, "formats": ["jpeg"], "steps": [{"op": "blur", "radius": 3}]}]}"#,
            "derivatives[0].steps[0].radius: unknown key"
        ),
        (
            #"{"derivatives": [{"name": "a", "width": 1, "formats": ["jpeg"], "steps": [{"op": "watermark", "image": "nope.png"}]}]}"#,
            "derivatives[0].steps[0].image:"
        ),
        (#"{"derivatives": []}"#, "derivatives: must list at least one derivative"),
        (#"{"encode": {"webp": {"speed": 3}}}"#, "encode.webp.speed: unknown key"),
        (#"{"encode": {"avif": {"effort": 12}}}"#, "encode.avif.effort: must be 0…9, got 12"),
        (#"{"encode": {"png": {"quality": 50}}}"#, "encode.png.quality: unknown key"),
        (#"{"output": {"key": "{prefix}{stem}.{ext}"}}"#, "output.key: must contain {name}"),
        (#"{"output": {"key": "{prefix}{name}.{extension}"}}"#, "output.key: {extension} is not a variable here"),
        (#"{"metadata": {"keep": ["camera"]}}"#, "metadata.keep: \"camera\" is not one of"),
        (#"{"source": {"suffixes": ["jpg"]}}"#, "source.suffixes[0]: must start with \".\""),
        (#"{"sources": {}}"#, "sources: unknown key"),
        (#"{"source": {"maxPixels": "lots"}}"#, "source.maxPixels: must be an integer"),
        (#"{"derivatives": {}}"#, "derivatives: must be an array, not an object"),
        ("[1, 2]", "configuration must be a JSON object, not an array"),
        (#"{"derivatives": [}"#, "configuration is not valid JSON"),
    ])
    func problemsNameTheirJSONPath(_ json: String, _ expected: String) {
        let message = problems(json)
        #expect(message.contains(expected), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func everyProblemIsReportedAtOnce() {
        let message = problems(#"{"derivatives": [{"name": "", "width": -1, "formats": []}], "extra": 1}"#)
        for part in ["derivatives[0].name", "derivatives[0].width", "derivatives[0].formats", "extra: unknown key"] {
            #expect(message.contains(part), "\(message)")
        }
    }

    @Test func configHashIsStableAndChangesWithTheConfig() throws {
        let a = try load(#"{"derivatives": [{"name": "a", "width": 100, "formats": ["jpeg"]}]}"#)
        let again = try load(#"{ "derivatives" : [ { "formats": ["jpeg"], "width": 100, "name": "a" } ] }"#)
        let b = try load(#"{"derivatives": [{"name": "a", "width": 101, "formats": ["jpeg"]}]}"#)
        #expect(a.configHash == again.configHash)
        #expect(a.configHash != b.configHash)
        #expect(a.configHash.count == 16)
    }

    /// The source filter picks uploads, not what a set holds: changing it leaves sets current.
    @Test func configHashLeavesOutTheSourceFilter() throws {
        let derivatives = #""derivatives": [{"name": "a", "width": 100, "formats": ["jpeg"]}]"#
        let a = try load("{\(derivatives)}")
        let filtered = try load(#"{"source": {"prefix": "in/", "suffixes": [".jxl"]}, "# + derivatives + "}")
        let limited = try load(#"{"source": {"maxPixels": 1000}, "# + derivatives + "}")
        #expect(a.configHash == filtered.configHash)
        #expect(a.configHash != limited.configHash)
    }

    @Test func outputKeysExpandTheTemplate() {
        let keys = OutputKeys(
            sourceKey: "uploads/2024/trip/cat.photo.JPG", sourcePrefix: "uploads/", output: OutputConfig())
        #expect(keys.dir == "2024/trip/" && keys.stem == "cat.photo")
        #expect(
            keys.key(name: "w320", format: .webp, width: 320, height: 200) == "derived/2024/trip/cat.photo/w320.webp")
        #expect(keys.manifestKey == "derived/2024/trip/cat.photo/manifest.json")
        let flat = OutputKeys(
            sourceKey: "cat.jpg", sourcePrefix: "uploads/",
            output: OutputConfig(prefix: "", key: "{stem}-{width}x{height}-{name}.{ext}"))
        #expect(flat.key(name: "a", format: .jpeg, width: 3, height: 2) == "cat-3x2-a.jpg")
    }
}
