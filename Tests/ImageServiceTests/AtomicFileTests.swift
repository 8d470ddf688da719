import Foundation
import ImagePipeline
import ImgfnBase
import Testing

@Suite struct AtomicFileTests {
    func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imgfn-atomic-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesAndReplacesLeavingNoTemporaryFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write(Array("first".utf8), to: "\(dir)/out.bin")
        try AtomicFile.write(Array("second".utf8), to: "\(dir)/out.bin")
        #expect(try String(contentsOfFile: "\(dir)/out.bin", encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])
    }

    @Test func failureLeavesNothingBehind() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/taken", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: "\(dir)/taken/child", withIntermediateDirectories: false)
        // Renaming a file over a non-empty directory fails after the temporary file was written.
        let error = #expect(throws: ImgfnError.self) {
            try AtomicFile.write(Array("x".utf8), to: "\(dir)/taken")
        }
        #expect(error?.code == .outputUnwritable)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken"])
    }
}
