import Foundation

/// Command line of `imgfn-bench` (run through `make bench` / `make bench-quick`, which build
/// and pass the paths).
struct Options {
    /// The bounded CI run: fewer rounds and iterations, the 24 MP derive only.
    var quick = false
    /// Fail (exit 1) when a figure regresses beyond its tolerance against `baseline`.
    var gate = false
    /// Measure twice more and write each figure's median over the three runs as the new `baseline`.
    var writeBaseline = false
    /// Replace README.md's Performance table (between `<!-- bench:start -->` and `<!-- bench:end -->`).
    var updateReadme = false
    var root = FileManager.default.currentDirectoryPath
    var imgfn = ""
    /// build/lambda/root: the bundle as shipped.
    var bundle = ""
    /// A bootstrap linked with Debian's libvips, for the dynamic-linking comparison.
    var debianBootstrap: String?
    /// Directory with the compiled C tools (`timed-run`, `next-client`).
    var tools = ""
    var results = "Benchmarks/results"
    var baseline = "Benchmarks/baseline.json"
    /// Measure only these units (`cold-init`, `shapes`, `backfill`, `http`, `quality`) and gate
    /// only their keys: for looking at one section's noise without the whole run.
    var only: [String]?

    static let usage = """
        usage: imgfn-bench --imgfn PATH --bundle DIR --tools DIR [--debian-bootstrap PATH] [--root DIR]
                           [--results DIR] [--baseline FILE] [--quick] [--gate] [--write-baseline] [--update-readme]
                           [--only cold-init,shapes,backfill,http,quality]
        """

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        var resultsGiven = false
        func value(_ flag: String) throws -> String {
            guard let value = rest.popFirst() else { throw BenchError("\(flag) needs a value\n\(Self.usage)") }
            return value
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--quick": quick = true
            case "--gate": gate = true
            case "--write-baseline": writeBaseline = true
            case "--update-readme": updateReadme = true
            case "--root": root = try value(argument)
            case "--imgfn": imgfn = try value(argument)
            case "--bundle": bundle = try value(argument)
            case "--debian-bootstrap": debianBootstrap = try value(argument)
            case "--tools": tools = try value(argument)
            case "--results":
                results = try value(argument)
                resultsGiven = true
            case "--baseline": baseline = try value(argument)
            case "--only": only = try value(argument).split(separator: ",").map(String.init)
            default: throw BenchError("unknown argument \(argument)\n\(Self.usage)")
            }
        }
        guard !imgfn.isEmpty, !bundle.isEmpty, !tools.isEmpty else { throw BenchError(Self.usage) }
        if only != nil && (writeBaseline || updateReadme) {
            throw BenchError("--only measures a part: it writes no baseline and no README table")
        }
        // A partial report does not replace the committed full run's.
        if only != nil && !resultsGiven { results = "build/bench-only" }
    }

    /// Rounds and iterations: the quick run stays within a few minutes on 2 cores.
    var resizeRounds: Int { quick ? 5 : 15 }
    var deriveRounds: Int { quick ? 3 : 7 }
    /// The photos of the quality-and-cost section (a 12+ MP and a 24 MP photo in a full run).
    var qualityPhotos: [String] { quick ? ["24mp-baseline"] : ["13mp-progressive", "24mp-baseline"] }
    var qualityRounds: Int { quick ? 3 : 5 }
    /// The cost table's photos and rounds per tool and memory size.
    var costPhotos: [String] { quick ? ["24mp-baseline"] : ["13mp-progressive", "24mp-baseline"] }
    var costRounds: Int { quick ? 1 : 2 }
    var warmResizeIterations: Int { quick ? 30 : 200 }
    var warmDeriveIterations: Int { quick ? 4 : 15 }
    var coldInitRuns: Int { quick ? 20 : 40 }
    /// S3 events handed to one warm `bootstrap` per photo in `derivePhotos`.
    var functionInvocations: Int { quick ? 4 : 8 }
    /// Objects in each bucket of the backfill measurement (the 2 000 in a full run).
    var backfillObjects: Int { quick ? 200 : 2000 }
    /// Seconds of each wrk run of the HTTP measurement.
    var httpSeconds: Int { quick ? 3 : 10 }
    /// Photos for the derivative set (a 24 MP one always: the memory target is set on it).
    var derivePhotos: [String] { quick ? ["24mp-baseline"] : ["20mp-baseline", "24mp-baseline"] }
}
