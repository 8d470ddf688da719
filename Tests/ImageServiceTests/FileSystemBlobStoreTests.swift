import Foundation
import ImagePipeline
import ImageService
import ImgfnBase
import TestSupport
import Testing

@Suite struct FileSystemBlobStoreTests {
    @Test func putWritesTheObjectAndItsAttributesApart() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-fs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = FileSystemBlobStore(root: root)
        let attributes = BlobAttributes(
            contentType: "image/webp", cacheControl: "public, max-age=60", metadata: ["source-key": "a b+c.jpg"])
        try await store.put("deep/path/with space/x.webp", bytes: [1, 2, 3], attributes: attributes)
        #expect(FileManager.default.contents(atPath: "\(root)/deep/path/with space/x.webp") == Data([1, 2, 3]))
        #expect(try store.attributes(of: "deep/path/with space/x.webp") == attributes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == [".imgfn-attributes", "deep"])
    }

    @Test(arguments: [
        "../escape.jpg", "/abs.jpg", "a//b.jpg", "a/./b.jpg", "a/../../b.jpg", "", "dir/", ".imgfn-attributes/x.json",
    ])
    func keysThatCouldEscapeAreRefused(_ key: String) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-fs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let error = await #expect(throws: ImgfnError.self) {
            try await FileSystemBlobStore(root: root).put(
                key, bytes: [1], attributes: BlobAttributes(contentType: "x/y"))
        }
        #expect(error?.code == .outputUnwritable)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/../escape.jpg"))
    }

    @Test func aSetIsStoredWithItsManifestLast() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-fs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pipeline = try Pipeline(.default)
        let set = try pipeline.derive(try Fixtures.bytes("formats/progressive.jpg"))
        let recorder = RecordingStore(inner: FileSystemBlobStore(root: root))
        let manifest = try await set.store(
            in: recorder, sourceKey: "albums/2024/progressive.jpg", etag: "\"abc\"", pipeline: pipeline)
        let keys = recorder.keys.withLock { $0 }
        #expect(keys.last == "derived/albums/2024/progressive/manifest.json")
        #expect(keys.count == 11)
        #expect(manifest.derivatives.map(\.key).contains("derived/albums/2024/progressive/w640.webp"))
        let source = manifest.source
        #expect(
            source.key == "albums/2024/progressive.jpg" && source.bytes == set.source.bytes && source.etag == "\"abc\"")
        #expect(source.format == .jpeg && source.width == 1200 && source.height == 800 && source.versionId == nil)
        #expect(manifest.configHash == pipeline.configHash)
        let decoded = try JSONDecoder().decode(
            Manifest.self,
            from: Data(contentsOf: URL(fileURLWithPath: "\(root)/derived/albums/2024/progressive/manifest.json")))
        #expect(decoded == manifest)
        let attributes = try #require(
            try FileSystemBlobStore(root: root).attributes(of: "derived/albums/2024/progressive/w320.jpg"))
        #expect(attributes.contentType == "image/jpeg")
        #expect(attributes.cacheControl == "public, max-age=31536000, immutable")
        #expect(
            attributes.metadata == [
                "derived-by": "imgfn", "source-key": "albums/2024/progressive.jpg", "source-etag": "\"abc\"",
                "config-hash": pipeline.configHash,
            ])
        for d in manifest.derivatives {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(d.key)"))
        }
    }
}
