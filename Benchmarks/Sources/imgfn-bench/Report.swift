import Foundation

/// Renders a `BenchReport` for people: `latest.md` (GitHub-flavoured Markdown tables, also pasted
/// into the README) and `latest.svg` (a bar chart of whole-process latency).
enum Report {
    /// GitHub-flavoured Markdown: a title with the mode and date, a line describing the machine
    /// and every tool's version, then one table per non-empty section: whole process, decode
    /// floor, warm in-process, the warm function, cold start and the gate.
    static func markdown(_ report: BenchReport) -> String {
        let m = report.machine
        var blocks = [
            "## imgfn benchmarks: \(report.mode) run, \(displayDate(report.started))",
            "**Machine:** \(m.cpu), \(m.cores) cores, \(fixed(m.memoryGiB, 1)) GiB · \(m.os) · Linux \(m.kernel) · "
                + "our libvips \(m.ourLibvips)"
                + (m.peers.isEmpty
                    ? ""
                    : "  \n**Peers:** "
                        + m.peers.sorted { $0.key < $1.key }
                        .map { "\($0.key): \($0.value)" }.joined(separator: " · ")),
        ]
        blocks += targetsSection(report)
        blocks += wholeProcessSection(report)
        blocks += floorSection(report)
        blocks += warmSection(report)
        blocks += functionSection(report)
        blocks += qualitySection(report)
        blocks += costSection(report)
        blocks += shapesSection(report)
        blocks += backfillSection(report)
        blocks += httpSection(report)
        blocks += coldInitSection(report)
        blocks += gateSection(report)
        return blocks.joined(separator: "\n\n") + "\n"
    }

    /// A self-contained SVG (900 px wide): one group of horizontal bars per whole-process
    /// comparison, one bar per tool (imgfn first, then the peers) on a logarithmic millisecond
    /// axis, each labelled with its median and, for peers, the imgfn ÷ peer ratio.
    static func svg(_ report: BenchReport) -> String {
        let tools = ["imgfn"] + peerTools(report.wholeProcess)
        let colours = Dictionary(uniqueKeysWithValues: tools.enumerated().map { ($1, palette[$0 % palette.count]) })
        let axis = LogAxis(values: report.wholeProcess.flatMap { [$0.ours.medianMs] + $0.peers.map(\.timing.medianMs) })
        let m = report.machine
        let title = "imgfn whole-process latency, \(displayDate(report.started))"

        let width = 900.0
        let left = 20.0
        let barX = 130.0
        let barWidth = 620.0
        let barHeight = 16.0
        let barGap = 4.0
        let groupHeader = 24.0
        let groupGap = 18.0
        var body = [
            text(title, x: left, y: 30, size: 18, bold: true),
            text(
                "\(m.cpu) · \(m.cores) cores · \(fixed(m.memoryGiB, 1)) GiB · \(m.os) · \(report.mode) run",
                x: left, y: 52, fill: "#444"),
            text(
                "Median ms per image, process start-up included (shorter is faster), log scale; "
                    + "× = imgfn ÷ that tool, round by round.", x: left, y: 70, fill: "#666"),
        ]
        var legendX = left
        for tool in tools {
            body.append(rect(x: legendX, y: 80, width: 12, height: 12, fill: colours[tool]!))
            body.append(text(tool, x: legendX + 17, y: 90.5))
            legendX += 17 + Double(tool.count) * 7.2 + 22
        }

        var y = 104.0
        let plotTop = y
        if report.wholeProcess.isEmpty {
            body.append(text("No whole-process results in this run.", x: left, y: y + 20, fill: "#666"))
            y += 40
        }
        for comparison in report.wholeProcess {
            body.append(
                text(
                    "\(comparison.task) · \(photoLabel(comparison.photo, in: report))", x: left, y: y + 15,
                    bold: true))
            y += groupHeader
            let bars =
                [("imgfn", comparison.ours.medianMs, nil as Double?)]
                + comparison.peers.map { ($0.tool, $0.timing.medianMs, $0.oursOverPeer as Double?) }
            for (tool, ms, ratio) in bars {
                let length = max(1, axis.position(ms) * barWidth)
                let baseline = y + barHeight / 2 + 4
                body.append(text(tool, x: barX - 8, y: baseline, fill: "#333", anchor: "end"))
                body.append(rect(x: barX, y: y, width: length, height: barHeight, fill: colours[tool]!))
                let ratioLabel = ratio.map { " <tspan fill=\"#777\">· \(fixed($0, 2))×</tspan>" } ?? ""
                body.append(
                    #"<text x="\#(fixed(barX + length + 6, 1))" y="\#(fixed(baseline, 1))">"#
                        + milliseconds(ms) + " ms" + ratioLabel + "</text>")
                y += barHeight + barGap
            }
            y += groupGap - barGap
        }

        // Grid lines go first, behind the bars; tick labels under the plot.
        var grid: [String] = []
        if !report.wholeProcess.isEmpty {
            let plotBottom = y - groupGap + 4
            for tick in axis.ticks {
                let x = barX + axis.position(tick) * barWidth
                grid.append(
                    #"<line x1="\#(fixed(x, 1))" y1="\#(fixed(plotTop, 1))" x2="\#(fixed(x, 1))" "#
                        + "y2=\"\(fixed(plotBottom, 1))\" stroke=\"#e2e2e2\"/>")
                let label = tickLabel(tick) + (tick == axis.ticks.last ? " ms" : "")
                body.append(text(label, x: x, y: y + 8, fill: "#666", size: 11, anchor: "middle"))
            }
            y += 20
        }

        let height = fixed(y + 10, 0)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(fixed(width, 0))" height="\(height)" \
            viewBox="0 0 \(fixed(width, 0)) \(height)" font-family="system-ui, -apple-system, 'Segoe UI', \
            Helvetica, Arial, sans-serif" font-size="12" fill="#222">
            <title>\(escape("\(title), \(m.cpu)"))</title>
            <rect width="100%" height="100%" fill="#fff"/>
            \((grid + body).joined(separator: "\n"))
            </svg>

            """
    }

    // MARK: Markdown sections

    /// Whole-process medians of ours and each peer, the per-round ratios, and peak RSS.
    private static func wholeProcessSection(_ report: BenchReport) -> [String] {
        let rows = report.wholeProcess
        guard !rows.isEmpty else { return [] }
        let peers = peerTools(rows)
        let withRSS = peers.contains("vipsthumbnail")
        var header = ["task", "photo", "imgfn ms"]
        for peer in peers { header += ["\(peer) ms", "imgfn ÷ \(peer)"] }
        if withRSS { header += ["peak RSS imgfn", "peak RSS vipsthumbnail"] }
        let cells = rows.map { row -> [String] in
            var cells = [row.task, photoLabel(row.photo, in: report), milliseconds(row.ours.medianMs)]
            for peer in peers {
                let timing = row.peers.first { $0.tool == peer }
                cells += [
                    timing.map { milliseconds($0.timing.medianMs) } ?? "–",
                    timing.map { "\(fixed($0.oursOverPeer, 2))×" } ?? "–",
                ]
            }
            if withRSS {
                cells += [
                    mebibytes(row.ours.peakRSSMiB),
                    mebibytes(row.peers.first { $0.tool == "vipsthumbnail" }?.timing.peakRSSMiB),
                ]
            }
            return cells
        }
        return [
            "### Whole process",
            "Median wall time of one process per image, start-up included, over \(runs(rows.map(\.ours.runs))) rounds; "
                + "ours and the peers alternate round by round, and imgfn ÷ peer is the median of the per-round "
                + "ratios (below 1× = imgfn faster).",
            table(header, rightAligned: 2..., rows: cells),
        ]
    }

    /// libjpeg-turbo's own decode and encode times, and how far ours is above them.
    private static func floorSection(_ report: BenchReport) -> [String] {
        guard !report.floors.isEmpty else { return [] }
        let cells = report.floors.map { floor in
            [
                photoLabel(floor.photo, in: report), "1/\(floor.scale)", milliseconds(floor.decode.medianMs),
                milliseconds(floor.encode.medianMs), floor.oursWarmOverFloor.map { "\(fixed($0, 2))×" } ?? "–",
                floor.oursProcessOverFloor.map { "\(fixed($0, 2))×" } ?? "–",
            ]
        }
        return [
            "### Decode floor (libjpeg-turbo)",
            "`djpeg -scale 1/N` (the same shrink-on-load as ours) then `cjpeg` to a 320-wide JPEG, median ms. "
                + "Each ratio is a median of ours ÷ (djpeg + cjpeg) run next to it: per warm image, per process round.",
            table(
                ["photo", "scale", "djpeg ms", "cjpeg ms", "imgfn warm ÷ floor", "imgfn process ÷ floor"],
                rightAligned: 1..., rows: cells),
        ]
    }

    /// Per-image latency percentiles, throughput and memory of the warm in-process pipeline.
    private static func warmSection(_ report: BenchReport) -> [String] {
        guard !report.warm.isEmpty else { return [] }
        let cells = report.warm.map { warm in
            [
                warm.task, photoLabel(warm.photo, in: report), "\(warm.runs)", milliseconds(warm.p50Ms),
                milliseconds(warm.p90Ms), milliseconds(warm.p99Ms), milliseconds(warm.maxMs),
                "\(fixed(warm.imagesPerSecond, 1)) (\(warm.threads) \(warm.threads == 1 ? "thread" : "threads"))",
                mebibytes(warm.peakRSSMiB),
            ]
        }
        return [
            "### Warm, in-process",
            "The pipeline inside an already-running process, as a warm Lambda runs it: latency per image in ms, "
                + "throughput with that many workers, and the harness's peak RSS during the task.",
            table(
                ["task", "photo", "runs", "p50", "p90", "p99", "max", "images/s", "peak RSS"],
                rightAligned: 2..., rows: cells),
        ]
    }

    /// The Lambda bundle's `bootstrap` kept warm over several events: time and memory.
    private static func functionSection(_ report: BenchReport) -> [String] {
        guard !report.function.isEmpty else { return [] }
        let cells = report.function.map { function in
            [
                function.task, photoLabel(function.photo, in: report), "\(function.invocations)",
                "\(function.derivativesPerInvocation)", milliseconds(function.firstMs),
                milliseconds(function.warm.medianMs),
                milliseconds(function.warm.p90Ms), mebibytes(function.peakRSSMedianMiB),
                mebibytes(function.peakRSSMaxMiB),
                mebibytes(function.idleRSSMiB),
            ]
        }
        return [
            "### Warm function (Lambda bootstrap)",
            "The bundle's `bootstrap` started once and handed one-photo S3 events one after another (filesystem store): "
                + "ms from the event to the `/response`, first invocation and the rest; each invocation's peak RSS, "
                + "median and largest (the largest is Lambda's \"Max Memory Used\"); RSS while idle.",
            table(
                [
                    "task", "photo", "invocations", "files each", "first", "warm median", "warm p90", "peak RSS median",
                    "peak RSS max", "idle RSS",
                ], rightAligned: 2..., rows: cells),
        ]
    }

    /// The default set on unusual shapes, against the same photo upright.
    private static func shapesSection(_ report: BenchReport) -> [String] {
        guard !report.shapes.isEmpty else { return [] }
        let cells = report.shapes.map { shape in
            [
                shape.input, shape.what, "\(shape.files)", "\(shape.omitted)", milliseconds(shape.timing.medianMs),
                milliseconds(shape.timing.p90Ms), mebibytes(shape.timing.peakRSSMiB), ratio(shape.overUpright),
            ]
        }
        return [
            "### Unusual shapes (default set, whole process)",
            "`imgfn derive` with the default set, in the same rounds as the upright 12 MP photo: a sideways phone "
                + "photo costs what the upright one does (its derivatives are turned after shrinking), and a 50:1 "
                + "panorama is bounded by its own pixels (nothing is enlarged) with the sizes no WebP or AVIF can hold "
                + "left out before encoding.",
            table(
                ["input", "what", "files", "left out", "median", "p90", "peak RSS", "÷ upright"], rightAligned: 2...,
                rows: cells),
        ]
    }

    /// `imgfn backfill` beside a shell loop of `imgfn invoke`, and what a settled bucket costs.
    private static func backfillSection(_ report: BenchReport) -> [String] {
        guard let backfill = report.backfill else { return [] }
        let requests = backfill.upToDateRequestsPer1000.sorted { $0.key < $1.key }
            .map { "\($0.key) \(fixed($0.value, 0))" }.joined(separator: ", ")
        return [
            "### Backfill (moto on loopback, \(backfill.objects) objects of 19 KB, one 320 px JPEG each)",
            "`imgfn backfill` lists the bucket and derives the stale sources in one process, sources in parallel; "
                + "the peer is what people script without it: a shell loop of `imgfn invoke`, one process per object, "
                + "on a second bucket of the same objects. Both go through the fault proxy (no faults) that counts "
                + "requests.",
            table(
                ["", "wall", "objects/s", "÷ loop"], rightAligned: 1...,
                rows: [
                    [
                        "imgfn backfill", "\(fixed(backfill.oursSeconds, 2)) s",
                        fixed(backfill.oursObjectsPerSecond, 1),
                        ratio(backfill.oursOverLoop),
                    ],
                    [
                        "loop of imgfn invoke", "\(fixed(backfill.loopSeconds, 2)) s",
                        fixed(backfill.loopObjectsPerSecond, 1), "–",
                    ],
                ]),
            "A backfill of the settled bucket, per 1 000 objects: \(fixed(backfill.upToDateTotalPer1000, 0)) requests "
                + "(\(requests)): a listing page per 1 000 and a HEAD per source, no GET of an object and no write.",
        ]
    }

    /// `imgfn serve` beside thumbor under wrk, the decode floor, and ours at 4× overload.
    private static func httpSection(_ report: BenchReport) -> [String] {
        guard let http = report.http else { return [] }
        var rows: [[String]] = []
        for run in http.runs {
            let thumbor = http.requestsPerSecond("thumbor", run.scenario, run.photo)
            let versus = run.server == "imgfn" ? thumbor.map { ratio(run.requestsPerSecond / $0) } ?? "–" : "–"
            let floor =
                run.scenario.hasPrefix("transform") ? http.decodeFloor[run.photo].map { fixed($0, 1) } ?? "–" : "–"
            rows.append([
                run.server, run.scenario, run.photo, fixed(run.requestsPerSecond, 1), fixed(run.p50Ms, 1),
                fixed(run.p99Ms, 1), "\(run.failed)", versus, floor,
            ])
        }
        var lines = [
            "### HTTP: imgfn serve and thumbor (wrk -t2 -c4, \(http.seconds) s a run, loopback)",
            "Both servers read the same files and get the two cores (imgfn: 2 render slots; thumbor 7.8: 2 processes, "
                + "Pillow, no result storage); transforms render every request (imgfn with `--no-write-through` "
                + "and each request a distinct answer, since it shares one render among requests for the same), "
                + "each on a new connection (`Connection: close`, so that thumbor's processes share the load). "
                + "\"cached-hit\" is the same URL written through, \"not-modified\" a revalidation with its ETag. "
                + "The floor is `djpeg -scale 1/8` decodes per second on both cores.",
            table(
                ["server", "scenario", "photo", "requests/s", "p50 ms", "p99 ms", "failed", "× thumbor", "floor/s"],
                rightAligned: 3..., rows: rows),
        ]
        if let overload = http.overload {
            let statuses = overload.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                .joined(separator: ", ")
            lines.append(
                "4× overload (\(overload.connections) connections for \(overload.capacity) places, every request a render of "
                    + "the 20 MP photo): \(fixed(overload.requestsPerSecond, 1)) answers/s, p99 \(fixed(overload.p99Ms, 0)) ms, "
                    + "statuses \(statuses), peak RSS \(fixed(overload.peakRSSMiB, 0)) MiB.")
        }
        return lines
    }

    /// Dollars per million uploads per tool and memory size.
    private static func costSection(_ report: BenchReport) -> [String] {
        guard let cost = report.cost, !cost.rows.isEmpty else { return [] }
        return [
            "### Cost per million uploads (default set, Lambda x86)",
            "Each tool makes the default set with its CPU limited to Lambda's share for the memory size "
                + "(one vCPU per 1 769 MB; \(cost.limit)), so its wall time is the billed duration: "
                + "$\(String(format: "%.10f", CostBench.pricePerGBSecond)) per GB-s plus $0.20 per million requests. imgfn is `imgfn derive` "
                + "(the function's core); vipsthumbnail runs once per file; Pillow is `Benchmarks/peers/pillow_set.py`. "
                + "\"over\": the peak does not fit the memory size. Medians over the rounds; start-up included.",
            table(
                ["photo", "tool", "memory", "vCPU", "billed s", "CPU-s", "peak RSS", "$ per 1 M uploads"],
                rightAligned: 2...,
                rows: cost.rows.map { row in
                    [
                        row.photo, row.tool, "\(row.memoryMB) MB", fixed(row.cpus, 2), fixed(row.wallSeconds, 2),
                        fixed(row.cpuSeconds, 2), "\(fixed(row.peakRSSMiB, 0)) MiB",
                        row.dollarsPerMillion.map { "$" + fixed($0, 2) } ?? "over",
                    ]
                }),
        ]
    }

    /// SSIMULACRA2 per file, CPU-seconds per set, bytes at equal score.
    private static func qualitySection(_ report: BenchReport) -> [String] {
        guard let quality = report.quality, !quality.files.isEmpty else { return [] }
        var blocks = [
            "### Quality and cost of the default set",
            "Every file scored with SSIMULACRA2 (`imgfn score`, against the source resized in float: 90 is visually "
                + "lossless, 70 high quality); vipsthumbnail makes the same files with the same encoder settings "
                + "(one process per file). CPU-seconds are user + system of the whole processes, medians over the rounds.",
        ]
        for photo in Set(quality.files.map(\.photo)).sorted() {
            let files = quality.files.filter { $0.photo == photo }
            var rows: [[String]] = []
            for mine in files where mine.tool == "imgfn" {
                let theirs = files.first {
                    $0.tool == "vipsthumbnail" && $0.width == mine.width && $0.format == mine.format
                }
                rows.append([
                    "\(mine.width) \(mine.format)", "\(mine.bytes)", fixed(mine.score, 1),
                    theirs.map { "\($0.bytes)" } ?? "–", theirs.map { fixed($0.score, 1) } ?? "–",
                ])
            }
            blocks.append("**\(photo)**")
            blocks.append(
                table(
                    ["file", "imgfn bytes", "imgfn score", "vipsthumbnail bytes", "vipsthumbnail score"],
                    rightAligned: 1..., rows: rows))
        }
        blocks.append(
            table(
                ["photo", "tool", "CPU-seconds per set", "wall ms", "peak RSS", "imgfn ÷ vipsthumbnail CPU"],
                rightAligned: 2...,
                rows: quality.sets.map { set in
                    [
                        set.photo, set.tool, fixed(set.cpuSeconds, 2), fixed(set.wallMs, 0),
                        "\(fixed(set.peakRSSMiB, 0)) MiB",
                        set.tool == "imgfn" ? quality.cpuOursOverPeer[set.photo].map(ratio) ?? "–" : "–",
                    ]
                }))
        if !quality.equalScore.isEmpty {
            blocks.append(
                "Bytes at equal score: our file against vipsthumbnail's at qualities "
                    + QualityBench.curveQualities.map(String.init).joined(separator: "/")
                    + " (its WebP at its default effort 4), interpolated to our score.")
            blocks.append(
                table(
                    ["photo", "file", "imgfn bytes", "score", "vipsthumbnail bytes at that score", "ratio"],
                    rightAligned: 2...,
                    rows: quality.equalScore.map {
                        [
                            $0.photo, "\($0.width) \($0.format)", "\($0.oursBytes)", fixed($0.oursScore, 1),
                            fixed($0.peerBytes, 0), ratio($0.oursOverPeer),
                        ]
                    }))
        }
        return blocks
    }

    /// Process start-up of the Lambda `bootstrap` variants and the C floor.
    private static func coldInitSection(_ report: BenchReport) -> [String] {
        guard !report.coldInit.isEmpty else { return [] }
        let cells = report.coldInit.map { cold in
            [
                cold.variant, cold.description, "\(cold.runs)", milliseconds(cold.initMedianMs),
                milliseconds(cold.initP90Ms), cold.firstImageMedianMs.map(milliseconds) ?? "–",
                cold.firstImageP90Ms.map(milliseconds) ?? "–",
            ]
        }
        return [
            "### Cold start (bootstrap)",
            "From exec to the first `/next` request (init), and to the first `/response` for a one-photo S3 "
                + "event (first image), in ms.",
            table(
                ["variant", "what", "runs", "init median", "init p90", "first image median", "first image p90"],
                rightAligned: 2..., rows: cells),
        ]
    }

    /// The issue's targets, each with this run's figures and whether they meet it.
    private static func targetsSection(_ report: BenchReport) -> [String] {
        var rows: [[String]] = []
        func add(_ target: String, _ figures: [(label: String, value: Double, met: Bool)], format: (Double) -> String) {
            guard !figures.isEmpty else { return }
            let verdict = figures.allSatisfy(\.met) ? "met" : figures.contains(where: \.met) ? "partly" : "**not met**"
            rows.append([target, figures.map { "\($0.label): \(format($0.value))" }.joined(separator: "; "), verdict])
        }
        let large = report.photos.filter { $0.kind == "baseline JPEG" && $0.megapixels >= 12 }.map(\.id)
        let resize = report.wholeProcess.filter { $0.task == "resize-320" && large.contains($0.photo) }
        add(
            "320-wide JPEG from a 12+ MP baseline JPEG, whole process ≤ 0.6× vipsthumbnail",
            resize.compactMap { row in
                row.peers.first { $0.tool == "vipsthumbnail" }.map {
                    (row.photo, $0.oursOverPeer, $0.oursOverPeer <= 0.6)
                }
            },
            format: { ratio($0) + "×" })
        add(
            "the same in-process ≤ 1.2× the decode floor plus the encode (`djpeg -scale` + `cjpeg`)",
            report.floors.filter { large.contains($0.photo) }.compactMap { floor in
                floor.oursWarmOverFloor.map { (floor.photo, $0, $0 <= 1.2) }
            }, format: { ratio($0) + "×" })
        add(
            "derivative set ≤ 0.5× vipsthumbnail once per output",
            report.wholeProcess.filter { $0.task.hasPrefix("derive-") }.compactMap { row in
                row.peers.first { $0.tool == "vipsthumbnail" }.map {
                    ("\(row.task), \(row.photo)", $0.oursOverPeer, $0.oursOverPeer <= 0.5)
                }
            }, format: { ratio($0) + "×" })
        add(
            "cold init (exec → first `/next`) ≤ 20 ms",
            report.coldInit.filter { $0.variant == "bundle" }.map {
                ("Lambda bundle, median", $0.initMedianMs, $0.initMedianMs <= 20)
            },
            format: { milliseconds($0) + " ms" })
        add(
            "peak RSS of a 24 MP JPEG's default derivative set ≤ 150 MB",
            report.wholeProcess.filter { $0.task == "derive-default" && $0.photo.hasPrefix("24mp") }.compactMap { row in
                row.ours.peakRSSMiB.map { ("imgfn derive, \(row.photo)", $0 * 1.048576, $0 * 1.048576 <= 150) }
            }
                + report.function.filter { $0.photo.hasPrefix("24mp") }.map { function in
                    (
                        "warm function (largest invocation), \(function.photo)", function.peakRSSMaxMiB * 1.048576,
                        function.peakRSSMaxMiB * 1.048576 <= 150
                    )
                }, format: { fixed($0, 0) + " MB" })
        if let cost = report.cost {
            let large = report.photos.filter { $0.megapixels >= 12 && $0.megapixels < 20 }.map(\.id)
            add(
                "cost per 1 M uploads of a 12 MP photo (default set, smallest memory that holds the peak) ≤ $0.50",
                large.compactMap { photo in
                    cost.rows.filter { $0.photo == photo && $0.tool == "imgfn" && $0.dollarsPerMillion != nil }
                        .min { $0.memoryMB < $1.memoryMB }
                        .map { ("\(photo) at \($0.memoryMB) MB", $0.dollarsPerMillion!, $0.dollarsPerMillion! <= 0.5) }
                }, format: { "$" + fixed($0, 2) })
        }
        if let quality = report.quality {
            add(
                "default set ≤ 0.5 CPU-seconds (12+ MP photo)",
                quality.sets.filter { $0.tool == "imgfn" }.map { ($0.photo, $0.cpuSeconds, $0.cpuSeconds <= 0.5) },
                format: { fixed($0, 2) + " CPU-s" })
        }
        guard !rows.isEmpty else { return [] }
        return [
            "### Targets",
            "Where this run stands against the targets set for the product.",
            table(["target", "this run", "verdict"], rightAligned: 0..<0, rows: rows),
        ]
    }

    private static func gateSection(_ report: BenchReport) -> [String] {
        let checks = report.gate
        guard !checks.isEmpty else { return [] }
        let failed = checks.filter { !$0.passed }
        let verdict =
            failed.isEmpty
            ? "All \(checks.count) checks pass."
            : "**\(failed.count) of \(checks.count) checks FAIL:** \(failed.map { "`\($0.key)`" }.joined(separator: ", "))."
        let cells = checks.map { check in
            let latest = check.remeasured ?? check.current
            return [
                "`\(check.key)`", ratio(check.baseline), ratio(check.current), check.remeasured.map(ratio) ?? "–",
                check.baseline == 0 ? "–" : signedPercent(latest / check.baseline - 1),
                "+\(fixed(check.tolerance * 100, 0)) %", check.passed ? "pass" : "**FAIL**",
            ]
        }
        return [
            "### Gate",
            "Ratios against `Benchmarks/baseline.json`. A figure over baseline × (1 + tolerance) is measured once more "
                + "(\"again\"), and the check fails when that one is over too. " + verdict,
            table(
                ["key", "baseline", "current", "again", "change", "tolerance", "result"], rightAligned: 1...5,
                rows: cells),
        ]
    }

    // MARK: Formatting

    /// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
    private static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#999999"]

    /// A GitHub-flavoured Markdown table; the columns in `rightAligned` (numbers) align right.
    private static func table<R: RangeExpression<Int>>(_ header: [String], rightAligned: R, rows: [[String]]) -> String
    {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        let rule = "|" + header.indices.map { rightAligned.contains($0) ? "---:" : "---" }.joined(separator: "|") + "|"
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }

    /// The tools compared with ours, in order of first appearance.
    private static func peerTools(_ comparisons: [ProcessComparison]) -> [String] {
        var tools: [String] = []
        for tool in comparisons.flatMap({ $0.peers.map(\.tool) }) where !tools.contains(tool) { tools.append(tool) }
        return tools
    }

    /// "20mp-baseline (20.4 MP)", or the bare id for a photo the report does not describe.
    private static func photoLabel(_ id: String, in report: BenchReport) -> String {
        guard let photo = report.photos.first(where: { $0.id == id }) else { return id }
        return "\(id) (\(fixed(photo.megapixels, 1)) MP)"
    }

    /// "12" for one count, "10–12" for several.
    private static func runs(_ counts: [Int]) -> String {
        guard let low = counts.min(), let high = counts.max() else { return "0" }
        return low == high ? "\(low)" : "\(low)–\(high)"
    }

    /// Milliseconds with precision that suits the size: "0.42", "7.4", "72", "1810".
    private static func milliseconds(_ ms: Double) -> String {
        fixed(ms, ms < 1 ? 2 : ms < 10 ? 1 : 0)
    }

    /// An axis tick on the 1-2-5 sequence: "0.5", "20", "1000".
    private static func tickLabel(_ ms: Double) -> String {
        fixed(ms, ms < 1 ? Int(-floor(log10(ms))) : 0)
    }

    /// A dimensionless ratio: two decimals below 10, one above.
    private static func ratio(_ value: Double) -> String {
        fixed(value, abs(value) < 10 ? 2 : 1)
    }

    /// "+12.3 %" or "−4.0 %".
    private static func signedPercent(_ fraction: Double) -> String {
        (fraction < 0 ? "−" : "+") + fixed(abs(fraction) * 100, 1) + " %"
    }

    /// "212 MiB", or "–" when unknown.
    private static func mebibytes(_ mib: Double?) -> String {
        mib.map { "\(fixed($0, 0)) MiB" } ?? "–"
    }

    /// `value` with exactly `decimals` digits after the point.
    private static func fixed(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    /// "2025-11-25 12:34 UTC" from an ISO 8601 timestamp; anything unparsable is shown as it is.
    private static func displayDate(_ iso: String) -> String {
        let parser = ISO8601DateFormatter()
        var date = parser.date(from: iso)
        if date == nil {
            parser.formatOptions.insert(.withFractionalSeconds)
            date = parser.date(from: iso)
        }
        guard let date else { return iso }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    // MARK: SVG

    /// A `<text>` element with `content` escaped; unset attributes inherit the chart's.
    private static func text(
        _ content: String, x: Double, y: Double, fill: String? = nil, size: Int? = nil,
        anchor: String? = nil, bold: Bool = false
    ) -> String {
        var attributes = #"x="\#(fixed(x, 1))" y="\#(fixed(y, 1))""#
        if let fill { attributes += #" fill="\#(fill)""# }
        if let size { attributes += #" font-size="\#(size)""# }
        if let anchor { attributes += #" text-anchor="\#(anchor)""# }
        if bold { attributes += #" font-weight="bold""# }
        return "<text \(attributes)>\(escape(content))</text>"
    }

    /// A `<rect>` with slightly rounded corners.
    private static func rect(x: Double, y: Double, width: Double, height: Double, fill: String) -> String {
        #"<rect x="\#(fixed(x, 1))" y="\#(fixed(y, 1))" width="\#(fixed(width, 1))" height="\#(fixed(height, 1))" "#
            + #"rx="2" fill="\#(fill)"/>"#
    }

    /// Escapes the XML special characters for text and attribute values.
    private static func escape(_ string: String) -> String {
        string.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&apos;")
    }

    /// A base-10 logarithmic axis from the power of ten at or below the smallest value to the
    /// 1-2-5 step at or above the largest, with ticks on that 1-2-5 sequence (powers of ten only
    /// when it spans more than four decades).
    private struct LogAxis {
        let low: Double
        let high: Double
        let ticks: [Double]

        init(values: [Double]) {
            let positive = values.filter { $0 > 0 }
            let smallest = positive.min() ?? 1
            let largest = positive.max() ?? 10
            let low = pow(10, floor(log10(smallest)))
            var steps: [Double] = []
            var decade = low
            repeat {
                steps += [decade, 2 * decade, 5 * decade]
                decade *= 10
            } while steps.last! < largest
            let high = steps.first { $0 >= largest && $0 > low } ?? 10 * low
            let inRange = steps.filter { $0 <= high }
            self.low = low
            self.high = high
            // Every third step is a power of ten.
            ticks = log10(high / low) > 4 ? inRange.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) : inRange
        }

        /// Where `value` falls, from 0 (at `low` or below) to 1 (at `high`).
        func position(_ value: Double) -> Double {
            guard value > low else { return 0 }
            return min(1, log10(value / low) / log10(high / low))
        }
    }
}
