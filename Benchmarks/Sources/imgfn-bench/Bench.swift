import Foundation

/// The measurements of one run, each one a unit the gate can ask for again: cold start, a
/// whole-process task on one photo (peers and floor in the same rounds), the warm function on
/// one photo, a warm in-process task on one photo.
struct Bench {
    let options: Options
    let photos: [Photo]
    let tools: WholeProcess.Tools
    let scratch: String
    var wholeProcess: WholeProcess { WholeProcess(tools: tools, scratch: scratch + "/process") }

    /// The derivative sets measured whole-process, on `options.derivePhotos`.
    var derivativeSets: [WholeProcess.DerivativeSetTask] { [.defaultSet, .web3x2(root: options.root)] }

    /// Every measurement, in the order that keeps them fair: cold start first while this process
    /// is small and the machine quiet, then whole processes and the warm function (child
    /// processes all), then the warm in-process tasks (which grow this process).
    func measureAll(started: String, machine: Machine) throws -> BenchReport {
        let coldInit = try measureColdInit()
        var comparisons: [ProcessComparison] = []
        var floors: [Floor] = []
        for photo in photos {
            let (comparison, floor) = try measureResize(photo)
            comparisons.append(comparison)
            if let floor { floors.append(floor) }
        }
        for set in derivativeSets {
            for photo in photos where options.derivePhotos.contains(photo.id) {
                comparisons.append(try measureDerive(set, photo))
            }
        }
        let quality = try measureQuality()
        let cost = try CostBench.measure(
            photos: photos.filter { options.costPhotos.contains($0.id) }, root: options.root, tools: tools,
            scratch: scratch, rounds: options.costRounds)
        let shapes = try measureShapes()
        let backfill = try measureBackfill()
        let http = try measureHTTP()
        var function: [FunctionResult] = []
        for photo in photos where options.derivePhotos.contains(photo.id) {
            function.append(try measureFunction(photo))
        }
        var warm: [WarmResult] = []
        for photo in photos { warm.append(try measureWarmResize(photo)) }
        for photo in photos where options.derivePhotos.contains(photo.id) {
            log("warm, derive-default: \(photo.id)")
            warm.append(
                try Warm.deriveDefault(
                    photo, root: options.root, iterations: options.warmDeriveIterations,
                    budgetMs: warmBudgetMs * 2))
        }
        var report = BenchReport(
            started: started, mode: options.quick ? "quick" : "full", machine: machine, photos: photos,
            wholeProcess: comparisons, floors: floors, warm: warm, function: function, shapes: shapes,
            coldInit: coldInit,
            backfill: backfill, quality: quality, cost: cost, http: http, ratios: [:], gate: [])
        report.attachWarmFloorRatios()
        return report
    }

    /// Only the named units (`cold-init`, `shapes`, `backfill`, `http`, `quality`), the rest of
    /// the report left empty: `--only`, for reading one section's noise without a whole run.
    func measureOnly(_ units: [String], started: String, machine: Machine) throws -> BenchReport {
        var report = BenchReport(
            started: started, mode: options.quick ? "quick" : "full", machine: machine, photos: photos,
            wholeProcess: [], floors: [], warm: [], coldInit: [], ratios: [:], gate: [])
        for unit in units {
            switch unit {
            case "cold-init": report.coldInit = try measureColdInit()
            case "shapes": report.shapes = try measureShapes()
            case "backfill": report.backfill = try measureBackfill()
            case "http": report.http = try measureHTTP()
            case "quality": report.quality = try measureQuality()
            default: throw BenchError("--only: no unit \(unit) (cold-init, shapes, backfill, http, quality)")
            }
        }
        return report
    }

    /// Measures again what the gate `keys` are computed from, and returns those keys' new values
    /// (a key whose measurement is unknown is left out). A figure that regressed through noise
    /// (a neighbour on a shared machine) rarely does so twice; a real regression does.
    func remeasure(_ keys: [String], in report: BenchReport) throws -> [String: Double] {
        var patched = report
        var done = Set<String>()
        for key in keys {
            guard let unit = Self.unit(of: key, photos: photos), done.insert(unit.id).inserted else { continue }
            switch unit {
            case .coldInit:
                patched.coldInit = try measureColdInit()
            case .shapes:
                patched.shapes = try measureShapes()
            case .backfill:
                patched.backfill = try measureBackfill()
            case .http:
                patched.http = try measureHTTP()
            case .quality:
                patched.quality = try measureQuality()
            case .process("resize-320", let photo):
                let (comparison, floor) = try measureResize(photo)
                patched.wholeProcess.removeAll { $0.task == comparison.task && $0.photo == photo.id }
                patched.wholeProcess.append(comparison)
                patched.floors.removeAll { $0.photo == photo.id }
                if let floor { patched.floors.append(floor) }
            case .process(let task, let photo):
                guard let set = derivativeSets.first(where: { $0.task == task }) else { continue }
                let comparison = try measureDerive(set, photo)
                patched.wholeProcess.removeAll { $0.task == task && $0.photo == photo.id }
                patched.wholeProcess.append(comparison)
            case .function(let photo):
                let result = try measureFunction(photo)
                patched.function.removeAll { $0.photo == photo.id }
                patched.function.append(result)
            case .warmResize(let photo):
                let result = try measureWarmResize(photo)
                patched.warm.removeAll { $0.task == result.task && $0.photo == photo.id }
                patched.warm.append(result)
            }
        }
        patched.attachWarmFloorRatios()
        let ratios = Gate.ratios(of: patched)
        return ratios.filter { keys.contains($0.key) }
    }

    /// What a gate key is measured by.
    enum Unit {
        case coldInit
        case shapes
        case backfill
        case http
        case quality
        case process(task: String, photo: Photo)
        case function(photo: Photo)
        case warmResize(photo: Photo)

        var id: String {
            switch self {
            case .coldInit: "cold-init"
            case .shapes: "shapes"
            case .backfill: "backfill"
            case .http: "http"
            case .quality: "quality"
            case .process(let task, let photo): "process.\(task).\(photo.id)"
            case .function(let photo): "function.derive-default.\(photo.id)"
            case .warmResize(let photo): "warm.resize-320.\(photo.id)"
            }
        }
    }

    /// Keys are `kind.task.photo.figure` (see `Gate.ratios`); photo ids may contain dots.
    static func unit(of key: String, photos: [Photo]) -> Unit? {
        if key.hasPrefix("cold-init.") { return .coldInit }
        if key.hasPrefix("shapes.") { return .shapes }
        if key.hasPrefix("backfill.") { return .backfill }
        if key.hasPrefix("http.") { return .http }
        if key.hasPrefix("quality.") { return .quality }
        let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3,
            let photo = photos.first(where: { parts[2].hasPrefix($0.id + ".") })
        else { return nil }
        switch (parts[0], parts[1]) {
        case ("process", let task): return .process(task: task, photo: photo)
        case ("function", "derive-default"): return .function(photo: photo)
        case ("warm", "resize-320"): return .warmResize(photo: photo)
        default: return nil
        }
    }

    private var warmBudgetMs: Double { options.quick ? 5000 : 20000 }

    private func measureColdInit() throws -> [ColdInitResult] {
        log("cold init: \(options.coldInitRuns) runs per variant")
        return try ColdInit.measure(
            ColdInitSetup(
                bundleRoot: options.bundle, debianBootstrap: options.debianBootstrap,
                cClient: options.tools + "/next-client", photoPath: options.root + "/Fixtures/photos/storm.jpg",
                runs: options.coldInitRuns, scratch: scratch + "/cold"))
    }

    private func measureShapes() throws -> [ShapeResult] {
        log("whole process, derive-default on unusual shapes: \(options.deriveRounds) rounds")
        return try Shapes.measure(
            imgfn: tools.imgfn, launcher: tools.launcher, root: options.root, rounds: options.deriveRounds,
            scratch: scratch)
    }

    private func measureBackfill() throws -> BackfillResult {
        try BackfillBench.measure(
            imgfn: tools.imgfn, launcher: tools.launcher, root: options.root, objects: options.backfillObjects,
            scratch: scratch + "/backfill")
    }

    private func measureHTTP() throws -> HTTPResult {
        try HTTPBench.measure(
            imgfn: tools.imgfn, djpeg: tools.djpeg, tools: options.tools, photos: photos, root: options.root,
            seconds: options.httpSeconds,
            scratch: scratch + "/http")
    }

    private func measureResize(_ photo: Photo) throws -> (ProcessComparison, Floor?) {
        log("whole process, resize-320: \(photo.id), \(options.resizeRounds) rounds")
        return try wholeProcess.resize320(photo, root: options.root, rounds: options.resizeRounds)
    }

    private func measureQuality() throws -> QualityResult {
        try QualityBench.measure(
            photos: photos.filter { options.qualityPhotos.contains($0.id) }, root: options.root, tools: tools,
            scratch: scratch, rounds: options.qualityRounds)
    }

    private func measureDerive(_ set: WholeProcess.DerivativeSetTask, _ photo: Photo) throws -> ProcessComparison {
        log("whole process, \(set.task): \(photo.id), \(options.deriveRounds) rounds")
        return try wholeProcess.derive(set, photo, root: options.root, rounds: options.deriveRounds)
    }

    private func measureFunction(_ photo: Photo) throws -> FunctionResult {
        log("warm function, derive-default: \(photo.id), \(options.functionInvocations) invocations")
        return try WarmFunction.measure(
            bundleRoot: options.bundle, photo: photo, root: options.root, invocations: options.functionInvocations,
            scratch: scratch + "/function")
    }

    /// The warm resize, paired image by image with libjpeg-turbo's floor for a JPEG.
    private func measureWarmResize(_ photo: Photo) throws -> WarmResult {
        log("warm, resize-320: \(photo.id)")
        var runFloor: (@Sendable () throws -> Double)?
        if let commands = try wholeProcess.floorCommands(photo, root: options.root) {
            let launcher = tools.launcher
            runFloor = { try commands.run(launcher: launcher) }
        }
        return try Warm.resize320(
            photo, root: options.root, iterations: options.warmResizeIterations, budgetMs: warmBudgetMs, floor: runFloor
        )
    }
}

extension BenchReport {
    /// Copies each warm resize's paired ratio to its photo's floor row.
    mutating func attachWarmFloorRatios() {
        for index in floors.indices {
            floors[index].oursWarmOverFloor =
                warm.first { $0.task == "resize-320" && $0.photo == floors[index].photo }?
                .oursOverFloor
        }
    }
}
