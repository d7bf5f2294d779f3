import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `qc`: the study's quality-control table, its exclusion rules, and QC-FC.
///
/// Reads a `clean` stage (`from[0]`, every scan: the QC values `clean` recorded, `ScanQuality`)
/// and optionally a `connectivity` stage (seed coverage; ROI-to-ROI matrices for QC-FC).
/// Parameters, each optional (absent: the rule is off):
/// - `max_mean_fd` (mm), `max_censored_fraction` (0–1), `min_kept_volumes`, `min_seed_coverage`
///   (0–1, the smallest fraction of any seed's voxels inside the run's mask), `min_dof`;
///
/// QC-FC's distances are those between the centres of the ROIs of the connectivity stage's
/// matrices (its `desc-roi_centroids.tsv`, written from the atlas the matrices come from), so
/// they always name the same ROIs as the matrices.
///
/// Outputs: `qc.tsv` (one row per scan with every value), `exclusions.tsv` (each excluded scan
/// with the rule, its value and the threshold: no scan is dropped without a row), `qcfc.tsv`
/// (per session and ROI pair: the correlation across scans between mean FD and the edge, its p,
/// and the centroid distance) and `qc_summary.json` (counts; per session, the fraction of edges
/// with p < 0.05 uncorrected and after FDR, the median |QC-FC|, and the correlation of QC-FC
/// with distance; Ciric et al. 2017, Parkes et al. 2018), and `notice.txt`, the count and the
/// first excluded scans, which `pipe run` prints after every run.
///
/// A run `clean` refused (`CleanedScan.Refusal`: censoring left too few degrees of freedom) is
/// excluded whatever the rules, with the rule `clean_min_dof`, its degrees of freedom and
/// `clean`'s `min_dof`.
///
/// The rules are here, in one stage, so that group-level stages apply them by reading it, and a
/// changed threshold reruns this stage and those, never a scan.
public struct QCKind: TypedStageKind {
    public init() {}

    public var name: String { "qc" }
    /// 3: QC-FC's distances from the connectivity stage's ROI centroids (no `atlas` of its own).
    public var version: Int { 3 }
    public var fanOut: FanOut { .group }
    public var upstreamCount: ClosedRange<Int> { 1...2 }

    /// It reads clean's records, not its series: a `keep: false` clean stage is not recomputed for it.
    public func readsInput(named name: String) -> Bool { !CleanedScan.isBulk(name) }

    /// The exclusion rules.
    public struct Parameters: Sendable, Equatable {
        var maxMeanFD: Double?
        var maxCensoredFraction: Double?
        var minKeptVolumes: Int?
        var minSeedCoverage: Double?
        var minDOF: Int?
    }

    public func parameters(_ params: ParameterReader) -> Parameters {
        func optional(_ key: String, _ range: ClosedRange<Double>) -> Double? {
            guard let v = params.value(key) else { return nil }
            guard let n = v.numberValue else { params.report(key, "expected a number, got \(v.typeName)"); return nil }
            return params.check(key, n, in: range) ? n : nil
        }
        func optionalInteger(_ key: String, _ range: ClosedRange<Double>) -> Int? {
            guard let n = optional(key, range) else { return nil }
            guard n.rounded() == n else { params.report(key, "expected a whole number, got \(JSONValue.format(number: n))"); return nil }
            return Int(n)
        }
        if params.value("atlas") != nil {
            params.report("atlas", "QC-FC's distances are between the centres of the connectivity stage's ROIs (its atlas and atlas_labels), "
                          + "so that they name the ROIs of its matrices; remove this key")
        }
        return Parameters(maxMeanFD: optional("max_mean_fd", 0...100), maxCensoredFraction: optional("max_censored_fraction", 0...1),
                          minKeptVolumes: optionalInteger("min_kept_volumes", 0...100_000), minSeedCoverage: optional("min_seed_coverage", 0...1),
                          minDOF: optionalInteger("min_dof", 0...100_000))
    }

    public func methods(stage: StageSpec) -> MethodsText? {
        let p = typed(stage)
        var rules: [String] = []
        if let v = p.maxMeanFD { rules.append("mean framewise displacement above \(JSONValue.format(number: v)) mm") }
        if let v = p.maxCensoredFraction { rules.append("more than \(JSONValue.format(number: v * 100))% of volumes censored") }
        if let v = p.minKeptVolumes { rules.append("fewer than \(v) volumes kept") }
        if let v = p.minSeedCoverage { rules.append("a seed with less than \(JSONValue.format(number: v * 100))% of its voxels in the run's mask") }
        if let v = p.minDOF { rules.append("fewer than \(v) residual degrees of freedom") }
        let excluded = rules.isEmpty ? "No exclusion rule was set." : "Scans were excluded for " + rules.joined(separator: ", or ") + "; each exclusion is listed in qc/exclusions.tsv with its value."
        return MethodsText("Framewise displacement [Power2012], censoring, standardised DVARS and tSNR were recorded per scan. " + excluded
                           + " QC-FC, the correlation across subjects between mean framewise displacement and each ROI-to-ROI edge, was computed per session [Ciric2017; Parkes2018].",
                           references: [MethodsReferences.power, MethodsReferences.ciric, MethodsReferences.parkes])
    }

    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        guard let first = stage.from.first, let up = study.stage(first), up.kind is CleanKind else {
            study.report(stage, "from", "a qc stage reads a clean stage first")
            return
        }
        // Anything else in from would be read by nothing (QC-FC's distances come from the
        // connectivity stage's ROI centroids, not from a cohort's atlas).
        for name in stage.from.dropFirst() {
            guard let other = study.stage(name), !(other.kind is ConnectivityKind) else { continue }
            study.report(stage, "from", "a qc stage reads a clean stage, then optionally a connectivity stage; it would not read "
                         + "\(other.kind.name) stage \(name): remove it")
        }
        let readsConnectivity = stage.from.contains { study.stage($0)?.kind is ConnectivityKind }
        if p.minSeedCoverage != nil && !readsConnectivity {
            study.report(stage, "min_seed_coverage", "seed coverage comes from a connectivity stage: add one to from, or remove the rule")
        }
        // max_mean_fd needs each run's framewise displacement (`ScanQuality.framewiseDisplacement`):
        // the confounds file's framewise_displacement column, or the six motion columns. The survey
        // of the clean stage's runs (their confounds files' column names) says now which lack it;
        // the rule would otherwise stop this stage after every run was cleaned.
        if p.maxMeanFD != nil, let clean = up.kind as? CleanKind {
            var problems = RunProblems()
            let runs = clean.survey(clean.typed(up), stage: up, study: study).runs
            for run in runs {
                switch run.confounds {
                case nil where run.files["confounds"] == nil:
                    problems.add(key: "max_mean_fd", "is set, but a run without a confounds file has no framewise displacement", run: run.label,
                                 detail: run.files["bold"] ?? run.label)
                case .success(let shape):
                    let names = Set(shape.names)
                    if names.contains("framewise_displacement") {
                        if shape.numberlessPastFirstRow.contains("framewise_displacement") {
                            problems.add(key: "max_mean_fd", "is set, but the confounds' framewise_displacement column has no number"
                                         + (clean.typed(up).dummyScans > 0 ? " after the dummy scans" : "") + ", so the run has no mean to compare",
                                         run: run.label, detail: shape.path)
                        }
                    } else if !ConfoundsTable.motionNames.allSatisfy(names.contains) {
                        problems.add(key: "max_mean_fd", "is set, but the confounds have neither framewise_displacement nor the six motion columns ("
                                     + ConfoundsTable.motionNames.joined(separator: ", ") + ") to compute it from", run: run.label, detail: shape.path)
                    } else if let empty = ConfoundsTable.motionNames.first(where: shape.numberlessPastFirstRow.contains) {
                        problems.add(key: "max_mean_fd", "is set, but the confounds have no framewise_displacement column, and their \(empty) "
                                     + "column, from which it would be computed, has no number", run: run.label, detail: shape.path)
                    }
                case nil, .failure:
                    continue  // a missing or unreadable confounds file is reported by the planner or the clean stage's check
                }
            }
            problems.report(stage, study, of: runs.count)
        }
    }

    /// One scan's row.
    struct Row {
        var scope: Scope
        var quality: ScanQuality
        /// Why `clean` refused the run (nil: cleaned); such a run is always excluded.
        var refusal: CleanedScan.Refusal? = nil
        var minSeedCoverage: Double?
        var roi: (names: [String], matrix: [[Double]])?
        /// The connectivity task's table of the ROIs' centres (`ConnectivityKind.centroids`).
        var centroids: URL?
    }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
        var rows: [Row] = []
        for input in context.inputs where input.fromIndex == 0 {
            guard let url = input.files.first(where: { $0.key.hasSuffix(CleanedScan.infoFile) })?.value else {
                throw InputError(path: input.scope.label, "the qc stage's first upstream stage is not a clean stage")
            }
            let info = try CleanedScan.readInfo(url)
            rows.append(Row(scope: input.scope, quality: info.quality, refusal: info.refusal))
        }
        for input in context.inputs where input.fromIndex > 0 {
            guard let i = rows.firstIndex(where: { $0.scope == input.scope }) else { continue }
            if let url = input.files.first(where: { $0.key.hasSuffix(ConnectivityKind.coverageFile) })?.value {
                let table = try TSVTable.read(url.path)
                rows[i].minSeedCoverage = table.rows.compactMap { $0.cells.count > 3 ? Double($0.cells[3]) : nil }.min()
            }
            if let url = input.files.first(where: { $0.key.hasSuffix("_desc-roi_connectivity.tsv") })?.value {
                rows[i].roi = try Self.readMatrix(url.path)
            }
            rows[i].centroids = input.files.first(where: { $0.key.hasSuffix(ConnectivityKind.centroidsFile) })?.value
        }
        rows.sort { $0.scope.label < $1.scope.label }
        let exclusions = try Self.exclusions(rows, p)
        try context.writeOutput("qc.tsv", Array(Self.table(rows, excluded: Set(exclusions.map(\.scope))).utf8))
        var tsv = QCExclusions.columns.joined(separator: "\t") + "\n"
        for e in exclusions {
            tsv += "sub-\(e.scope.subject ?? "")\t\(e.scope.session ?? "n/a")\t\(e.scope.run ?? "n/a")\t\(e.rule)\t\(Self.format(e.value))\t\(Self.format(e.threshold))\n"
        }
        try context.writeOutput("exclusions.tsv", Array(tsv.utf8))
        let qcfc = try Self.qcfc(rows.filter { r in !exclusions.contains { $0.scope == r.scope } })
        try context.writeOutput("qcfc.tsv", Array(qcfc.tsv.utf8))
        let summary = QCSummary(scans: rows.count, excludedScans: Set(exclusions.map(\.scope)).count,
                                exclusionsByRule: Dictionary(grouping: exclusions, by: \.rule).mapValues(\.count),
                                rules: .init(maxMeanFD: p.maxMeanFD, maxCensoredFraction: p.maxCensoredFraction, minKeptVolumes: p.minKeptVolumes,
                                             minSeedCoverage: p.minSeedCoverage, minDOF: p.minDOF),
                                qcfc: qcfc.summary)
        try context.writeOutput("qc_summary.json", try OutputJSON.encode(summary, name: "qc_summary.json"))
        context.log("qc: \(rows.count) scans, \(Set(exclusions.map(\.scope)).count) excluded")
        try context.writeOutput(RunSummary.noticeFile, Array(Self.notice(rows.count, exclusions).utf8))
    }

    /// The line `pipe run` prints after every run: how many scans the rules excluded, the first
    /// few by name with the rule that excluded them.
    static func notice(_ scans: Int, _ exclusions: [Exclusion]) -> String {
        let byScan = Dictionary(grouping: exclusions, by: \.scope).sorted { $0.key < $1.key }
        var text = "\(byScan.count) of \(scans) scans excluded"
        guard !byScan.isEmpty else { return text + "\n" }
        let named = byScan.prefix(5).map { scope, es in
            scope.label + " (" + es.map { "\($0.rule): \(format($0.value)) \($0.rule.hasPrefix("max") ? ">" : "<") \(format($0.threshold))" }.joined(separator: ", ") + ")"
        }
        text += ": " + named.joined(separator: "; ") + (byScan.count > 5 ? "; and \(byScan.count - 5) more" : "")
        return text + "; see qc/exclusions.tsv\n"
    }

    /// An excluded scan: which rule, its value, the threshold.
    struct Exclusion {
        var scope: Scope
        var rule: String
        var value: Double
        var threshold: Double
    }

    /// - Throws: `InputError` when a rule is set but a scan has no value for it (no motion columns
    ///   for `max_mean_fd`, no seed coverage for `min_seed_coverage`): a rule that cannot be
    ///   applied is not silently passed.
    static func exclusions(_ rows: [Row], _ p: Parameters) throws -> [Exclusion] {
        // Every run a rule cannot be applied to, in one error.
        let unappliable: [(field: String, lacks: (Row) -> Bool, what: String)] = [
            ("max_mean_fd", { p.maxMeanFD != nil && $0.quality.meanFD == nil },
             "no framewise displacement (no framewise_displacement column with a number, nor the six motion columns, in the confounds)"),
            ("min_seed_coverage", { p.minSeedCoverage != nil && $0.minSeedCoverage == nil && $0.refusal == nil },
             "no seed coverage recorded by the connectivity stage"),
        ]
        for rule in unappliable {
            let runs = rows.filter(rule.lacks).map(\.scope.label)
            guard !runs.isEmpty else { continue }
            throw InputError(path: runs[0], field: rule.field, "is set, but " + (runs.count == 1 ? "the run has \(rule.what)"
                             : "\(runs.count) runs have \(rule.what): \(runs.listed())"))
        }
        var out: [Exclusion] = []
        for r in rows {
            let q = r.quality
            if let refusal = r.refusal {
                out.append(.init(scope: r.scope, rule: refusal.exclusionRule, value: Double(refusal.value), threshold: Double(refusal.threshold)))
            }
            for broken in motionExclusions(meanFD: q.meanFD, censoredFraction: q.censoredFraction, p) {
                out.append(.init(scope: r.scope, rule: broken.rule, value: broken.value, threshold: broken.threshold))
            }
            if let t = p.minKeptVolumes, q.keptVolumes < t {
                out.append(.init(scope: r.scope, rule: "min_kept_volumes", value: Double(q.keptVolumes), threshold: Double(t)))
            }
            if let t = p.minSeedCoverage, let v = r.minSeedCoverage, v < t {
                out.append(.init(scope: r.scope, rule: "min_seed_coverage", value: v, threshold: t))
            }
            if let t = p.minDOF, q.residualDegreesOfFreedom < t {
                out.append(.init(scope: r.scope, rule: "min_dof", value: Double(q.residualDegreesOfFreedom), threshold: Double(t)))
            }
        }
        return out
    }

    /// The rules a run's motion breaks (max_mean_fd, max_censored_fraction): values its confounds
    /// file alone gives, so the spec check foresees them with these same comparisons.
    static func motionExclusions(meanFD: Double?, censoredFraction: Double, _ p: Parameters) -> [(rule: String, value: Double, threshold: Double)] {
        var out: [(rule: String, value: Double, threshold: Double)] = []
        if let t = p.maxMeanFD, let v = meanFD, v > t { out.append(("max_mean_fd", v, t)) }
        if let t = p.maxCensoredFraction, censoredFraction > t { out.append(("max_censored_fraction", censoredFraction, t)) }
        return out
    }

    /// The runs of its clean stage that the qc stage `qc` will exclude for motion, by label, with
    /// the rules they break ("max_mean_fd 0.57 (threshold 0.5)"): computed from each run's
    /// confounds file as `clean` computes the values (``ScanQuality/meanFD(_:)``,
    /// ``ScanQuality/censoredFraction(_:volumes:)``), so a group-level stage's check can count
    /// the subjects QC leaves it. Seed coverage and degrees of freedom are known only once runs
    /// are cleaned, so more runs may be excluded, never fewer. Once per study.
    static func foreseenExclusions(_ qc: StageSpec, study: StudyCheck) -> [String: String] {
        let p = QCKind().typed(qc)
        guard p.maxMeanFD != nil || p.maxCensoredFraction != nil, let name = qc.from.first, let clean = study.stage(name),
              let kind = clean.kind as? CleanKind else { return [:] }
        let cp = kind.typed(clean)
        // The survey first: it is memoised too, and memo calls do not nest.
        let runs = kind.survey(cp, stage: clean, study: study).runs
        return study.memo("qc.foreseenExclusions." + qc.name) {
            // Each run's confounds file is read as cleaning reads it, but only the columns motion
            // is measured from: on all cores.
            let verdicts = parallelMap(runs.count, block: 8) { k -> String? in
                let run = runs[k]
                guard let total = try? ScanLoader.checkShape(run.request, header: run.header).total, total > cp.dummyScans else { return nil }
                var confounds: ConfoundsTable?
                if let path = run.files["confounds"].map(study.path) {  // as cleaning reads it (the survey's request has none)
                    guard let table = try? ConfoundsTable.read(path, only: ScanQuality.motionColumns),
                          let trimmed = try? ScanLoader.trimmed(table, path: path, bold: run.request.bold, total: total, dummyScans: cp.dummyScans)
                    else { return nil }  // reported by the clean stage's check
                    confounds = trimmed
                }
                guard let mask = try? CleanKind.sampleMask(cp, confounds: confounds, bold: run.request.bold) else { return nil }
                let broken = motionExclusions(meanFD: ScanQuality.meanFD(ScanQuality.framewiseDisplacement(confounds)),
                                              censoredFraction: ScanQuality.censoredFraction(mask, volumes: total - cp.dummyScans), p)
                return broken.isEmpty ? nil : broken.map { "\($0.rule) \(format($0.value)) (threshold \(format($0.threshold)))" }.joined(separator: ", ")
            }
            var out: [String: String] = [:]
            for (run, verdict) in zip(runs, verdicts) { out[run.label] = verdict }
            return out
        }
    }

    static func format(_ v: Double?) -> String {
        guard let v else { return "n/a" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.6g", v)
    }

    static func table(_ rows: [Row], excluded: Set<Scope>) -> String {
        var out = "participant_id\tsession\trun\tmean_fd\tmedian_fd\tmax_fd\tvolumes\tkept_volumes\tcensored_volumes\tcensored_fraction\t"
            + "mean_std_dvars_before\tmean_std_dvars_after\tmedian_tsnr\tresidual_dof\tmin_seed_coverage\texcluded\n"
        for r in rows {
            let q = r.quality
            let cells: [String] = ["sub-\(r.scope.subject ?? "")", r.scope.session ?? "n/a", r.scope.run ?? "n/a",
                                   format(q.meanFD), format(q.medianFD), format(q.maxFD), String(q.volumes), String(q.keptVolumes),
                                   String(q.censoredVolumes), format(q.censoredFraction), format(q.meanStdDVARSBefore),
                                   format(q.meanStdDVARSAfter), format(q.medianTSNR), String(q.residualDegreesOfFreedom),
                                   format(r.minSeedCoverage), excluded.contains(r.scope) ? "yes" : "no"]
            out += cells.joined(separator: "\t") + "\n"
        }
        return out
    }

    /// A connectivity stage's ROI-to-ROI matrix TSV.
    static func readMatrix(_ path: String) throws -> (names: [String], matrix: [[Double]]) {
        let table = try TSVTable.read(path)
        let names = Array(table.header.dropFirst())
        let matrix = table.rows.map { $0.cells.dropFirst().map { Double($0) ?? .nan } }
        guard matrix.count == names.count, matrix.allSatisfy({ $0.count == names.count }) else {
            throw InputError(path: path, "is not a square ROI matrix")
        }
        return (names, matrix)
    }

    /// A connectivity task's ROI centres (`ConnectivityKind.centroids`): name → (x, y, z) mm.
    static func readCentroids(_ path: String) throws -> [String: [Double]] {
        let table = try TSVTable.read(path)
        guard table.header == ["roi", "x", "y", "z"] else { throw InputError(path: path, "is not a table of ROI centroids (roi, x, y, z)") }
        var out: [String: [Double]] = [:]
        for row in table.rows {
            let xyz = row.cells.dropFirst().compactMap(Double.init)
            guard row.cells.count == 4, xyz.count == 3 else { throw InputError(path: path, field: "line \(row.line)", "expected an ROI name and three numbers") }
            out[row.cells[0]] = xyz
        }
        return out
    }

    /// QC-FC per session: for each ROI pair, the correlation across scans between mean FD and
    /// the edge's correlation.
    static func qcfc(_ rows: [Row]) throws -> (tsv: String, summary: [String: QCSummary.QCFC]) {
        var tsv = "session\troi_a\troi_b\tqcfc_r\tqcfc_p\tdistance_mm\n"
        var summary: [String: QCSummary.QCFC] = [:]
        let sessions = Array(Set(rows.map { $0.scope.session ?? "" })).sorted()
        for session in sessions {
            let scans = rows.filter { ($0.scope.session ?? "") == session && $0.roi != nil && $0.quality.meanFD != nil }
            guard scans.count >= 4, let names = scans.first?.roi?.names, scans.allSatisfy({ $0.roi!.names == names }) else { continue }
            let fd = scans.map { $0.quality.meanFD! }
            // The ROIs' centres: the same on every run of one grid; read from the first scan's.
            let centroids = try scans.lazy.compactMap(\.centroids).first.map { try readCentroids($0.path) }
            var rs: [Double] = [], ps: [Double] = [], distances: [Double] = []
            for a in 0..<names.count {
                for b in (a + 1)..<names.count {
                    let edge = scans.map { $0.roi!.matrix[a][b] }
                    guard let test = try? CorrelationTest.pearson(fd, edge) else { continue }
                    var distance: Double?
                    if let ca = centroids?[names[a]], let cb = centroids?[names[b]] {
                        distance = zip(ca, cb).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    }
                    rs.append(test.r); ps.append(test.p)
                    if let distance { distances.append(distance) }
                    tsv += "\(session.isEmpty ? "n/a" : session)\t\(names[a])\t\(names[b])\t\(format(test.r))\t\(format(test.p))\t\(format(distance))\n"
                }
            }
            guard !rs.isEmpty else { continue }
            let q = BenjaminiHochberg.qValues(ps)
            var s = QCSummary.QCFC(scans: scans.count, edges: rs.count,
                                   fractionSignificantUncorrected: Double(ps.filter { $0 < 0.05 }.count) / Double(ps.count),
                                   fractionSignificantFDR: Double(q.filter { $0 < 0.05 }.count) / Double(q.count),
                                   medianAbsQCFC: ScanQuality.median(rs.map(abs)) ?? 0)
            if distances.count == rs.count, let d = try? CorrelationTest.pearson(distances, rs) {
                s.distanceDependenceR = d.r
                s.distanceDependenceP = d.p
            }
            summary[session.isEmpty ? "all" : session] = s
        }
        return (tsv, summary)
    }
}
