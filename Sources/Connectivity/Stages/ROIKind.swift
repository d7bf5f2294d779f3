import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `roi`: follow-up of regions found voxelwise — per-subject values at two sessions,
/// the paired change, its relation to clinical change, and baseline prediction of response.
///
/// Reads a `connectivity` stage (`from[0]`), the participants table (`participants`, or a
/// `synth_cohort` stage in `from`) and, for cluster regions, a `group` stage in `from`.
/// Parameters:
/// - `seed`, `pre` (required), `post` (optional: without it only baseline analyses are made);
/// - `regions` (required): a list of `{"name": …}` objects, each with one of
///   - `"cluster": k`: significant cluster k (by decreasing mass) of the group stage's contrast
///     `"contrast"` (default: its first contrast);
///   - `"label"`: an atlas label (`atlas`/`atlas_labels`, or the synth_cohort atlas);
///   - `"sphere": [x, y, z]` (MNI mm) with `"radius"` in mm (nilearn's sphere rule);
///   - `"mask"`: a mask image (non-zero voxels; resampled nearest-neighbour to the maps' grid);
/// - `include`: participants filters; `group`: a column whose levels also get their own paired tests;
/// - `clinical`: numeric columns correlated (Pearson and Spearman) with the change and with the
///   pre value, e.g. `["madrs_change_pct"]`;
/// - `predict`: `{"column": "responder", "positive": "responder"}`, with optional `"session"`
///   (default `pre`) and `"direction"` (`higher`, the default: the positive class scores higher,
///   or `lower`): ROC AUC with a DeLong 95% CI and a permutation p;
/// - `leave_one_out`: `auto` (default) or `off`. With `auto`, a cluster defined by a group stage
///   on some of these subjects is redefined without each of them (`LeaveOneOutROI`), so no
///   subject's value is selected by its own data; the outputs say which values are
///   leave-one-out, and the prediction also reports the circular in-sample AUC for comparison;
/// - `permutations` (5000), `random_seed` (0).
///
/// A region value is the mean of the subject's Fisher z map over the region's voxels that the
/// map covers (non-zero). Outputs, prefixed `roi_seed-<s>`: `desc-values.tsv` (long format),
/// `roi-<name>_desc-scatter.tsv` (one row per subject: the data behind the scatter plots),
/// `desc-paired.tsv`, `desc-correlations.tsv`, `desc-prediction.tsv` and `summary.json`.
public struct ROIKind: StageKind {
    public init() {}

    public var name: String { "roi" }
    public var version: Int { 1 }
    public var fanOut: FanOut { .group }
    public var upstreamCount: ClosedRange<Int> { 1...3 }

    public func readParameters(_ params: ParameterReader) {
        params.string("seed")
        params.string("pre")
        params.string("post", default: "")
        params.string("participants", default: "")
        params.string("atlas", default: "")
        params.string("atlas_labels", default: "")
        StageInputs.declareInclude(params)
        params.string("group", default: "")
        params.strings("clinical", default: [])
        let regions = params.value("regions")?.arrayValue ?? []
        if regions.isEmpty { params.report("regions", "expected a list of regions, e.g. [{\"name\": \"cluster1\", \"cluster\": 1}]") }
        var names = Set<String>()
        for (i, region) in regions.enumerated() {
            guard let object = region.objectValue, let name = object["name"]?.stringValue, !name.isEmpty else {
                params.report("regions[\(i)]", "expected an object with a name"); continue
            }
            if !names.insert(name).inserted { params.report("regions[\(i)].name", "'\(name)' is used twice") }
            let sources = ["cluster", "label", "sphere", "mask"].filter { object[$0] != nil }
            if sources.count != 1 {
                params.report("regions[\(i)]", "give exactly one of cluster, label, sphere (with radius) or mask")
            }
            if object["cluster"] != nil, (object["cluster"]?.intValue ?? 0) < 1 { params.report("regions[\(i)].cluster", "expected a cluster number ≥ 1") }
            if object["sphere"] != nil {
                if object["sphere"]?.arrayValue?.compactMap(\.numberValue).count != 3 { params.report("regions[\(i)].sphere", "expected [x, y, z] in mm") }
                if (object["radius"]?.numberValue ?? 0) <= 0 { params.report("regions[\(i)].radius", "expected a radius in mm > 0") }
            }
            for key in object.keys where !["name", "cluster", "contrast", "label", "sphere", "radius", "mask"].contains(key) {
                params.report("regions[\(i)].\(key)", "unknown key")
            }
        }
        if let predict = params.value("predict") {
            if predict["column"]?.stringValue == nil || predict["positive"]?.stringValue == nil {
                params.report("predict", "expected {\"column\": …, \"positive\": …}")
            }
            if let d = predict["direction"]?.stringValue, !["higher", "lower"].contains(d) {
                params.report("predict.direction", "expected higher or lower")
            }
        }
        let loo = params.string("leave_one_out", default: "auto")
        if !["auto", "off"].contains(loo) { params.report("leave_one_out", "expected auto or off") }
        params.integer("permutations", default: 5000, range: 0...1_000_000)
        params.integer("random_seed", default: 0, range: 0...Int(Int32.max))
    }

    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] {
        var out = InferenceSettings.sources(params)
        for (i, region) in (params["regions"]?.arrayValue ?? []).enumerated() {
            if let mask = region["mask"]?.stringValue { out["region\(i)_mask"] = mask }
        }
        return out
    }

    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { 1 << 30 }

    public func run(_ context: TaskContext) throws {
        let p = context.params
        let seed = p["seed"]?.stringValue ?? ""
        let pre = p["pre"]?.stringValue ?? "", post = p["post"]?.stringValue ?? ""
        let table = try StageInputs.participants(context, stage: "roi")
        let preURLs = try StageInputs.zMaps(context, seed: seed, session: pre)
        let postURLs = post.isEmpty ? [:] : try StageInputs.zMaps(context, seed: seed, session: post)
        let subjects = try StageInputs.filter(preURLs.keys.sorted(), include: p["include"], table: table)
        guard !subjects.isEmpty else { throw InputError(path: table.path, "no subject has a \(pre) map for seed \(seed) after filtering") }

        // Every subject's maps on the first map's grid.
        let first = try NIfTIFile.read(preURLs[subjects[0]]!.path)
        let shape = Array(first.shape.prefix(3)), affine = first.affine
        func load(_ url: URL?) throws -> [Float]? {
            guard let url else { return nil }
            let image = try NIfTIFile.read(url.path)
            guard Array(image.shape.prefix(3)) == shape, image.affine.isClose(to: affine, tolerance: 1e-4) else {
                throw InputError(path: url.path, field: "grid", "differs from \(preURLs[subjects[0]]!.path)'s \(shape)")
            }
            return image.data
        }
        var preData: [[Float]] = [], postData: [[Float]?] = []
        for s in subjects {
            preData.append(try load(preURLs[s])!)
            postData.append(try load(postURLs[s]))
        }
        func mean(_ map: [Float]?, _ voxels: [Int]) -> Double? {
            guard let map else { return nil }
            var sum = 0.0, count = 0
            for v in voxels where map[v] != 0 && map[v].isFinite { sum += Double(map[v]); count += 1 }
            return count > 0 ? sum / Double(count) : nil
        }

        let regions = try (p["regions"]?.arrayValue ?? []).enumerated().map { i, spec in
            try resolve(spec, index: i, context: context, table: table, subjects: subjects, shape: shape, affine: affine)
        }
        var values: [RegionValues] = []
        for region in regions {
            try context.checkCancellation()
            var v = RegionValues(region: region, pre: [], post: [], inSamplePre: [])
            for (i, s) in subjects.enumerated() {
                let voxels = region.perSubject[s] ?? region.voxels
                v.pre.append(voxels.flatMap { mean(preData[i], $0) })
                v.post.append(voxels.flatMap { mean(postData[i], $0) })
                v.inSamplePre.append(mean(preData[i], region.voxels ?? []))
            }
            values.append(v)
        }
        try writeOutputs(values, subjects: subjects, table: table, context: context, prefix: "roi_seed-\(seed)", pre: pre, post: post)
    }

    /// A region: fixed voxels, or per-subject leave-one-out voxels for some subjects.
    struct Region {
        var name: String
        var source: String
        /// Grid indices (nil: none, e.g. a fold without the cluster).
        var voxels: [Int]?
        /// Leave-one-out regions of the subjects the cluster was defined on.
        var perSubject: [String: [Int]?] = [:]
        var note: String
    }

    struct RegionValues {
        var region: Region
        var pre: [Double?]
        var post: [Double?]
        /// Values in the original (fixed) region, for the circular comparison.
        var inSamplePre: [Double?]
    }

    private func resolve(_ spec: JSONValue, index: Int, context: TaskContext, table: ParticipantsTable, subjects: [String],
                         shape: [Int], affine: Affine) throws -> Region {
        let name = spec["name"]?.stringValue ?? "region\(index + 1)"
        let total = shape.reduce(1, *)
        if let label = spec["label"]?.stringValue {
            guard let atlas = try StageInputs.atlas(context) else {
                throw InputError(path: "stage roi", field: "regions[\(index)].label", "no atlas: set atlas and atlas_labels")
            }
            let value = try atlas.value(of: label)
            let onGrid = atlas.resampled(to: shape, affine: affine)
            return Region(name: name, source: "atlas label \(label)", voxels: (0..<total).filter { onGrid[$0] == value },
                          note: "fixed region")
        }
        if let centre = spec["sphere"]?.arrayValue?.compactMap(\.numberValue), let radius = spec["radius"]?.numberValue {
            return Region(name: name, source: "sphere \(centre) r \(radius) mm",
                          voxels: SeedGeometry.sphere(centre: centre, radius: radius, shape: shape, affine: affine), note: "fixed region")
        }
        if spec["mask"] != nil, let url = context.sources["region\(index)_mask"] {
            let image = try NIfTIFile.read(url.path)
            let resampled = SeedGeometry.resampleNearest(image.data, shape: Array(image.shape.prefix(3)), affine: image.affine, to: shape, affine: affine)
            let voxels = (0..<total).filter { resampled[$0] != 0 }
            guard !voxels.isEmpty else { throw InputError(path: url.path, field: "regions[\(index)].mask", "has no voxel on the maps' grid") }
            return Region(name: name, source: "mask \(url.lastPathComponent)", voxels: voxels, note: "fixed region")
        }
        return try cluster(spec, name: name, index: index, context: context, table: table, subjects: subjects, shape: shape, affine: affine)
    }

    /// A significant cluster of a group stage, redefined per held-out subject when circular.
    private func cluster(_ spec: JSONValue, name: String, index: Int, context: TaskContext, table: ParticipantsTable,
                         subjects: [String], shape: [Int], affine: Affine) throws -> Region {
        let field = "regions[\(index)].cluster"
        guard let files = context.inputs.first(where: { $0.files.keys.contains { $0.hasPrefix("group_") && $0.hasSuffix("_summary.json") } })?.files,
              let summaryURL = files.first(where: { $0.key.hasPrefix("group_") && $0.key.hasSuffix("_summary.json") })?.value else {
            throw InputError(path: "stage roi", field: field, "a cluster region needs a group stage in from")
        }
        guard let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: summaryURL)) as? [String: Any],
              let contrasts = summary["contrasts"] as? [[String: Any]], let groupSeed = summary["seed"] as? String,
              let groupSession = summary["session"] as? String, let groupSubjects = summary["subjects"] as? [String] else {
            throw InputError(path: summaryURL.path, "is not a group stage summary")
        }
        let wanted = spec["contrast"]?.stringValue
        guard let contrast = contrasts.first(where: { wanted == nil || ($0["contrast"] as? String) == wanted }),
              let expression = contrast["contrast"] as? String else {
            throw InputError(path: summaryURL.path, field: "regions[\(index)].contrast",
                             "no contrast '\(wanted ?? "")' (contrasts: \(contrasts.compactMap { $0["contrast"] as? String }.joined(separator: ", ")))")
        }
        let k = spec["cluster"]?.intValue ?? 1
        let significant = contrast["significant_clusters"] as? [[String: Any]] ?? []
        guard let info = significant.first(where: { ($0["id"] as? Int) == k }), let sign = info["sign"] as? Int else {
            // Not an error: editing the cohort can make a finding disappear, and the run should say so.
            context.log("\(name): contrast '\(expression)' has no significant cluster \(k)")
            return Region(name: name, source: "cluster \(k) of \(expression)", voxels: nil,
                          note: "absent: contrast '\(expression)' has \(significant.count) significant cluster(s), so no cluster \(k)")
        }
        let prefix = summaryURL.lastPathComponent.replacingOccurrences(of: "_summary.json", with: "")
        let dsegName = "\(prefix)_contrast-\(VoxelwiseInference.label(expression))_desc-clusters_dseg.nii.gz"
        guard let dsegURL = files[dsegName] else { throw InputError(path: summaryURL.path, field: field, "the group stage has no \(dsegName)") }
        let dseg = try NIfTIFile.read(dsegURL.path)
        let labels = SeedGeometry.resampleNearest(dseg.data, shape: Array(dseg.shape.prefix(3)), affine: dseg.affine, to: shape, affine: affine)
        let voxels = (0..<labels.count).filter { labels[$0] == Float(k) }
        let source = "cluster \(k) of \(expression) (seed \(groupSeed)\(groupSession.isEmpty ? "" : ", \(groupSession)"), \(groupSubjects.count) subjects)"
        let shared = Set(groupSubjects).intersection(subjects)
        guard context.params["leave_one_out"]?.stringValue != "off", !shared.isEmpty else {
            return Region(name: name, source: source, voxels: voxels,
                          note: shared.isEmpty ? "fixed region: defined on other subjects"
                              : "circular: the region was defined on \(shared.count) of these subjects and leave_one_out is off")
        }

        // Leave-one-out: refit the group's model without each shared subject.
        let design = summary["design"] as? [String: Any] ?? [:]
        let designSpec = GroupDesign.Spec(group: design["group"] as? String, covariates: design["covariates"] as? [String] ?? [],
                                          interactions: design["interactions"] as? [String] ?? [])
        let urls = try StageInputs.zMaps(context, seed: groupSeed, session: groupSession)
        let missing = groupSubjects.filter { urls[$0] == nil }
        guard missing.isEmpty else {
            throw InputError(path: summaryURL.path, field: field, "the connectivity stage has no \(groupSeed) map for sub-\(missing[0]); read the group stage's connectivity stage")
        }
        let maps = try GroupMaps.load([groupSubjects.map { urls[$0]! }], coverage: summary["mask_coverage"] as? Double ?? 1,
                                      resampling: GroupMaps.Resampling(rawValue: summary["resample"] as? String ?? "none") ?? .none)
        guard maps.shape == shape, maps.affine.isClose(to: affine, tolerance: 1e-4) else {
            throw InputError(path: summaryURL.path, field: field, "the group maps' grid differs from this stage's maps")
        }
        // The cluster's rank by mass among the significant clusters of its sign.
        let mass = info["mass"] as? Double ?? 0
        let rank = significant.filter { ($0["sign"] as? Int) == sign && ($0["mass"] as? Double ?? 0) > mass }.count
        let loo = LeaveOneOutROI(y: maps.sets[0], grid: maps.grid, clusterP: summary["cluster_p"] as? Double ?? 0.001,
                                 twoSided: summary["two_sided"] as? Bool ?? true,
                                 connectivity: VoxelConnectivity(rawValue: summary["connectivity"] as? Int ?? 6) ?? .faces) { heldOut in
            let rest = groupSubjects.enumerated().filter { $0.offset != heldOut }.map(\.element)
            let d = try GroupDesign(designSpec, subjects: rest, table: table)
            return (d.matrix, try d.contrast(expression))
        }
        var perSubject: [String: [Int]?] = [:]
        for (i, s) in groupSubjects.enumerated() where shared.contains(s) {
            try context.checkCancellation()
            perSubject[s] = try loo.region(heldOut: i, sign: sign, rank: rank)
                .map { $0.map { maps.voxels[$0] } }
        }
        let lost = perSubject.filter { $0.value == nil }.keys.sorted()
        return Region(name: name, source: source, voxels: voxels, perSubject: perSubject,
                      note: "leave-one-out: the region was defined on \(shared.count) of these subjects, so each of them gets the "
                          + "cluster refitted without them" + (lost.isEmpty ? "" : "; no such cluster without sub-\(lost.joined(separator: ", sub-"))"))
    }

    private func writeOutputs(_ values: [RegionValues], subjects: [String], table: ParticipantsTable, context: TaskContext,
                              prefix: String, pre: String, post: String) throws {
        let p = context.params
        let group = (p["group"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 }
        let clinical = p["clinical"]?.arrayValue?.compactMap(\.stringValue) ?? []
        func cell(_ s: String, _ column: String) throws -> String? { try table.value(s, column) }
        func number(_ s: String, _ column: String) throws -> Double? {
            guard let text = try cell(s, column) else { return nil }
            guard let v = Double(text), v.isFinite else {
                throw InputError(path: table.path, field: column, "sub-\(s) has '\(text)'; expected a number")
            }
            return v
        }
        let predictColumn = p["predict"]?["column"]?.stringValue
        var long = "participant_id\tregion\tsession\tvalue\tregion_definition\n"
        var paired = "region\tsubjects\tn\tmean_\(pre)\tmean_\(post)\tmean_change\tsd_change\tt\tdf\tp\tcohen_dz\tci95_low\tci95_high\n"
        var correlations = "region\tx\ty\tn\tpearson_r\tpearson_p\tspearman_rho\tspearman_p\n"
        var prediction = "region\tcolumn\tpositive\tsession\tn_positive\tn_negative\tauc\tse_delong\tci95_low\tci95_high\tpermutation_p\tpermutations\tvalues\tin_sample_auc\n"
        var summaries: [[String: Any]] = []
        for v in values {
            let name = v.region.name
            var regionSummary: [String: Any] = ["name": name, "source": v.region.source, "definition": v.region.note,
                                                "leave_one_out_subjects": v.region.perSubject.keys.sorted().map { "sub-\($0)" }]
            // Scatter data, one row per subject.
            let extra = [group, predictColumn].compactMap { $0 }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            var scatter = (["participant_id"] + extra + [pre] + (post.isEmpty ? [] : [post, "change"]) + clinical + ["region_definition"])
                .joined(separator: "\t") + "\n"
            for (i, s) in subjects.enumerated() {
                let how = v.region.perSubject[s] != nil ? "leave-one-out" : "fixed"
                let change = zip2(v.pre[i], v.post[i]).map { $1 - $0 }
                scatter += (["sub-\(s)"] + (try extra.map { try cell(s, $0) ?? "n/a" }) + [fmt(v.pre[i])]
                    + (post.isEmpty ? [] : [fmt(v.post[i]), fmt(change)]) + (try clinical.map { try cell(s, $0) ?? "n/a" }) + [how])
                    .joined(separator: "\t") + "\n"
                long += "sub-\(s)\t\(name)\t\(pre)\t\(fmt(v.pre[i]))\t\(how)\n"
                if !post.isEmpty { long += "sub-\(s)\t\(name)\t\(post)\t\(fmt(v.post[i]))\t\(how)\n" }
            }
            try context.writeOutput("\(prefix)_roi-\(BIDSNames.label(name))_desc-scatter.tsv", Array(scatter.utf8))

            // Paired tests: everyone, then each level of the group column.
            if !post.isEmpty {
                var subsets: [(String, [Int])] = [("all", Array(subjects.indices))]
                if let group {
                    let levels = try Set(subjects.compactMap { try cell($0, group) }).sorted()
                    for level in levels { subsets.append((level, try subjects.indices.filter { try cell(subjects[$0], group) == level })) }
                }
                var pairedSummary: [[String: Any]] = []
                for (label, rows) in subsets {
                    let complete = rows.filter { v.pre[$0] != nil && v.post[$0] != nil }
                    guard complete.count >= 2, let test = try? PairedTTest(pre: complete.map { v.pre[$0]! }, post: complete.map { v.post[$0]! }) else {
                        paired += "\(name)\t\(label)\t\(complete.count)" + String(repeating: "\tn/a", count: 10) + "\n"
                        continue
                    }
                    let meanPre = complete.reduce(0) { $0 + v.pre[$1]! } / Double(complete.count)
                    let meanPost = complete.reduce(0) { $0 + v.post[$1]! } / Double(complete.count)
                    paired += [name, label, String(test.n), fmt(meanPre), fmt(meanPost), fmt(test.meanDifference), fmt(test.sdDifference),
                               fmt(test.t), String(test.df), fmt(test.p), fmt(test.dz), fmt(test.ci95.lower), fmt(test.ci95.upper)]
                        .joined(separator: "\t") + "\n"
                    pairedSummary.append(["subjects": label, "n": test.n, "mean_change": test.meanDifference, "t": test.t, "p": test.p,
                                          "cohen_dz": test.dz])
                }
                regionSummary["paired"] = pairedSummary
            }

            // Correlations of the change (and the pre value) with each clinical column.
            var correlationSummary: [[String: Any]] = []
            for column in clinical {
                let scores = try subjects.map { try number($0, column) }
                var xs: [(String, [Double?])] = [(pre, v.pre)]
                if !post.isEmpty { xs.insert(("change", subjects.indices.map { zip2(v.pre[$0], v.post[$0]).map { $1 - $0 } }), at: 0) }
                for (xName, x) in xs {
                    let rows = subjects.indices.filter { x[$0] != nil && scores[$0] != nil }
                    let a = rows.map { x[$0]! }, b = rows.map { scores[$0]! }
                    guard let r = try? CorrelationTest.pearson(a, b), let rho = try? CorrelationTest.spearman(a, b) else {
                        correlations += "\(name)\t\(xName)\t\(column)\t\(rows.count)\tn/a\tn/a\tn/a\tn/a\n"
                        continue
                    }
                    correlations += [name, xName, column, String(rows.count), fmt(r.r), fmt(r.p), fmt(rho.r), fmt(rho.p)].joined(separator: "\t") + "\n"
                    correlationSummary.append(["x": xName, "y": column, "n": rows.count, "pearson_r": r.r, "pearson_p": r.p,
                                               "spearman_rho": rho.r, "spearman_p": rho.p])
                }
            }
            regionSummary["correlations"] = correlationSummary

            // Prediction of a class from the region's value at one session.
            if let predict = p["predict"] {
                let (row, result) = try predictClass(v, predict: predict, subjects: subjects, pre: pre, post: post,
                                                        permutations: p["permutations"]?.intValue ?? 5000,
                                                        seed: UInt64(p["random_seed"]?.intValue ?? 0), cell: cell)
                prediction += row
                regionSummary["prediction"] = result
            }
            summaries.append(regionSummary)
        }
        try context.writeOutput("\(prefix)_desc-values.tsv", Array(long.utf8))
        if !post.isEmpty { try context.writeOutput("\(prefix)_desc-paired.tsv", Array(paired.utf8)) }
        if !clinical.isEmpty { try context.writeOutput("\(prefix)_desc-correlations.tsv", Array(correlations.utf8)) }
        if p["predict"] != nil { try context.writeOutput("\(prefix)_desc-prediction.tsv", Array(prediction.utf8)) }
        try context.writeOutput("\(prefix)_summary.json", try summaryJSON([
            "seed": p["seed"]?.stringValue ?? "", "pre": pre, "post": post, "subjects": subjects.map { "sub-\($0)" }, "regions": summaries,
        ]))
    }
}

extension ROIKind {
    /// The prediction TSV row and summary of one region: ROC AUC of the value at one session for
    /// the positive class, out of sample when the region values are leave-one-out.
    fileprivate func predictClass(_ v: RegionValues, predict: JSONValue, subjects: [String], pre: String, post: String,
                                  permutations: Int, seed: UInt64, cell: (String, String) throws -> String?) throws -> (String, Any) {
        let column = predict["column"]?.stringValue ?? "", positive = predict["positive"]?.stringValue ?? ""
        let session = predict["session"]?.stringValue ?? pre
        let sign: Double = predict["direction"]?.stringValue == "lower" ? -1 : 1
        let x = session == post ? v.post : v.pre
        let labels = try subjects.map { try cell($0, column) }
        let rows = subjects.indices.filter { x[$0] != nil && labels[$0] != nil }
        let head = "\(v.region.name)\t\(column)\t\(positive)\t\(session)"
        guard Set(rows.map { labels[$0] == positive }).count == 2 else {
            return (head + String(repeating: "\tn/a", count: 10) + "\n", ["note": "needs values in both classes"])
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
        return (row, ["column": column, "positive": positive, "session": session, "auc": roc.auc, "ci95": [roc.ci95.lower, roc.ci95.upper],
                      "permutation_p": roc.permutationP, "values": how, "in_sample_auc_circular": inSample ?? NSNull()] as [String: Any])
    }
}

private func zip2(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}

private func fmt(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "n/a" }
