import Foundation
import ImagePipeline
import ImageService
import Testing

/// `imgfn backfill` on the filesystem store, as a child process: dry run, derive, the Batch
/// Operations manifest, the summary and exit codes, and a `kill -9` midway.
@Suite struct BackfillCommandTests {
    /// A bucket directory with `files` (key → fixture) copied in.
    func bucket(_ files: [String: String]) throws -> String {
        let root = try CLI.temporaryDirectory()
        for (key, fixture) in files {
            let path = "\(root)/\(key)"
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(CLI.fixtures)/\(fixture)", toPath: path)
        }
        return root
    }

    static let small = #"{"derivatives": [{"name": "w64", "width": 64, "formats": ["jpeg", "webp"]}]}"#

    func json(_ result: CLI.Result) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any], "\(result.stdoutText)")
    }

    @Test func aDryRunListsWhatIsStaleThenARunDerivesItThenNothingIsLeft() throws {
        let root = try bucket([
            "uploads/a b.jpg": "orientation/orientation-6.jpg", "uploads/x/y.webp": "formats/photo.webp",
            "uploads/bad.jpg": "bad/truncated.jpg", "uploads/readme.txt": "README.md",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = root + ".json"
        try Self.small.write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }

        let dry = try CLI.run(["backfill", "--store", root, "--config", config, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdoutText.contains("stale    uploads/a b.jpg: missing"))
        #expect(dry.stdoutText.contains("stale    uploads/x/y.webp: missing"))
        #expect(dry.stdoutText.contains("stale          3 (3 missing)"))
        #expect(!FileManager.default.fileExists(atPath: "\(root)/derived"))

        let run = try CLI.run(["backfill", "--store", root, "--config", config])
        #expect(run.status == 65, "a source failed permanently: \(run.stdoutText) \(run.stderr)")
        #expect(run.stdoutText.contains("failed   \((root as NSString).lastPathComponent)/uploads/bad.jpg: permanent"))
        #expect(run.stdoutText.contains("derived        2"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/derived/a b/w64.webp"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/derived/_failures/bad.json"))

        let settled = try CLI.run(["backfill", "--store", root, "--config", config, "--json"])
        #expect(settled.status == 0, "refused before is not a failure of this run: \(settled.stderr)")
        let summary = try json(settled)
        let tally = try #require(summary["tally"] as? [String: Any])
        #expect(summary["mode"] as? String == "derive")
        #expect(tally["listed"] as? Int == 4 && tally["notInputs"] as? Int == 1)
        #expect(tally["upToDate"] as? Int == 2 && tally["failedBefore"] as? Int == 1)
        #expect(tally["derived"] as? Int == 0 && (tally["stale"] as? [String: Any])?.isEmpty == true)
    }

    @Test func aBatchManifestNamesTheStaleKeysURLEncoded() throws {
        let root = try bucket([
            "uploads/a b+c.jpg": "orientation/orientation-1.jpg", "uploads/é/d.jpg": "orientation/orientation-2.jpg",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let csv = root + ".csv"
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let result = try CLI.run(["backfill", "--store", root, "--batch-manifest", csv, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let name = (root as NSString).lastPathComponent
        #expect(
            try String(contentsOfFile: csv, encoding: .utf8)
                == "\(name),uploads/a%20b%2Bc.jpg\n\(name),uploads/%C3%A9/d.jpg\n")
        #expect(try json(result)["mode"] as? String == "batch-manifest")
        #expect((try json(result)["tally"] as? [String: Any])?["handedOff"] as? Int == 2)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/derived"))
        #expect(!FileManager.default.fileExists(atPath: csv + ".imgfn-partial"), "written beside, then renamed")
    }

    @Test(arguments: [
        (["--dry-run", "--batch-manifest", "x.csv"], "exclude each other"),
        (["--jobs", "0"], "--jobs must be at least 1"),
    ])
    func badOptionsAreUsageErrors(_ extra: [String], _ message: String) throws {
        let result = try CLI.run(["backfill", "--store", "/tmp"] + extra)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func aBucketMustBeNamed() throws {
        let result = try CLI.run(["backfill", "--store", "s3://"])
        #expect(result.status == 64 && result.stderr.contains("s3://BUCKET"), "\(result.stderr)")
    }

    /// Killed with SIGKILL while deriving, then run again: the rerun does only what is left,
    /// every manifest's files exist, and no temporary file shows as an object.
    @Test func aKilledRunIsFinishedByTheNextAndNothingIsDoneTwice() throws {
        var files: [String: String] = [:]
        for index in 0..<6 { files["uploads/p\(index).jpg"] = "photos/storm.jpg" }
        let root = try bucket(files)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["backfill", "--store", root, "--jobs", "2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func manifests() -> Int {
            (0..<6).filter { FileManager.default.fileExists(atPath: "\(root)/derived/p\($0)/manifest.json") }.count
        }
        let deadline = Date().addingTimeInterval(120)
        while manifests() == 0 && process.isRunning && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run ended before it could be killed")
        let done = manifests()
        #expect(done >= 1 && done < 6, "killed midway: \(done) of 6 finished")

        let rerun = try CLI.run(["backfill", "--store", root, "--json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let tally = try #require(try json(rerun)["tally"] as? [String: Any])
        // Finished sets compare as current; one killed between its manifest file and that
        // file's attributes has its manifest written again (and counts as derived).
        let upToDate = try #require(tally["upToDate"] as? Int)
        #expect(upToDate == done || upToDate == done - 1, "\(upToDate) up to date of \(done) finished")
        #expect(tally["derived"] as? Int == 6 - upToDate)
        for index in 0..<6 {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(root)/derived/p\(index)/manifest.json"))
            let manifest = try JSONDecoder().decode(Manifest.self, from: data)
            #expect(manifest.derivatives.count == 10)
            for derivative in manifest.derivatives {
                let size = try FileManager.default.attributesOfItem(atPath: "\(root)/\(derivative.key)")[.size] as? Int
                #expect(size == derivative.bytes, "\(derivative.key)")
            }
        }
        let last = try CLI.run(["backfill", "--store", root, "--json"])
        #expect((try json(last)["tally"] as? [String: Any])?["upToDate"] as? Int == 6)
    }
}
