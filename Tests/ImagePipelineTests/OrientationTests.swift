import ImagePipeline
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
        let (_, reference) = try resized("orientation/orientation-1.jpg", .init(width: 240), encode: .init(format: .png))
        #expect(pixels.meanAbsoluteDifference(reference) < 4)
    }

    /// Guards the test above: the picture is far from symmetric, so an output that missed a
    /// flip or a rotation could not pass the "< 4" comparison.
    @Test func thePictureIsAsymmetric() throws {
        let (_, upright) = try resized("orientation/orientation-1.jpg", .init(width: 240), encode: .init(format: .png))
        var mirrored = upright, flipped = upright
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
