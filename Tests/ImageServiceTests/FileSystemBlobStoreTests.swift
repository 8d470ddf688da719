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
        // 1200 px wide: w2048 is the w1280 image, so its three files are w1280's (listed, not stored again).
        #expect(keys.count == 8)
        #expect(manifest.derivatives.count == 10)
        #expect(manifest.derivatives.map(\.key).contains("derived/albums/2024/progressive/w640.webp"))
        #expect(
            manifest.derivatives.filter { $0.name == "w2048" }.map(\.key) == [
                "derived/albums/2024/progressive/w1280.jpg", "derived/albums/2024/progressive/w1280.webp",
                "derived/albums/2024/progressive/w1280.avif",
            ])
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

@Suite struct FileSystemBlobStoreListingTests {
    func store(with keys: [String]) async throws -> (FileSystemBlobStore, String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-ls-\(UUID().uuidString)").path
        let store = FileSystemBlobStore(root: root)
        for key in keys {
            try await store.put(key, bytes: Array(key.utf8), attributes: BlobAttributes(contentType: "x/y"))
        }
        return (store, root)
    }

    /// Everything below `prefix`, a page of `limit` at a time.
    func listAll(_ store: FileSystemBlobStore, prefix: String, limit: Int) async throws -> (keys: [String], pages: Int)
    {
        var keys: [String] = []
        var pages = 0
        try await store.forEachPage(prefix: prefix, pageSize: limit) { page in
            pages += 1
            keys += page.objects.map(\.key)
            return true
        }
        return (keys, pages)
    }

    @Test func keysComeInS3OrderPageByPage() async throws {
        // "a-b" sorts before "a/…" in S3 (0x2D < 0x2F) although the directory "a" sorts first by name.
        let keys = ["a/x.jpg", "a-b.jpg", "a/y/z.jpg", "b.jpg", "a b.jpg", "é/1.jpg", "A.jpg", "a/y.jpg"]
        let (store, root) = try await store(with: keys)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let expected = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for limit in [1, 2, 3, 1000] {
            let (listed, pages) = try await listAll(store, prefix: "", limit: limit)
            #expect(listed == expected, "page size \(limit)")
            // Full pages, and at most one empty last page (the walk cannot always tell that
            // nothing is left).
            let full = (expected.count + limit - 1) / limit
            #expect(pages == full || pages == full + 1, "page size \(limit): \(pages) pages")
        }
        let page = try await store.list(prefix: "", continuation: nil, limit: 1000)
        #expect(page.continuation == nil)
        #expect(page.objects.first { $0.key == "b.jpg" }?.size == 5)
        #expect(page.objects.allSatisfy { $0.etag != nil })
    }

    @Test func aPrefixCanEndInsideANameAndTheHiddenTreesAreNotListed() async throws {
        let (store, root) = try await store(with: ["up/2024/a.jpg", "up/2024b.jpg", "up/2025/c.jpg", "other/d.jpg"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        // A temporary file of an interrupted write is not an object.
        FileManager.default.createFile(atPath: "\(root)/up/.x.jpg.imgfn-1-2.tmp", contents: Data([1]))
        #expect(try await listAll(store, prefix: "up/2024", limit: 1).keys == ["up/2024/a.jpg", "up/2024b.jpg"])
        #expect(
            try await listAll(store, prefix: "up/", limit: 10).keys == [
                "up/2024/a.jpg", "up/2024b.jpg", "up/2025/c.jpg",
            ])
        #expect(try await listAll(store, prefix: "", limit: 10).keys.count == 4)
        #expect(try await listAll(store, prefix: "nothing/", limit: 10).keys == [])
        let missing = FileSystemBlobStore(root: "\(root)/not-there")
        #expect(
            try await missing.list(prefix: "", continuation: nil, limit: 5) == ListPage(objects: [], continuation: nil))
    }

    @Test func deleteRemovesTheObjectItsAttributesAndEmptyFoldersAndMayBeRepeated() async throws {
        let (store, root) = try await store(with: ["d/e/f.jpg", "d/g.jpg"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await store.delete("d/e/f.jpg")
        try await store.delete("d/e/f.jpg")
        try await store.delete("never/was.jpg")
        #expect(try await store.head("d/e/f.jpg") == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/d/e"))
        #expect(!FileManager.default.fileExists(atPath: "\(root)/.imgfn-attributes/d/e"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/d/g.jpg"))
        #expect(try store.attributes(of: "d/g.jpg") != nil)
        await #expect(throws: ImgfnError.self) { try await store.delete("../d/g.jpg") }
    }
}
