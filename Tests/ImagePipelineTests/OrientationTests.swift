import Foundation
import ImagePipeline
import ImgfnBase
import TestSupport
import Testing

@Suite struct OrientationTests {
    /// Every fixture stores its pixels transformed and tags EXIF orientation 1–8 so that it
    /// displays as the same upright 480×320 picture.
    @Test(arguments: 1...8)
    func outputIsUpright(_ orientation: Int) throws {
        let fixture = "orientation/orientation-\(orientation).jpg"
        let info = try ImageResizer.info(of: try Fixtures.bytes(fixture))
        #expect(info.orientation == orientation)
        #expect((info.orientedWidth, info.orientedHeight) == (480, 320))
        #expect((info.width, info.height) == (orientation >= 5 ? (320, 480) : (480, 320)))

        let (encoded, pixels) = try resized(fixture, .init(width: 240), encode: .init(format: .png))
        #expect((encoded.width, encoded.height) == (240, 160))
        let (_, reference) = try resized(
            "orientation/orientation-1.jpg", .init(width: 240), encode: .init(format: .png))
        #expect(pixels.meanAbsoluteDifference(reference) < 4)
    }

    /// A set decodes once and turns each derivative upright after its resize: every fit and
    /// gravity, and a resize step after the derivative's own, must see the upright picture.
    @Test(arguments: 2...8)
    func everyFitOfASetIsUpright(_ orientation: Int) throws {
        let pipeline = try Pipeline(
            json: Array(
                #"""
                {"derivatives": [
                  {"name": "step", "width": 300, "formats": ["png"],
                   "steps": [{"op": "resize", "width": 150, "height": 300, "fit": "cover", "gravity": "north"}]},
                  {"name": "cover", "width": 200, "height": 200, "fit": "cover", "gravity": "east", "formats": ["png"]},
                  {"name": "attention", "width": 120, "height": 200, "fit": "cover", "gravity": "attention", "formats": ["png"]},
                  {"name": "contain", "width": 200, "height": 300, "fit": "contain", "formats": ["png"]},
                  {"name": "fill", "width": 200, "height": 300, "fit": "fill", "formats": ["png"]},
                  {"name": "tall", "height": 100, "formats": ["png"]}]}
                """#.utf8))
        let upright = try pipeline.derive(Fixtures.bytes("orientation/orientation-1.jpg"))
        let turned = try pipeline.derive(Fixtures.bytes("orientation/orientation-\(orientation).jpg"))
        #expect(turned.files.count == upright.files.count)
        for (a, b) in zip(upright.files, turned.files) {
            #expect((a.image.width, a.image.height) == (b.image.width, b.image.height), "\(a.name)")
            let pa = try PixelBuffer.decode(SourceBytes(a.image.bytes))
            let pb = try PixelBuffer.decode(SourceBytes(b.image.bytes))
            if (pa.width, pa.height) == (pb.width, pb.height) {
                #expect(pa.meanAbsoluteDifference(pb) < 4, "\(a.name)")
            }
        }
        #expect((turned.source.orientedWidth, turned.source.orientedHeight) == (480, 320))
        // The placeholder too: here made from "tall", the smallest file showing the whole frame.
        let placeholders = try [upright, turned].map { set in
            let base64 = String(set.placeholder.dropFirst("data:image/webp;base64,".count))
            return try PixelBuffer.decode(SourceBytes([UInt8](#require(Data(base64Encoded: base64)))))
        }
        #expect((placeholders[1].width, placeholders[1].height) == (16, 11))
        #expect(placeholders[0].meanAbsoluteDifference(placeholders[1]) < 6)
    }

    /// Every file of a set displays upright, in every format and whatever metadata is kept: no
    /// EXIF orientation on turned pixels (JPEG, PNG, WebP when EXIF is kept), no HEIF irot/imir
    /// transform (AVIF: libvips writes one from the orientation field whatever the policy, and
    /// every AVIF of a sideways photo once displayed turned).
    @Test(arguments: [2, 5, 6, 8], [nil, #"["copyright", "icc", "exif", "gps", "xmp"]"#])
    func everyFileOfASetDisplaysUpright(_ orientation: Int, keep: String?) throws {
        let pipeline = try Pipeline(json: Array((keep.map { #"{"metadata": {"keep": \#($0)}}"# } ?? "{}").utf8))
        let upright = try pipeline.derive(Fixtures.bytes("orientation/orientation-1.jpg"))
        let turned = try pipeline.derive(Fixtures.bytes("orientation/orientation-\(orientation).jpg"))
        #expect(turned.files.count == upright.files.count && turned.files.contains { $0.image.format == .avif })
        for (a, b) in zip(upright.files, turned.files) {
            let label = "\(b.name).\(b.image.format.rawValue)"
            // Decoded as a browser shows it: EXIF orientation and HEIF transforms applied.
            let shown = try PixelBuffer.decode(SourceBytes(b.image.bytes))
            #expect((shown.width, shown.height) == (b.image.width, b.image.height), "\(label) displays turned")
            #expect(try ImageResizer.info(of: SourceBytes(b.image.bytes)).orientation == 1, "\(label)")
            let reference = try PixelBuffer.decode(SourceBytes(a.image.bytes))
            if (shown.width, shown.height) == (reference.width, reference.height) {
                #expect(shown.meanAbsoluteDifference(reference) < 4, "\(label)")
            }
        }
    }

    /// Guards the test above: the picture is far from symmetric, so an output that missed a
    /// flip or a rotation could not pass the "< 4" comparison.
    @Test func thePictureIsAsymmetric() throws {
        let (_, upright) = try resized("orientation/orientation-1.jpg", .init(width: 240), encode: .init(format: .png))
        var mirrored = upright
        var flipped = upright
        for y in 0..<upright.height {
            for x in 0..<upright.width {
                for b in 0..<upright.bands {
                    mirrored.pixels[(y * upright.width + x) * upright.bands + b] = upright[upright.width - 1 - x, y, b]
                    flipped.pixels[(y * upright.width + x) * upright.bands + b] = upright[x, upright.height - 1 - y, b]
                }
            }
        }
        #expect(upright.meanAbsoluteDifference(mirrored) > 15)
        #expect(upright.meanAbsoluteDifference(flipped) > 15)
    }
}
