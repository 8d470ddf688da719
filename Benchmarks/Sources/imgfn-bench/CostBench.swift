import Foundation

/// The cost of the default set per million uploads on Lambda: each tool makes the set with its
/// CPU limited to Lambda's share for a memory size (one vCPU per 1 769 MB) by a cgroup the
/// harness makes, so its wall time is the billed duration; dollars at Lambda's x86 price per
/// GB-second plus the request charge. Ours is `imgfn derive` (the function's core without its
/// Runtime API loop); the peers are one vipsthumbnail per file and a Pillow script making the
/// same files (`Benchmarks/peers/pillow_set.py`, what AWS's tutorial uses).
struct CostResult: Codable {
    struct Row: Codable {
        var photo: String
        var tool: String
        var memoryMB: Int
        var cpus: Double
        /// Medians over the rounds.
        var wallSeconds: Double
        var cpuSeconds: Double
        var peakRSSMiB: Double
        /// nil when the peak does not fit the memory size.
        var dollarsPerMillion: Double?
    }

    /// How the CPU was limited: "cgroup v2 cpu.max", "cgroup v1 cfs quota", or why it was not.
    var limit: String
    var rows: [Row]
}

enum CostBench {
    static let memorySizes = [512, 1024, 1769]
    /// Lambda x86, us-east-1: per GB-second, and per request.
    static let pricePerGBSecond = 0.000_016_666_7
    static let pricePerRequest = 0.000_000_2

    static func dollarsPerMillion(wallSeconds: Double, memoryMB: Int) -> Double {
        1e6 * (wallSeconds * Double(memoryMB) / 1024 * pricePerGBSecond + pricePerRequest)
    }

    static func measure(
        photos: [Photo], root: String, tools: WholeProcess.Tools, scratch: String, rounds: Int
    ) throws -> CostResult {
        var rows: [CostResult.Row] = []
        var limit = "not limited"
        let defaultSet = WholeProcess.DerivativeSetTask.defaultSet
        for photo in photos {
            let input = root + "/" + photo.path
            let dir = scratch + "/cost-\(photo.id)"
            for memory in memorySizes {
                let cpus = min(Double(memory) / 1769, 1)
                let quota = CPUQuota(name: "imgfn-bench-\(getpid())-\(memory)", cpus: cpus)
                limit = quota?.kind ?? "not limited: no writable cgroup cpu controller (figures are unthrottled)"
                defer { quota?.remove() }
                func wrapped(_ argv: [String]) -> [String] { quota?.wrap(argv) ?? argv }
                log("cost: \(photo.id) at \(memory) MB (\(String(format: "%.2f", cpus)) vCPU), \(rounds) rounds")
                var commands: [(tool: String, sets: [[String]])] = [
                    ("imgfn", [wrapped([tools.imgfn, "derive", input, "--out", dir + "/imgfn", "--prefix", ""])]),
                    (
                        "vipsthumbnail",
                        defaultSet.peerCommands(tools.vipsthumbnail, input: input, dir: dir + "/vipsthumbnail").map(
                            wrapped)
                    ),
                ]
                if let python = tools.pillowPython {
                    commands.append(
                        (
                            "pillow",
                            [wrapped([python, root + "/Benchmarks/peers/pillow_set.py", input, dir + "/pillow"])]
                        ))
                }
                for (tool, sets) in commands {
                    var samples: [(wall: Double, cpu: Double, rss: Double)] = []
                    for _ in 0..<rounds {
                        try? FileManager.default.removeItem(atPath: dir + "/" + tool)
                        try FileManager.default.createDirectory(
                            atPath: dir + "/" + tool, withIntermediateDirectories: true)
                        var total: (wall: Double, cpu: Double, rss: Double) = (0, 0, 0)
                        for command in sets {
                            let run = try Spawn.timed(command, launcher: tools.launcher)
                            total = (
                                total.wall + run.ms / 1000, total.cpu + run.cpuMs / 1000, max(total.rss, run.rssMiB)
                            )
                        }
                        samples.append(total)
                    }
                    let wall = median(samples.map(\.wall))
                    let rss = median(samples.map(\.rss))
                    rows.append(
                        .init(
                            photo: photo.id, tool: tool, memoryMB: memory, cpus: cpus, wallSeconds: wall,
                            cpuSeconds: median(samples.map(\.cpu)), peakRSSMiB: rss,
                            dollarsPerMillion: rss * 1.048_576 <= Double(memory)
                                ? dollarsPerMillion(wallSeconds: wall, memoryMB: memory) : nil))
                }
            }
        }
        return CostResult(limit: limit, rows: rows)
    }
}

/// A CPU quota for the commands run under it: a cgroup of its own with `cpus` cores' worth of
/// time per period (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`). Commands join it through a shell
/// that writes its own pid to the group, then execs them. nil when neither hierarchy can be
/// written (no root, no cpu controller).
struct CPUQuota {
    let directory: String
    let kind: String
    private let procs: String

    init?(name: String, cpus: Double) {
        let period = 100_000
        let quota = max(1000, Int(Double(period) * cpus))
        let fm = FileManager.default
        func write(_ text: String, _ path: String) -> Bool {
            (try? text.write(toFile: path, atomically: false, encoding: .utf8)) != nil
        }
        if let controllers = try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8),
            controllers.split(separator: " ").contains(where: { $0.hasPrefix("cpu") })
        {
            _ = write("+cpu", "/sys/fs/cgroup/cgroup.subtree_control")
            let dir = "/sys/fs/cgroup/\(name)"
            if (try? fm.createDirectory(atPath: dir, withIntermediateDirectories: false)) != nil,
                write("\(quota) \(period)", dir + "/cpu.max")
            {
                (directory, kind, procs) = (dir, "cgroup v2 cpu.max", dir + "/cgroup.procs")
                return
            }
            rmdir(dir)
        }
        let dir = "/sys/fs/cgroup/cpu/\(name)"
        if (try? fm.createDirectory(atPath: dir, withIntermediateDirectories: false)) != nil,
            write("\(period)", dir + "/cpu.cfs_period_us"), write("\(quota)", dir + "/cpu.cfs_quota_us")
        {
            (directory, kind, procs) = (dir, "cgroup v1 cpu.cfs_quota_us", dir + "/cgroup.procs")
            return
        }
        rmdir(dir)
        return nil
    }

    /// `argv` run inside the group.
    func wrap(_ argv: [String]) -> [String] {
        ["/bin/sh", "-c", "echo $$ > '\(procs)' && exec \"$@\"", "sh"] + argv
    }

    /// Removes the group (its processes have all exited).
    func remove() { rmdir(directory) }
}
