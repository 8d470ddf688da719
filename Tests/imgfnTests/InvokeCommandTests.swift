import Foundation
import ImagePipeline
import ImageService
import Testing

@Suite struct InvokeCommandTests {
    @Test func anS3PutEventOnTheFilesystemStore() throws {
        let bucket = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: bucket) }
        try FileManager.default.createDirectory(atPath: "\(bucket)/uploads", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: CLI.fixtures + "/photos/storm.jpg", toPath: "\(bucket)/uploads/storm 1.jpg")
        let event = try CLI.run([
            "events", "s3-put", "--bucket", "demo", "--key", "uploads/storm 1.jpg", "--size", "695070",
        ])
        #expect(event.status == 0)
        #expect(event.stdoutText.contains(#""key" : "uploads/storm+1.jpg""#))
        try Data(event.stdout).write(to: URL(fileURLWithPath: "\(bucket)/event.json"))

        let first = try CLI.run(["invoke", "--event", "\(bucket)/event.json", "--store", bucket])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            first.stdoutText.hasPrefix(
                "ok       demo/uploads/storm 1.jpg: 10 files, manifest derived/storm 1/manifest.json"))
        #expect(FileManager.default.fileExists(atPath: "\(bucket)/derived/storm 1/w2048.avif"))

        let again = try CLI.run(["invoke", "--event", "\(bucket)/event.json", "--store", bucket, "--json"])
        #expect(again.status == 0)
        let results = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout)) as? [[String: Any]])
        let outcome = results.first?["outcome"] as? [String: Any]
        #expect(
            (outcome?["skipped"] as? [String: Any])?["reason"] as? String
                == "already derived for this version and configuration (derived/storm 1/manifest.json)")
    }

    /// The CLI and the function parse store locations with the same code (ServiceWiring): a
    /// key prefix is not a store in either (the CLI used to keep only the bucket, silently).
    @Test(arguments: ["s3://photos/uploads", "ftp://host/dir", "file://relative/dir"])
    func storeLocationsTheFunctionRefusesAreRefused(_ store: String) throws {
        let result = try CLI.run(["invoke", "--event", CLI.fixtures + "/events/s3-put.json", "--store", store])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--store \"\(store)\""), "\(result.stderr)")
    }

    @Test func permanentFailuresExit65AndBadEventsToo() throws {
        let bucket = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: bucket) }
        let missing = try CLI.run(["invoke", "--event", CLI.fixtures + "/events/eventbridge.json", "--store", bucket])
        #expect(missing.status == 65)
        #expect(
            missing.stdoutText.contains("failed   imgfn-uploads/uploads/2024/red flower+café.jpg: permanent notFound"))
        try "{\"nope\": 1}".write(toFile: "\(bucket)/bad.json", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["invoke", "--event", "\(bucket)/bad.json", "--store", bucket])
        #expect(bad.status == 65)
        #expect(bad.stderr == "imgfn: \(bucket)/bad.json: unknown event shape (keys: nope)\n")
    }

    @Test func everySampleShapeIsDecodable() throws {
        for shape in EventSamples.Shape.allCases {
            let result = try CLI.run(["events", shape.rawValue, "--bucket", "b", "--key", "uploads/x.jpg"])
            #expect(result.status == 0)
            #expect(throws: Never.self) { try EventDecoder.decode(result.stdout) }
        }
        #expect(try CLI.run(["events", "kinesis", "--bucket", "b", "--key", "k"]).status == 64)
    }
}
