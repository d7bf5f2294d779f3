import Foundation
import Numerics
import PipelineEngine

/// The `roi` stage's tables and summary: scatter data, paired tests, correlations, prediction.
extension ROIKind {
    func writeOutputs(_ values: [ROIRegionValues], p: Parameters, subjects: [String], table: ParticipantsTable, context: TaskContext,
                      prefix: String, excluded: [String]?, noPre: [String], runs: [String: [String: [String]]]?) throws {
        let report = ROIReport(p: p, subjects: subjects, table: table)
        var long = "participant_id\tregion\tsession\tvalue\tregion_definition\n"
        var paired = "region\tsubjects\tn\tmean_\(p.pre)\tmean_\(p.post)\tmean_change\tsd_change\tt\tdf\tp\tcohen_dz\tci95_low\tci95_high\n"
        var correlations = "region\tx\ty\tn\tpearson_r\tpearson_p\tspearman_rho\tspearman_p\n"
        var prediction = "region\tcolumn\tpositive\tsession\tn_positive\tn_negative\tauc\tse_delong\tci95_low\tci95_high\tpermutation_p\tpermutations\tvalues\tin_sample_auc\n"
        var summaries: [ROISummary.Region] = []
        for v in values {
            var regionSummary = ROISummary.Region(name: v.region.name, source: v.region.source, definition: v.region.note,
                                                  leaveOneOutSubjects: v.region.perSubject.keys.sorted().map { "sub-\($0)" },
                                                  leaveOneOutWithoutRegion: v.region.perSubject.filter { $0.value == nil }.keys.sorted().map { "sub-\($0)" },
                                                  correlations: [])
            let (scatter, rows) = try report.scatter(v)
            try context.writeOutput("\(prefix)_roi-\(BIDSNames.label(v.region.name))_desc-scatter.tsv", Array(scatter.utf8))
            long += rows
            if !p.post.isEmpty {
                let (rows, tests) = try report.pairedTests(v)
                paired += rows
                regionSummary.paired = tests
            }
            let (correlationRows, correlationSummary) = try report.correlations(v)
            correlations += correlationRows
            regionSummary.correlations = correlationSummary
            if let predict = p.predict {
                let (row, result) = try report.prediction(v, predict: predict)
                prediction += row
                regionSummary.prediction = result
            }
            summaries.append(regionSummary)
        }
        try context.writeOutput("\(prefix)_desc-values.tsv", Array(long.utf8))
        if !p.post.isEmpty { try context.writeOutput("\(prefix)_desc-paired.tsv", Array(paired.utf8)) }
        if !p.clinical.isEmpty { try context.writeOutput("\(prefix)_desc-correlations.tsv", Array(correlations.utf8)) }
        if p.predict != nil { try context.writeOutput("\(prefix)_desc-prediction.tsv", Array(prediction.utf8)) }
        let summary = ROISummary(seed: p.seed, pre: p.pre, post: p.post, subjects: subjects.map { "sub-\($0)" }, regions: summaries,
                                 excludedByQC: excluded, noMapAtPre: noPre, runs: runs, resample: p.resampling)
        let name = "\(prefix)_summary.json"
        try context.writeOutput(name, try OutputJSON.encode(summary, name: name))
    }
}

/// The statistics of one `roi` task, region by region, as TSV rows and typed summaries.
struct ROIReport {
    let p: ROIKind.Parameters
    let subjects: [String]
    let table: ParticipantsTable

    private var pre: String { p.pre }
    private var post: String { p.post }

    private func cell(_ s: String, _ column: String) throws -> String? { try table.value(s, column) }

    private func number(_ s: String, _ column: String) throws -> Double? {
        guard let text = try cell(s, column) else { return nil }
        guard let v = Double(text), v.isFinite else {
            throw InputError(path: table.path, field: column, "sub-\(s) has '\(text)'; expected a number")
        }
        return v
    }

    /// The region's scatter table (one row per subject: the group and prediction columns, the
    /// values, the clinical columns, how the region was defined) and its rows of the long table.
    func scatter(_ v: ROIRegionValues) throws -> (table: String, long: String) {
        let group = p.group.isEmpty ? nil : p.group
        let extra = [group, p.predict?.column].compactMap { $0 }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        // With leave-one-out regions, also each subject's value in the region found on everyone
        // (the circular value), so that the honest and the circular ROC curves can be drawn.
        let circular = !v.region.perSubject.isEmpty
        var scatter = (["participant_id"] + extra + [pre] + (post.isEmpty ? [] : [post, "change"]) + p.clinical + ["region_definition"]
                       + (circular ? ["\(pre)_in_sample"] : []))
            .joined(separator: "\t") + "\n"
        var long = ""
        for (i, s) in subjects.enumerated() {
            let how = v.region.perSubject[s] != nil ? "leave-one-out" : "fixed"
            let change = zip2(v.pre[i], v.post[i]).map { $1 - $0 }
            scatter += (["sub-\(s)"] + (try extra.map { try cell(s, $0) ?? "n/a" }) + [fmt(v.pre[i])]
                + (post.isEmpty ? [] : [fmt(v.post[i]), fmt(change)]) + (try p.clinical.map { try cell(s, $0) ?? "n/a" }) + [how]
                + (circular ? [fmt(v.inSamplePre[i])] : []))
                .joined(separator: "\t") + "\n"
            long += "sub-\(s)\t\(v.region.name)\t\(pre)\t\(fmt(v.pre[i]))\t\(how)\n"
            if !post.isEmpty { long += "sub-\(s)\t\(v.region.name)\t\(post)\t\(fmt(v.post[i]))\t\(how)\n" }
        }
        return (scatter, long)
    }

    /// Paired tests of post − pre: everyone, then each level of the group column.
    func pairedTests(_ v: ROIRegionValues) throws -> (rows: String, summary: [ROISummary.Paired]) {
        let name = v.region.name
        var subsets: [(String, [Int])] = [("all", Array(subjects.indices))]
        if !p.group.isEmpty {
            let levels = try Set(subjects.compactMap { try cell($0, p.group) }).sorted()
            for level in levels { subsets.append((level, try subjects.indices.filter { try cell(subjects[$0], p.group) == level })) }
        }
        var rows = "", summary: [ROISummary.Paired] = []
        for (label, members) in subsets {
            let complete = members.filter { v.pre[$0] != nil && v.post[$0] != nil }
            guard complete.count >= 2, let test = try? PairedTTest(pre: complete.map { v.pre[$0]! }, post: complete.map { v.post[$0]! }) else {
                rows += "\(name)\t\(label)\t\(complete.count)" + String(repeating: "\tn/a", count: 10) + "\n"
                continue
            }
            let meanPre = complete.reduce(0) { $0 + v.pre[$1]! } / Double(complete.count)
            let meanPost = complete.reduce(0) { $0 + v.post[$1]! } / Double(complete.count)
            rows += [name, label, String(test.n), fmt(meanPre), fmt(meanPost), fmt(test.meanDifference), fmt(test.sdDifference),
                     fmt(test.t), String(test.df), fmt(test.p), fmt(test.dz), fmt(test.ci95.lower), fmt(test.ci95.upper)]
                .joined(separator: "\t") + "\n"
            summary.append(ROISummary.Paired(subjects: label, n: test.n, meanChange: test.meanDifference, t: test.t, p: test.p, cohenDz: test.dz))
        }
        return (rows, summary)
    }

    /// Correlations of the change (and the pre value) with each clinical column.
    func correlations(_ v: ROIRegionValues) throws -> (rows: String, summary: [ROISummary.Correlation]) {
        let name = v.region.name
        var rows = "", summary: [ROISummary.Correlation] = []
        for column in p.clinical {
            let scores = try subjects.map { try number($0, column) }
            var xs: [(String, [Double?])] = [(pre, v.pre)]
            if !post.isEmpty { xs.insert(("change", subjects.indices.map { zip2(v.pre[$0], v.post[$0]).map { $1 - $0 } }), at: 0) }
            for (xName, x) in xs {
                let kept = subjects.indices.filter { x[$0] != nil && scores[$0] != nil }
                let a = kept.map { x[$0]! }, b = kept.map { scores[$0]! }
                guard let r = try? CorrelationTest.pearson(a, b), let rho = try? CorrelationTest.spearman(a, b) else {
                    rows += "\(name)\t\(xName)\t\(column)\t\(kept.count)\tn/a\tn/a\tn/a\tn/a\n"
                    continue
                }
                rows += [name, xName, column, String(kept.count), fmt(r.r), fmt(r.p), fmt(rho.r), fmt(rho.p)].joined(separator: "\t") + "\n"
                summary.append(ROISummary.Correlation(x: xName, y: column, n: kept.count, pearsonR: r.r, pearsonP: r.p,
                                                      spearmanRho: rho.r, spearmanP: rho.p))
            }
        }
        return (rows, summary)
    }

    /// The prediction TSV row and summary of one region: ROC AUC of the value at one session for
    /// the positive class, out of sample when the region values are leave-one-out.
    func prediction(_ v: ROIRegionValues, predict: ROIKind.Predict) throws -> (String, ROISummary.Prediction) {
        let permutations = p.permutations, seed = p.randomSeed
        let column = predict.column, positive = predict.positive
        let session = predict.session ?? pre
        let sign: Double = predict.lower ? -1 : 1
        let x = session == post ? v.post : v.pre
        let labels = try subjects.map { try cell($0, column) }
        let rows = subjects.indices.filter { x[$0] != nil && labels[$0] != nil }
        let head = "\(v.region.name)\t\(column)\t\(positive)\t\(session)"
        guard Set(rows.map { labels[$0] == positive }).count == 2 else {
            return (head + String(repeating: "\tn/a", count: 10) + "\n", .notFitted(note: "needs values in both classes"))
        }
        let roc = try ROCAnalysis(scores: rows.map { sign * x[$0]! }, positive: rows.map { labels[$0] == positive },
                                  permutations: permutations, seed: seed)
        let looUsed = rows.contains { v.region.perSubject[subjects[$0]] != nil }
        var inSample: Double? = nil
        if looUsed && session == pre {
            let r = rows.filter { v.inSamplePre[$0] != nil }
            inSample = try? ROCAnalysis(scores: r.map { sign * v.inSamplePre[$0]! }, positive: r.map { labels[$0] == positive }, permutations: 0).auc
        }
        let how = looUsed ? "leave-one-out region values (the region was defined on these subjects)" : "fixed region values"
        let row = [head, String(roc.positives), String(roc.negatives), fmt(roc.auc), fmt(roc.standardError), fmt(roc.ci95.lower),
                   fmt(roc.ci95.upper), fmt(roc.permutationP), String(roc.permutations), how, inSample.map(fmt) ?? "n/a"]
            .joined(separator: "\t") + "\n"
        return (row, .fitted(.init(column: column, positive: positive, session: session, direction: predict.lower ? "lower" : "higher", auc: roc.auc, ci95: [roc.ci95.lower, roc.ci95.upper],
                                   permutationP: roc.permutationP, values: how, inSampleAUCCircular: inSample)))
    }
}

private func zip2(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}

private func fmt(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "n/a" }
