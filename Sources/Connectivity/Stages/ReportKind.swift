import Figures
import Foundation
import NIfTI
import PipelineEngine

/// Stage kind `report`: the study as one HTML page with its figures, for a person to look at.
///
/// Reads any of the stages it is given (`from`), each recognised by what it wrote: a `clean` stage
/// (the FD trace and carpet plot of the `motion_scans` runs with the largest mean FD; each run's
/// mean EPI, averaged over the included runs into the anatomical background), a `connectivity`
/// stage (per seed and session, the mean Fisher z map over the included runs), a `qc` stage (the
/// QC table, the exclusions, histograms of mean FD and of the censored fraction with the
/// thresholds, QC-FC), `group` and `longitudinal` stages (per test: the thresholded z map as
/// orthogonal slices through its peak and as three maximum-intensity projections, a colour bar,
/// the cluster table; for a longitudinal test, each subject's pre → post values in each
/// cluster), `roi` stages (scatter plots with the fitted line, r and p; each subject's pre → post
/// values; the ROC curve of the leave-one-out values, with the in-sample curve beside it) and a
/// `synth_cohort` stage (the cohort's groups). Sections are titled by the stage names. The page
/// starts with the study's name, the spec's SHA-256 and the overrides, and ends with the methods
/// text and its references (the study record, `StageKind.readsStudyRecord`).
///
/// Outputs: `index.html` and its figures (brain images as PNG beside it; charts as inline SVG).
/// No script, no network, no timestamp: the same inputs give the same bytes, and the page opens
/// from `file://`. Parameters: `title` (default: "Study report"), `convention` (`neurological`,
/// the default, or `radiological`: where the subject's left is drawn; stated on the page and on
/// every brain image), `background` (a template image to draw the maps over, resampled by
/// nearest neighbour; default: the cohort's mean EPI, else the analysis mask in grey),
/// `seed_map_threshold` (|mean z| drawn in the seed maps, default 0.2) and `motion_scans`
/// (default 3).
public struct ReportKind: TypedStageKind {
    public init() {}

    public var name: String { "report" }
    /// 8: chart legends take the corner that covers fewest points and lines, on a white backing.
    /// 7: group-level sections name the subjects not tested for want of a map; QC-FC says why it
    /// is absent. 6: the carpet plots are clean's (`CleanedScan.carpetFile`): the report reads no series, so
    /// it reruns without recomputing a `keep: false` clean stage. 5: a run clean refused says why in place of its carpet plot; a run's exclusion marks that
    /// run only. 4: mean EPI background, seed mean maps, FD traces and carpet plots, longitudinal
    /// pre → post lines, the study record and methods. 3: ROC curves drawn in the prediction's
    /// recorded direction. 2: the in-sample (circular) ROC curve beside the leave-one-out one;
    /// ROC legends at the bottom.
    public var version: Int { 8 }

    public func readsInput(named name: String) -> Bool { !CleanedScan.isBulk(name) }
    public var fanOut: FanOut { .group }
    public var upstreamCount: ClosedRange<Int> { 1...32 }

    public struct Parameters: Sendable, Equatable {
        var from: [String]
        var title: String
        var convention: BrainSlices.Convention
        /// A template image to draw the maps over ("": the cohort's mean EPI, from a clean stage).
        var background: String
        /// The |mean Fisher z| from which the group mean seed maps are drawn.
        var seedMapThreshold: Double
        /// How many of the most-moving runs get an FD trace and a carpet plot.
        var motionScans: Int
    }

    public func parameters(_ params: ParameterReader) -> Parameters {
        let from = params.upstreamStages()
        let title = params.string("title", default: "")
        let convention = params.string("convention", default: "neurological")
        if BrainSlices.Convention(rawValue: convention) == nil { params.report("convention", "expected neurological or radiological, got '\(convention)'") }
        return Parameters(from: from, title: title, convention: BrainSlices.Convention(rawValue: convention) ?? .neurological,
                          background: params.string("background", default: ""),
                          seedMapThreshold: params.number("seed_map_threshold", default: 0.2, range: 0...10),
                          motionScans: params.integer("motion_scans", default: 3, range: 0...100))
    }

    /// The page shows the spec's digest and the methods text.
    public var readsStudyRecord: Bool { true }

    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        p.background.isEmpty ? [:] : ["background": p.background]
    }

    /// A `background` template must be a NIfTI image that can be read whole (the report, the
    /// study's last task, stopped on it): its header and, from its gzip trailer, its length (its
    /// whole stream when the trailer does not tell).
    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        guard !p.background.isEmpty, case .regular = FileSystem.kind(of: study.path(p.background)) else { return }
        do { try NIfTIFile.checkWhole(study.path(p.background)) } catch {
            study.report(stage, "background", "\(p.background) cannot be read as a NIfTI image: \(NIfTIReadProblem(error).reason)")
        }
    }

    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { 512 << 20 }
    /// The mean EPI and the mean seed maps read their images two at a time.
    public var defaultThreads: Int { 2 }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
        let exclusions = try QCExclusions.read(context)?.entries ?? []
        func excluded(_ scope: Scope) -> Bool {
            exclusions.contains { $0.covers(subject: scope.subject ?? "", session: scope.session, run: scope.run) }
        }
        var page = ReportPage(title: p.title.isEmpty ? "Study report" : p.title, convention: p.convention,
                              study: context.params.objectValue?["study"])
        if let url = context.sources["background"] {
            page.background = try ReportBackground.template(url)
        } else {
            page.background = try ReportBackground.cohortMean(context.inputs.filter { !excluded($0.scope) }.compactMap { input in
                input.files.first { $0.key.hasSuffix(CleanedScan.meanImageFile) }?.value
            })
        }
        for (index, stage) in p.from.enumerated() {
            try context.checkCancellation()
            let inputs = context.inputs.filter { $0.fromIndex == index }
            let files = inputs.reduce(into: [String: URL]()) { $0.merge($1.files) { a, _ in a } }
            if let summary = files["qc_summary.json"] {
                try page.qcSection(stage, summary: summary, files: files)
            } else if let name = files.keys.sorted().first(where: { $0.hasPrefix("group_") && $0.hasSuffix("_summary.json") }) {
                let summary = try OutputJSON.decode(GroupSummary.self, from: files[name]!, as: "a group stage summary")
                try page.mapsSection(stage, tests: summary.contrasts.map { ($0.contrast, $0) }, excluded: summary.excludedByQC,
                                     notTested: (summary.noMapAtSession ?? []).map { "\($0) (no map at \(summary.session))" }, files: files)
            } else if let name = files.keys.sorted().first(where: { $0.hasPrefix("longitudinal_") && $0.hasSuffix("_summary.json") }) {
                let summary = try OutputJSON.decode(LongitudinalSummary.self, from: files[name]!, as: "a longitudinal stage summary")
                let tests = summary.paired.map { ($0.test ?? "paired", $0) } + summary.groupByTime.map { ($0.test ?? "group x time", $0) }
                try page.mapsSection(stage, tests: tests, excluded: summary.excludedByQC,
                                     notTested: summary.excludedOneSession.map { "\($0.participantID) (no map at \($0.missing))" },
                                     files: files, sessions: (summary.pre, summary.post))
            } else if let name = files.keys.sorted().first(where: { $0.hasPrefix("roi_") && $0.hasSuffix("_summary.json") }) {
                let summary = try OutputJSON.decode(ROISummary.self, from: files[name]!, as: "an roi stage summary")
                try page.roiSection(stage, summary: summary, files: files)
            } else if let participants = files["participants.tsv"] {
                try page.cohortSection(stage, participants: participants)
            } else if files.keys.contains(where: { $0.hasSuffix(CleanedScan.infoFile) }) {
                try page.motionSection(stage, inputs: inputs, count: p.motionScans, excluded: excluded)
            } else if files.keys.contains(where: { $0.hasSuffix("_stat-z_connectivity.nii.gz") }) {
                try page.seedMapsSection(stage, inputs: inputs, threshold: p.seedMapThreshold, excluded: excluded)
            } else {
                page.note(stage, "The report does not know what this stage wrote (\(files.count) files); it is listed here so that nothing is skipped silently.")
            }
        }
        page.methodsSection()
        try context.writeOutput("index.html", Array(page.html.utf8))
        for (name, bytes) in page.images { try context.writeOutput(name, bytes) }
    }
}

/// The page as it is built, section by section.
struct ReportPage {
    let title: String
    let convention: BrainSlices.Convention
    var body = ""
    var contents: [(id: String, title: String)] = []
    var images: [(String, [UInt8])] = []
    /// What the statistical maps are drawn over (nil: the analysis mask in grey).
    var background: ReportBackground?

    /// The study record (`Provenance.studyRecord`): name, spec digest, overrides, methods.
    let study: [String: JSONValue]

    init(title: String, convention: BrainSlices.Convention, study: JSONValue?) {
        self.title = title
        self.convention = convention
        self.study = study?.objectValue ?? [:]
    }

    /// The study line of the page's header: name, spec and digest, overrides.
    var studyLine: String {
        guard let name = study["name"]?.stringValue else { return "" }
        var line = "Study <b>\(esc(name))</b>"
        if let spec = study["spec"]?.stringValue, let digest = study["spec_sha256"]?.stringValue {
            line += ", spec <code>\(esc(spec))</code> (SHA-256 <code>\(esc(String(digest.prefix(12))))</code>)"
        }
        if case .array(let overrides)? = study["overrides"], !overrides.isEmpty {
            line += ", with " + overrides.compactMap(\.stringValue).map { "<code>\(esc($0))</code>" }.joined(separator: ", ")
        }
        return line + ". "
    }

    /// The methods text (`methods.md`, as the run publishes it) with its references, as the
    /// page's last section.
    mutating func methodsSection() {
        guard let markdown = study["methods"]?.stringValue else { return }
        contents.append(("methods", "Methods and references"))
        body += "<h2 id=\"methods\">Methods and references</h2>\n"
        var list = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("- ") {
                if !list { body += "<ul class=\"refs\">"; list = true }
                body += "<li>\(inline(String(line.dropFirst(2))))</li>"
                continue
            }
            if list { body += "</ul>\n"; list = false }
            if line.hasPrefix("# ") || line.isEmpty { continue }  // the page has its own title
            body += line.hasPrefix("## ") ? "<h3>\(inline(String(line.dropFirst(3))))</h3>\n" : "<p>\(inline(line))</p>\n"
        }
        if list { body += "</ul>\n" }
    }

    /// Escaped text with `code` spans.
    private func inline(_ text: String) -> String {
        let parts = esc(text).components(separatedBy: "`")
        return parts.enumerated().map { $0.offset % 2 == 1 && $0.offset < parts.count - 1 ? "<code>\($0.element)</code>" : $0.element }.joined()
    }

    var html: String {
        let toc = contents.map { "<li><a href=\"#\($0.id)\">\(esc($0.title))</a></li>" }.joined()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:0 20px 40px;color:#222}
        h1{font-size:24px;margin:22px 0 4px}h2{font-size:19px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:34px}
        h3{font-size:15px;margin:22px 0 6px}p.meta{color:#555;margin-top:0}
        table{border-collapse:collapse;font-size:12px;margin:6px 0 12px}th,td{border:1px solid #ddd;padding:2px 6px;text-align:right}
        th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}tr.excluded td{background:#fde2e0}
        .row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.refused{max-width:440px;align-self:center;padding:10px 14px;background:#fde2e0}.brain{display:inline-block;text-align:center;font-size:11px;color:#444}
        .brain img{display:block;image-rendering:pixelated;border:1px solid #eee}.edges{display:flex;justify-content:space-between;font-weight:bold}
        ul.refs{font-size:13px}p code{overflow-wrap:anywhere}.scroll{max-height:340px;overflow:auto;border:1px solid #eee;display:inline-block}nav ul{columns:2;font-size:13px}
        @media print{.scroll{max-height:none;overflow:visible}h2{break-before:page}}
        </style></head><body>
        <h1>\(esc(title))</h1>
        <p class="meta">\(studyLine)Made by \(esc(study["version"]?.stringValue ?? EngineVersion.string)). Brain images are in \(convention.rawValue) convention (\(convention == .neurological ? "the subject's left on the left" : "the subject's left on the right")), superior or anterior up; each is labelled at its edges. Statistical maps are drawn over \(esc(background?.description ?? "the analysis mask")). How the outputs were made: <a href="#methods">methods</a> (also in <a href="../methods.md">methods.md</a>), <a href="../dataset_description.json">dataset_description.json</a>.</p>
        <nav><ul>\(toc)</ul></nav>
        \(body)
        </body></html>

        """
    }

    mutating func section(_ stage: String, _ heading: String) {
        let id = "stage-" + stage.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        contents.append((id, "\(stage): \(heading)"))
        body += "<h2 id=\"\(id)\">\(esc(stage)) <small>(\(esc(heading)))</small></h2>\n"
    }

    mutating func note(_ stage: String, _ text: String) {
        section(stage, "unrecognised")
        body += "<p>\(esc(text))</p>\n"
    }

    // MARK: - Cohort

    mutating func cohortSection(_ stage: String, participants: URL) throws {
        section(stage, "cohort")
        let table = try TSVTable.read(participants.path)
        body += "<p>\(table.rows.count) participants in <code>participants.tsv</code>.</p>\n"
        for column in ["group", "responder", "sex"] {
            guard let c = table.header.firstIndex(of: column) else { continue }
            let counts = Dictionary(grouping: table.rows.compactMap { $0.cells.count > c ? $0.cells[c] : nil }, by: { $0 }).mapValues(\.count)
            body += "<table><tr><th>\(esc(column))</th><th>participants</th></tr>"
            for (level, n) in counts.sorted(by: { $0.key < $1.key }) { body += "<tr><td>\(esc(level))</td><td>\(n)</td></tr>" }
            body += "</table>\n"
        }
    }

    // MARK: - QC

    mutating func qcSection(_ stage: String, summary url: URL, files: [String: URL]) throws {
        section(stage, "quality control")
        let summary = try OutputJSON.decode(QCSummary.self, from: url, as: "a qc stage summary")
        let qc = try files["qc.tsv"].map { try TSVTable.read($0.path) }
        let exclusions = try files["exclusions.tsv"].map { try TSVTable.read($0.path) }
        body += "<p><b>\(summary.excludedScans) of \(summary.scans) scans excluded</b> by the rules"
        let rules = [("mean FD >", summary.rules.maxMeanFD.map { "\(SVGChart.number($0)) mm" }),
                     ("censored fraction >", summary.rules.maxCensoredFraction.map { SVGChart.number($0) }),
                     ("kept volumes <", summary.rules.minKeptVolumes.map(String.init)),
                     ("seed coverage <", summary.rules.minSeedCoverage.map { SVGChart.number($0) }),
                     ("residual dof <", summary.rules.minDOF.map(String.init))].compactMap { r in r.1.map { "\(r.0) \($0)" } }
        body += rules.isEmpty ? " (no rule set).</p>\n" : ": " + esc(rules.joined(separator: "; ")) + ".</p>\n"
        if let exclusions, exclusions.rows.count > 0 { body += "<h3>Exclusions</h3>" + tableHTML(exclusions) }
        if let qc {
            func column(_ name: String) -> [Double] {
                guard let c = qc.header.firstIndex(of: name) else { return [] }
                return qc.rows.map { $0.cells.count > c ? Double($0.cells[c]) ?? .nan : .nan }
            }
            body += "<div class=\"row\">"
            body += SVGChart.histogram(column("mean_fd"), title: "Mean framewise displacement", xLabel: "mean FD (mm)", threshold: summary.rules.maxMeanFD)
            body += SVGChart.histogram(column("censored_fraction"), title: "Fraction of volumes censored", xLabel: "censored fraction",
                                       threshold: summary.rules.maxCensoredFraction)
            body += "</div>\n"
        }
        if let qcfc = try files["qcfc.tsv"].map({ try TSVTable.read($0.path) }), let r = qcfc.header.firstIndex(of: "qcfc_r") {
            let d = qcfc.header.firstIndex(of: "distance_mm")
            body += "<h3>QC-FC</h3><p>The correlation across scans between mean FD and each ROI-to-ROI edge: near zero, and independent of distance, when denoising removed the motion.</p>"
            if summary.qcfc.isEmpty {
                body += "<p>Not computed: QC-FC needs the ROI-to-ROI matrices of a connectivity stage in the qc stage's <code>from</code> "
                    + "(with an atlas, and <code>roi_matrix</code> on), and at least 4 scans with a mean FD at a session after the exclusions.</p>\n"
            }
            for (session, s) in summary.qcfc.sorted(by: { $0.key < $1.key }) {
                let rows = qcfc.rows.filter { ($0.cells.first ?? "") == session || (session == "all" && $0.cells.first == "n/a") }
                let values = rows.map { Double($0.cells[r]) ?? .nan }
                body += "<div class=\"row\">"
                body += SVGChart.histogram(values, title: "QC-FC, \(session)", xLabel: "QC-FC r", yLabel: "edges")
                if let d, rows.contains(where: { Double($0.cells[d]) != nil }) {
                    let note = s.distanceDependenceR.map { "r(QC-FC, distance) = \(SVGChart.number($0))" }
                    body += SVGChart.scatter(x: rows.map { Double($0.cells[d]) ?? .nan }, y: values, title: "QC-FC against distance, \(session)",
                                             xLabel: "distance between ROI centroids (mm)", yLabel: "QC-FC r", fit: true, note: note)
                }
                body += "</div><p>\(s.edges) edges over \(s.scans) scans: median |QC-FC| \(SVGChart.number(s.medianAbsQCFC)); p &lt; 0.05 for \(SVGChart.number(100 * s.fractionSignificantUncorrected))% uncorrected, \(SVGChart.number(100 * s.fractionSignificantFDR))% after FDR.</p>\n"
            }
        }
        if let qc {
            let excludedColumn = qc.header.firstIndex(of: "excluded")
            body += "<h3>Every scan</h3><div class=\"scroll\">" + tableHTML(qc) { row in
                excludedColumn.map { row.cells.count > $0 && row.cells[$0] == "yes" } ?? false
            } + "</div>\n"
        }
    }

    // MARK: - Voxelwise maps

    /// `sessions`: a longitudinal stage's pre and post sessions, whose per-subject cluster means
    /// (`desc-roi.tsv`) are drawn as lines.
    mutating func mapsSection(_ stage: String, tests: [(String, ContrastSummary)], excluded: [String]?, notTested: [String], files: [String: URL],
                              sessions: (pre: String, post: String)? = nil) throws {
        section(stage, "voxelwise inference")
        if let excluded, !excluded.isEmpty { body += "<p>Excluded by QC: \(esc(excluded.joined(separator: "; "))).</p>\n" }
        if !notTested.isEmpty { body += "<p>Not tested: \(esc(notTested.joined(separator: "; "))).</p>\n" }
        let stems = files.keys.filter { $0.hasSuffix("_stat-z_statmap.nii.gz") }.map { String($0.dropLast("_stat-z_statmap.nii.gz".count)) }.sorted()
        for stem in stems {
            let label = stem.components(separatedBy: "_contrast-").last ?? stem
            let match = tests.first { (_, c) in
                stem.hasSuffix("_contrast-" + VoxelwiseInference.label(c.contrast)) && (c.group.map { stem.contains("_group-\(BIDSNames.label($0))_") } ?? !stem.contains("_group-"))
            }
            body += "<h3>\(esc(match?.0 ?? label))</h3>"
            if let c = match?.1 {
                var stats = ["\(c.subjects) subjects", "\(c.permutations) permutations\(c.exhaustive ? " (all)" : "")", "max |t| \(SVGChart.number(c.maxAbsT))",
                             "min FWE p: max-T \(SVGChart.number(c.minPFWEMaxT))"]
                if let v = c.minPFWETFCE { stats.append("TFCE \(SVGChart.number(v))") }
                if let v = c.minPFWECluster { stats.append("cluster mass \(SVGChart.number(v))") }
                body += "<p>\(esc(stats.joined(separator: ", "))).</p>"
            }
            try brainFigure(stem: stem, files: files)
            if let clusters = files[stem + "_desc-clusters.tsv"] {
                let table = try TSVTable.read(clusters.path)
                body += table.rows.isEmpty ? "<p>No cluster above the cluster-forming threshold.</p>" : tableHTML(table)
            }
            if let sessions, let url = files[stem + "_desc-roi.tsv"] {
                try prePostLines(try TSVTable.read(url.path), sessions: sessions, test: match?.1)
            }
        }
    }

    /// The thresholded z map over the background: slices through its peak, then the three
    /// projections, each labelled at its edges, and the colour bar.
    private mutating func brainFigure(stem: String, files: [String: URL]) throws {
        guard let zURL = files[stem + "_stat-z_statmap.nii.gz"] else { return }
        let z = try NIfTIFile.read(zURL.path, as: Float.self)
        let thresholded = try files[stem + "_stat-z_desc-thresholded_statmap.nii.gz"].map { try NIfTIFile.read($0.path, as: Float.self).data }
        let dims = (1...3).map { Int(z.header.dim[$0]) }
        let overlay = thresholded ?? z.data
        let significant = overlay.contains { $0 != 0 }
        let threshold = significant ? Double(overlay.filter { $0 != 0 }.map { abs($0) }.min() ?? 0) : Double.infinity
        try mapFigure(stem: stem, values: significant ? overlay : z.data, dims: dims, affine: z.header.affine, threshold: threshold,
                      projections: true, label: "z", mask: z.data.map { $0 != 0 && $0.isFinite }) { world, peak in
            significant
                ? "<p>Significant voxels (primary FWE p &lt; α), |z| ≥ \(SVGChart.number(threshold)); slices through the peak at (\(world)) mm, z = \(SVGChart.number(peak)).</p>"
                : "<p>No voxel survives correction; slices through the largest |z| (\(SVGChart.number(peak))) at (\(world)) mm, nothing drawn over the brain.</p>"
        }
    }

    /// A signed map over the background: slices through its largest |value| (and, with
    /// `projections`, the three maximum-intensity projections over the silhouette of `mask`,
    /// default: the nonzero values), values with |value| ≥ `threshold`
    /// in `cold_hot`, and a colour bar when anything is drawn. `intro` gives the sentence above
    /// the images from the peak's world coordinates and value.
    mutating func mapFigure(stem: String, values: [Float], dims: [Int], affine a: Affine, threshold: Double, projections: Bool,
                            label: String, mask: [Bool]? = nil, intro: ((String, Double) -> String)? = nil) throws {
        let grid: BrainSlices
        do {
            grid = try BrainSlices(dims: dims, affine: (0..<3).map { r in (0..<4).map { a[r, $0] } }, convention: convention, zoom: 4)
        } catch let error as BrainSlices.GridError {
            body += "<p>No brain images for \(esc(stem)): \(esc(error.description)).</p>"
            return
        }
        var peak = 0
        for i in values.indices where abs(values[i]) > abs(values[peak]) { peak = i }
        let world = a.apply([peak % dims[0], (peak / dims[0]) % dims[1], peak / (dims[0] * dims[1])].map(Double.init))
        let vmax = Double(abs(values[peak]))
        let drawn = values.contains { abs(Double($0)) >= threshold && $0 != 0 }
        let mask = mask ?? values.map { $0 != 0 && $0.isFinite }
        let background: [Float], range: (Double, Double)
        if let bg = self.background {
            background = bg.resampled(to: dims, affine: a)
            range = bg.range
        } else {
            background = mask.map { $0 ? Float(0.78) : 1 }
            range = (0, 1)
        }
        body += intro?(world.map { SVGChart.number($0) }.joined(separator: ", "), Double(values[peak])) ?? ""
        body += "<div class=\"row\">"
        for view in BrainSlices.View.allCases {
            let at = world[view.fixedAxis]
            let image = grid.slice(view, at: at, background: background, backgroundRange: range, overlay: values, threshold: threshold, vmax: vmax)
            try addImage("\(stem)_\(view.rawValue).png", image, caption: "\(view.rawValue), \(["x", "y", "z"][view.fixedAxis]) = \(SVGChart.number(at)) mm")
        }
        if projections {
            body += "</div><div class=\"row\">"
            for view in BrainSlices.View.allCases {
                let image = grid.projection(view, mask: mask, overlay: drawn ? values : [Float](repeating: 0, count: values.count),
                                            threshold: threshold, vmax: vmax)
                try addImage("\(stem)_\(view.rawValue)_projection.png", image, caption: "\(view.rawValue) projection (glass brain)")
            }
        }
        body += "</div>"
        if drawn {
            body += SVGChart.colorBar(.coldHot, vmax: vmax, threshold: threshold, label: "\(label), cold_hot; |\(label)| below \(SVGChart.number(threshold)) not drawn")
        }
    }

    mutating func addImage(_ name: String, _ image: BrainSlices.Image, caption: String) throws {
        images.append((name, try PNG.encode(width: image.width, height: image.height, pixels: .rgb, data: image.rgb)))
        body += "<figure class=\"brain\"><div class=\"edges\"><span>\(image.leftEdge)</span><span>\(image.rightEdge)</span></div>"
        body += "<img src=\"\(esc(name))\" width=\"\(image.width)\" height=\"\(image.height)\" alt=\"\(esc(caption))\"><figcaption>\(esc(caption))</figcaption></figure>"
    }

    // MARK: - ROI follow-up

    mutating func roiSection(_ stage: String, summary: ROISummary, files: [String: URL]) throws {
        section(stage, "ROI follow-up")
        if let excluded = summary.excludedByQC, !excluded.isEmpty { body += "<p>Excluded by QC: \(esc(excluded.joined(separator: "; "))).</p>\n" }
        if !summary.noMapAtPre.isEmpty {
            body += "<p>Not followed up: \(esc(summary.noMapAtPre.map { "\($0) (no map at \(summary.pre))" }.joined(separator: "; "))).</p>\n"
        }
        func table(_ suffix: String) throws -> TSVTable? {
            try files.keys.sorted().first { $0.hasSuffix(suffix) }.map { try TSVTable.read(files[$0]!.path) }
        }
        let correlations = try table("_desc-correlations.tsv"), prediction = try table("_desc-prediction.tsv"), paired = try table("_desc-paired.tsv")
        for region in summary.regions {
            body += "<h3>\(esc(region.name))</h3><p>\(esc(region.definition))</p>"
            guard let scatter = try table("_roi-\(BIDSNames.label(region.name))_desc-scatter.tsv") else { continue }
            func column(_ name: String) -> [Double]? {
                scatter.header.firstIndex(of: name).map { c in scatter.rows.map { $0.cells.count > c ? Double($0.cells[c]) ?? .nan : .nan } }
            }
            func text(_ name: String) -> [String]? {
                scatter.header.firstIndex(of: name).map { c in scatter.rows.map { $0.cells.count > c ? $0.cells[c] : "n/a" } }
            }
            let groupColumn = scatter.header.dropFirst().first { column($0) == nil || text($0)!.allSatisfy { Double($0) == nil } }
            let groups = groupColumn.flatMap(text)
            body += "<div class=\"row\">"
            let drawn = body.utf8.count
            if !summary.post.isEmpty, let pre = column(summary.pre), let post = column(summary.post) {
                body += SVGChart.prePost(pre: pre, post: post, groups: groups ?? pre.map { _ in "all" }, labels: (summary.pre, summary.post),
                                         title: "\(region.name): \(summary.pre) → \(summary.post)", yLabel: "mean z in the region")
            }
            for c in region.correlations {
                guard let x = column(c.x == "change" ? "change" : summary.pre), let y = column(c.y) else { continue }
                body += SVGChart.scatter(x: y, y: x, groups: groups, title: "\(region.name): \(c.x) vs \(c.y)", xLabel: c.y,
                                         yLabel: c.x == "change" ? "change in z" : "z at \(summary.pre)", fit: true,
                                         note: "r = \(SVGChart.number(c.pearsonR)), p = \(SVGChart.number(c.pearsonP)), n = \(c.n)")
            }
            if case .fitted(let roc)? = region.prediction, let labels = text(roc.column), let scores = column(roc.session) {
                // Both curves in the prediction's direction, as its AUC was computed: an honest AUC
                // below 0.5 shows as a curve under the diagonal.
                let higher = roc.direction != "lower"
                let positive = labels.map { $0 == roc.positive }
                var curves = [(name: roc.values.hasPrefix("leave-one-out") ? "leave-one-out (honest)" : "fixed region",
                               points: Self.rocPoints(scores: scores, positive: positive, higherIsPositive: higher))]
                var note = "AUC \(SVGChart.number(roc.auc))"
                if let inSample = roc.inSampleAUCCircular {
                    note += "; in-sample (circular) AUC \(SVGChart.number(inSample))"
                    if let circular = column("\(roc.session)_in_sample") {
                        curves.append((name: "in-sample (circular)", points: Self.rocPoints(scores: circular, positive: positive, higherIsPositive: higher)))
                    }
                }
                body += SVGChart.roc(curves, title: "\(region.name): predicting \(roc.column) = \(roc.positive)")
                body += "</div><p>\(esc(note)).</p><div class=\"row\">"
            }
            if body.utf8.count == drawn, let pre = column(summary.pre) {
                // No follow-up session, correlation or prediction: the values themselves.
                let n = pre.filter(\.isFinite).count
                body += SVGChart.histogram(pre, title: "\(region.name): mean z at \(summary.pre)", xLabel: "mean z in the region", yLabel: "subjects")
                body += "</div><p>\(n) of \(pre.count) subjects have a value (each in the region's scatter table); the stage tests nothing "
                    + "else without <code>post</code>, <code>clinical</code> or <code>predict</code>.</p><div class=\"row\">"
            }
            body += "</div>"
        }
        for (name, t) in [("Paired tests", paired), ("Correlations", correlations), ("Prediction", prediction)] {
            if let t { body += "<h3>\(name)</h3>" + tableHTML(t) }
        }
    }

    /// Each subject's pre and post mean in every significant cluster of a longitudinal test, as
    /// lines, coloured by the participants column whose levels the design's columns are (one
    /// colour for a paired test within a level).
    private mutating func prePostLines(_ table: TSVTable, sessions: (pre: String, post: String), test: ContrastSummary?) throws {
        func column(_ name: String) -> [Double]? {
            table.header.firstIndex(of: name).map { c in table.rows.map { $0.cells.count > c ? Double($0.cells[c]) ?? .nan : .nan } }
        }
        let designLevels = Set(test?.columns ?? [])
        let groupColumn = table.header.firstIndex { name in
            let levels = Set(table.rows.compactMap { row in table.header.firstIndex(of: name).flatMap { row.cells.count > $0 ? row.cells[$0] : nil } })
            return levels.count > 1 && levels.isSubset(of: designLevels)
        }
        let groups = table.rows.map { row in groupColumn.map { row.cells.count > $0 ? row.cells[$0] : "n/a" } ?? test?.group ?? "subjects" }
        var k = 1
        body += "<div class=\"row\">"
        while let pre = column("cluster\(k)_\(sessions.pre)"), let post = column("cluster\(k)_\(sessions.post)") {
            body += SVGChart.prePost(pre: pre, post: post, groups: groups, labels: (sessions.pre, sessions.post),
                                     title: "Cluster \(k): each subject's mean z", yLabel: "mean z in the cluster")
            k += 1
        }
        body += "</div>"
    }

    /// The empirical ROC curve: (FPR, TPR) at every threshold, ties moving diagonally.
    static func rocPoints(scores: [Double], positive: [Bool], higherIsPositive: Bool) -> [(Double, Double)] {
        let rows = scores.indices.filter { scores[$0].isFinite }
        let sorted = rows.sorted { higherIsPositive ? scores[$0] > scores[$1] : scores[$0] < scores[$1] }
        let p = Double(rows.filter { positive[$0] }.count), n = Double(rows.count) - p
        guard p > 0, n > 0 else { return [] }
        var points: [(Double, Double)] = [(0, 0)]
        var tp = 0.0, fp = 0.0, i = 0
        while i < sorted.count {
            var j = i
            while j < sorted.count && scores[sorted[j]] == scores[sorted[i]] { if positive[sorted[j]] { tp += 1 } else { fp += 1 }; j += 1 }
            points.append((fp / n, tp / p))
            i = j
        }
        return points
    }

    // MARK: - HTML

    private func tableHTML(_ table: TSVTable, highlight: (TSVTable.Row) -> Bool = { _ in false }) -> String {
        var s = "<table><tr>" + table.header.map { "<th>\(esc($0))</th>" }.joined() + "</tr>"
        for row in table.rows {
            s += highlight(row) ? "<tr class=\"excluded\">" : "<tr>"
            s += row.cells.map { "<td>\(esc(Self.cell($0)))</td>" }.joined() + "</tr>"
        }
        return s + "</table>\n"
    }

    /// A number cell to 4 significant digits; text as it is.
    static func cell(_ text: String) -> String {
        guard let v = Double(text), text.contains(".") || text.contains("e") else { return text }
        return String(format: "%.4g", v)
    }

    func esc(_ s: String) -> String { SVGChart.escape(s) }
}
