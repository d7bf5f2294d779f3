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
///   - `"cluster": k` (1...1000000): significant cluster k (by decreasing mass) of the group stage's contrast
///     `"contrast"` (default: its first contrast);
///   - `"label"`: an atlas label (`atlas`/`atlas_labels`, or the synth_cohort atlas);
///   - `"sphere": [x, y, z]` (MNI mm, as for connectivity seeds) with `"radius"` in mm (nilearn's sphere rule);
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
            if let cluster = object["cluster"] {
                if let n = cluster.numberValue {
                    if !(n.rounded() == n && n >= Double(Self.clusterRange.lowerBound) && n <= Double(Self.clusterRange.upperBound)) {
                        params.report("regions[\(i)].cluster", "expected an integer in \(Self.clusterRange.lowerBound)...\(Self.clusterRange.upperBound), got \(JSONValue.format(number: n))")
                    }
                } else {
                    params.report("regions[\(i)].cluster", "expected a cluster number ≥ 1")
                }
            }
            if object["sphere"] != nil {
                if object["sphere"]?.arrayValue?.compactMap(\.numberValue).count != 3 { params.report("regions[\(i)].sphere", "expected [x, y, z] in mm") }
                if (object["radius"]?.numberValue ?? 0) <= 0 { params.report("regions[\(i)].radius", "expected a radius in mm > 0") }
            }
            ConnectivityKind.checkRanges(region, at: "regions[\(i)]", params)
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

    /// Cluster numbers a region may name (by decreasing mass; a group map has far fewer).
    static let clusterRange: ClosedRange<Int> = 1...1_000_000

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

        // The atlas on the maps' grid, read and resampled once for every label region.
        let specs = p["regions"]?.arrayValue ?? []
        let atlas = try specs.contains { $0["label"] != nil } ? StageInputs.atlas(context).map { ($0, $0.resampled(to: shape, affine: affine)) } : nil
        let regions = try specs.enumerated().map { i, spec in
            try resolve(spec, index: i, context: context, table: table, subjects: subjects, shape: shape, affine: affine, atlas: atlas)
        }
        var values: [ROIRegionValues] = []
        for region in regions {
            try context.checkCancellation()
            var v = ROIRegionValues(region: region, pre: [], post: [], inSamplePre: [])
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
}
