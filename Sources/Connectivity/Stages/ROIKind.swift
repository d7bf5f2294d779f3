import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `roi`: follow-up of regions found voxelwise — per-subject values at two sessions,
/// the paired change, its relation to clinical change, and baseline prediction of response.
///
/// Reads a `connectivity` stage (`from[0]`) or a table of maps made elsewhere (`maps`, see
/// `MapsTable`: each subject's rows at `pre` and `post` by its `session` column), the participants
/// table (`participants`, or a `synth_cohort` stage in `from`) and, for cluster regions, a `group`
/// stage in `from` (which may itself read `maps`). Parameters:
/// - `seed` (required without `maps`), `pre` (required), `post` (optional: without it only
///   baseline analyses are made);
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
/// - `permutations` (5000), `random_seed` (0);
/// - `resample`: `none` (default: a map on a grid other than the first map's is an error, and the
///   spec check names such runs before any task runs), `linear` or `nearest`, as for `group`.
///
/// A region value is the mean of the subject's Fisher z map over the region's voxels that the
/// map covers (non-zero). Outputs, prefixed `roi_seed-<s>` (with `maps` and no `seed`,
/// `roi_maps-<table name>`): `desc-values.tsv` (long format),
/// `roi-<name>_desc-scatter.tsv` (one row per subject: the data behind the scatter plots),
/// `desc-paired.tsv`, `desc-correlations.tsv`, `desc-prediction.tsv` and `summary.json`.
public struct ROIKind: TypedStageKind {
    public init() {}

    public var name: String { "roi" }
    /// 9: the summary lists the included subjects with no map at pre (`no_map_at_pre`).
    /// 8: the summary lists the leave-one-out subjects whose fold had no region
    /// (`leave_one_out_without_region`).
    /// 7: resampling with a cluster region reads the maps on the group stage's grid; a label or
    /// sphere region with no voxel on the maps' grid is an error (it gave n/a values).
    /// 6: `resample` (maps on other grids resampled, as in `group`), recorded in the summary.
    /// 5: the summary lists the runs each subject's maps average (`runs`).
    /// 4: a subject's runs at a session are averaged (before, the last run's map was read), and QC
    /// exclusions apply per run. 3: the summary's prediction records its `direction`. 2: with
    /// leave-one-out regions, the scatter table has each subject's in-sample value
    /// (`<pre>_in_sample`) for the circular ROC curve.
    public var version: Int { 9 }
    public var fanOut: FanOut { .group }
    /// 0 with `maps` (checked at plan time: `GroupLevelCheck.mapsSource`).
    public var upstreamCount: ClosedRange<Int> { 0...4 }

    /// The stage's parameters, read once (see `parameters(_:)`).
    public struct Parameters: Sendable, Equatable {
        /// "" with `maps` and no seed.
        var seed: String
        /// The maps table, "" for the connectivity stage's maps.
        var maps: String
        var pre: String
        /// "" for baseline analyses only.
        var post: String
        var participants: String
        var atlas: String
        var atlasLabels: String
        var include: [String: [String]]
        /// "" for none.
        var group: String
        var clinical: [String]
        var regions: [Region]
        var predict: Predict?
        var leaveOneOut: Bool
        var permutations: Int
        var randomSeed: UInt64
        var resampling: GroupMaps.Resampling
    }

    /// One region of `regions`.
    struct Region: Sendable, Equatable {
        enum Source: Sendable, Equatable {
            /// Significant cluster k of a group stage's contrast (nil: its first).
            case cluster(Int, contrast: String?)
            case label(String)
            case sphere(centre: [Double], radius: Double)
            case mask(String)
        }
        var name: String
        var source: Source
    }

    /// `predict`: the class column, its positive level, the session (nil: `pre`) and whether the
    /// positive class scores lower.
    struct Predict: Sendable, Equatable {
        var column: String
        var positive: String
        var session: String?
        var lower: Bool
    }

    public func parameters(_ params: ParameterReader) -> Parameters {
        let selection = StageInputs.Selection.read(params)
        let pre = params.string("pre")
        let post = params.string("post", default: "")
        let atlas = params.string("atlas", default: "")
        let atlasLabels = params.string("atlas_labels", default: "")
        let group = params.string("group", default: "")
        let clinical = params.strings("clinical", default: [])
        let list = params.value("regions")?.arrayValue ?? []
        if list.isEmpty { params.report("regions", "expected a list of regions, e.g. [{\"name\": \"cluster1\", \"cluster\": 1}]") }
        var names = Set<String>()
        var regions: [Region] = []
        for (i, region) in list.enumerated() {
            guard let object = region.objectValue, let name = object["name"]?.stringValue, !name.isEmpty else {
                params.report("regions[\(i)]", "expected an object with a name"); continue
            }
            if !names.insert(name).inserted { params.report("regions[\(i)].name", "'\(name)' is used twice") }
            let sources = ["cluster", "label", "sphere", "mask"].filter { object[$0] != nil }
            if sources.count != 1 {
                params.report("regions[\(i)]", "give exactly one of cluster, label, sphere (with radius) or mask")
            }
            var k = 1
            if let cluster = object["cluster"] {
                if let n = cluster.numberValue {
                    if !(n.rounded() == n && n >= Double(Self.clusterRange.lowerBound) && n <= Double(Self.clusterRange.upperBound)) {
                        params.report("regions[\(i)].cluster", "expected an integer in \(Self.clusterRange.lowerBound)...\(Self.clusterRange.upperBound), got \(JSONValue.format(number: n))")
                    } else {
                        k = Int(n)
                    }
                } else {
                    params.report("regions[\(i)].cluster", "expected a cluster number ≥ 1")
                }
            }
            let centre = object["sphere"]?.arrayValue?.compactMap(\.numberValue) ?? []
            if object["sphere"] != nil {
                if centre.count != 3 { params.report("regions[\(i)].sphere", "expected [x, y, z] in mm") }
                if (object["radius"]?.numberValue ?? 0) <= 0 { params.report("regions[\(i)].radius", "expected a radius in mm > 0") }
            }
            ConnectivityKind.checkRanges(region, at: "regions[\(i)]", params)
            for key in object.keys where !["name", "cluster", "contrast", "label", "sphere", "radius", "mask"].contains(key) {
                params.report("regions[\(i)].\(key)", "unknown key")
            }
            let source: Region.Source
            if let label = object["label"] {
                source = .label(label.stringValue ?? label.intValue.map(String.init) ?? "")
            } else if object["sphere"] != nil {
                source = .sphere(centre: centre, radius: object["radius"]?.numberValue ?? 0)
            } else if let mask = object["mask"]?.stringValue {
                source = .mask(mask)
            } else {
                source = .cluster(k, contrast: object["contrast"]?.stringValue)
            }
            regions.append(Region(name: name, source: source))
        }
        var predict: Predict?
        if let value = params.value("predict") {
            if let column = value["column"]?.stringValue, let positive = value["positive"]?.stringValue {
                predict = Predict(column: column, positive: positive, session: value["session"]?.stringValue,
                                  lower: value["direction"]?.stringValue == "lower")
            } else {
                params.report("predict", "expected {\"column\": …, \"positive\": …}")
            }
            if let d = value["direction"]?.stringValue, !["higher", "lower"].contains(d) {
                params.report("predict.direction", "expected higher or lower")
            }
        }
        let loo = params.string("leave_one_out", default: "auto")
        if !["auto", "off"].contains(loo) { params.report("leave_one_out", "expected auto or off") }
        let permutations = params.integer("permutations", default: 5000, range: 0...1_000_000)
        let randomSeed = params.integer("random_seed", default: 0, range: 0...Int(Int32.max))
        return Parameters(seed: selection.seed, maps: selection.maps, pre: pre, post: post, participants: selection.participants, atlas: atlas,
                          atlasLabels: atlasLabels, include: selection.include, group: group, clinical: clinical, regions: regions, predict: predict,
                          leaveOneOut: loo != "off", permutations: permutations, randomSeed: UInt64(max(0, randomSeed)),
                          resampling: GroupMaps.Resampling.read(params))
    }

    /// Cluster numbers a region may name (by decreasing mass; a group map has far fewer).
    static let clusterRange: ClosedRange<Int> = 1...1_000_000

    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        var out: [String: String] = [:]
        for (key, path) in [("participants", p.participants), ("atlas", p.atlas), ("atlas_labels", p.atlasLabels)] where !path.isEmpty {
            out[key] = path
        }
        for (i, region) in p.regions.enumerated() {
            if case .mask(let mask) = region.source { out["region\(i)_mask"] = mask }
        }
        return out
    }

    /// With `maps`, also one source per map at `pre` and `post` (see
    /// `MapsTable.sources`).
    public func sources(_ p: Parameters, scope: Scope, directory: URL) throws -> [String: String] {
        var out = try sources(p, scope: scope)
        if !p.maps.isEmpty { out.merge(try MapsTable.sources(p.maps, sessions: p.sessions.map(\.0), directory: directory)) { a, _ in a } }
        return out
    }

    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { 1 << 30 }

    public func methods(stage: StageSpec) -> MethodsText? {
        let p = typed(stage)
        var text = "Region values (the mean z over each region's voxels) were taken at \(p.pre)" + (p.post.isEmpty ? "" : " and \(p.post), with paired t tests and Cohen's d_z of the change")
        if !p.clinical.isEmpty { text += "; Pearson and Spearman correlations with \(p.clinical.joined(separator: ", "))" }
        if let predict = p.predict { text += "; the prediction of \(predict.column) = \(predict.positive) by ROC AUC with a DeLong confidence interval and a permutation p (\(p.permutations) permutations)" }
        text += ". Regions: " + p.regions.map(\.name).joined(separator: ", ") + "."
        if p.leaveOneOut && p.regions.contains(where: { if case .cluster = $0.source { return true }; return false }) {
            text += " A cluster found on the same subjects was redefined without each held-out subject, so no value was selected by its own data."
        }
        return MethodsText(text)
    }

    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        let names = GroupLevelCheck(stage: stage, study: study, participants: p.participants, include: p.include)
        names.requiredSessions = [p.pre]  // a subject with a pre map is read; its post map may be missing
        names.mapsSource(maps: p.maps, seed: p.seed, sessions: p.sessions)
        names.everySubjectInTable(read: [p.pre])
        // The task reads the atlas for label regions only.
        if p.regions.contains(where: { if case .label = $0.source { return true }; return false }) {
            AtlasNames.checkFiles(atlas: p.atlas, table: p.atlasLabels, stage: stage, study: study)
        }
        if p.maps.isEmpty && !p.pre.isEmpty { names.sessions = [p.pre] }
        names.noSubjects(at: p.include.isEmpty ? "pre" : "include")
        let compared = [p.pre] + (p.post.isEmpty ? [] : [p.post])
        names.grids(resampling: p.resampling, maps: p.maps, compared: compared)
        // The prediction reads the values at pre or post, which are the sessions the stage loads.
        if let session = p.predict?.session, !compared.contains(session) {
            study.report(stage, "predict.session", "'\(session)' is not a session the stage reads; expected \(compared.map { "'\($0)'" }.joined(separator: " or ")) (pre or post)")
        }
        checkClusterSource(p, stage: stage, study: study, names: names)
        if !p.group.isEmpty { names.columns([p.group], at: "group") }
        names.columns(p.clinical, at: "clinical")
        // A missing clinical value leaves the subject out of that correlation; a word is an error.
        for (i, column) in p.clinical.enumerated() { names.values(of: column, at: "clinical[\(i)]", numeric: true, gaps: true) }
        if let predict = p.predict {
            names.columns([predict.column], at: "predict.column")
            names.levels([predict.positive], of: predict.column, at: "predict.positive")
            // One class only: nothing to tell the positives from (the task would write n/a).
            if let present = names.levels(of: predict.column), present == [predict.positive] {
                study.report(stage, "predict", "every subject the stage includes has \(predict.column) '\(predict.positive)', so there is no other class "
                             + "to predict it against: include subjects of another \(predict.column), or remove predict")
            }
        }
        let labels = p.regions.enumerated().compactMap { i, r -> (String, String)? in
            if case .label(let l) = r.source { return (l, "regions[\(i)].label") }
            return nil
        }
        if !labels.isEmpty && p.atlas.isEmpty && GroupLevelCheck.synthCohort(of: stage, in: study) == nil {
            study.report(stage, "regions", "regions name atlas labels but the stage has no atlas: set atlas and atlas_labels, or read a synth_cohort stage")
        } else {
            names.atlasLabels(labels, atlas: p.atlas, table: p.atlasLabels)
        }
        // Label, sphere and mask regions are drawn on the maps' grid: without resampling, the one
        // grid of the runs it compares (the grid check above names any other), so the first
        // subject's pre run's. With resampling, the grid of the first map QC keeps, which is
        // not known yet: one of the compared runs' grids, so a region with no voxel on any of them
        // is reported.
        guard p.maps.isEmpty, let runs = names.comparedRuns(compared: compared) else { return }
        let regions = p.regions.enumerated().compactMap { i, region -> (key: String, source: RegionGridCheck.Source)? in
            switch region.source {
            case .label(let label): ("regions[\(i)].label", .label(label))
            case .sphere(let centre, let radius): ("regions[\(i)].sphere", .sphere(centre: centre, radius: radius))
            case .mask(let path): ("regions[\(i)].mask", .mask(path, positive: false))
            case .cluster: nil
            }
        }
        if p.resampling == .none {
            guard let first = runs.filter({ $0.session == p.pre }).min(by: { $0.subject < $1.subject }) else { return }
            RegionGridCheck(runs: [first.run]).check(regions, atlas: p.atlas, atlasLabels: p.atlasLabels, stage: stage, study: study)
        } else {
            let grids = RegionGridCheck(runs: runs.map(\.run))
            let drawn = grids.draw(regions, atlas: p.atlas, atlasLabels: p.atlasLabels, study: study, keepVoxels: false)
            let lost = regions.indices.filter { drawn[$0]?.voxels.allSatisfy(\.isEmpty) ?? false }
            grids.report(lost.map { regions[$0] }, drawn: lost.map { drawn[$0] }, stage: stage, study: study)
        }
    }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
        let seed = p.seed, pre = p.pre, post = p.post
        let table = try StageInputs.participants(context, stage: "roi")
        let preURLs = try StageInputs.maps(context, table: p.maps, seed: seed, session: pre)
        let postURLs = post.isEmpty ? [:] : try StageInputs.maps(context, table: p.maps, seed: seed, session: post)
        let selection = try QCExclusions.select(context, subjects: StageInputs.filter(preURLs.keys.sorted(), include: p.include, table: table),
                                                sessions: [(pre.isEmpty ? nil : pre, preURLs)] + (post.isEmpty ? [] : [(post, postURLs)]))
        let subjects = selection.subjects, excluded = selection.excluded
        // Included subjects with a map at another session but none at pre have no value: named,
        // not silently gone.
        let noPre = try StageInputs.includedWithoutMap(context, table: p.maps, seed: seed, read: preURLs, include: p.include, participants: table)
            .map { "sub-\($0)" }
        if !noPre.isEmpty { context.log("no map at session \(pre), so not followed up: \(noPre.joined(separator: ", "))") }
        guard !subjects.isEmpty else {
            throw InputError(path: table.path, "no subject has a \(pre) map for \(p.maps.isEmpty ? "seed \(seed)" : "maps \(p.maps)") after filtering")
        }

        // Every subject's maps (the mean of its runs at a session) on the first map's grid.
        // The grid: the first map's; when resampling with a cluster region, the group stage's (its
        // cluster map's), on which a cluster refitted without each subject is found.
        var firstURL = selection.runs[0][0][0]
        let clusterMap = p.resampling == .none || !p.regions.contains(where: { if case .cluster = $0.source { return true }; return false }) ? nil
            : Self.groupFiles(context).flatMap { files in files.keys.sorted().first { $0.hasPrefix("group_") && $0.hasSuffix("_desc-clusters_dseg.nii.gz") }.map { files[$0]! } }
        if let clusterMap { firstURL = clusterMap }
        let first = try NIfTIFile.readHeader(firstURL.path).header
        let shape = Array(first.shape.prefix(3)), affine = first.affine
        func load(_ urls: [URL]) throws -> [Float]? {
            guard !urls.isEmpty else { return nil }
            let runs = try urls.map { url in
                try GroupMaps.values(of: try NIfTIFile.read(url.path), at: url.path, onGridOf: firstURL.path, shape: shape, affine: affine,
                                     resampling: p.resampling)
            }
            return GroupMaps.meanOfRuns(runs)
        }
        var preData: [[Float]] = [], postData: [[Float]?] = []
        for i in subjects.indices {
            preData.append(try load(selection.runs[0][i])!)
            postData.append(post.isEmpty ? nil : try load(selection.runs[1][i]))
        }
        func mean(_ map: [Float]?, _ voxels: [Int]) -> Double? {
            guard let map else { return nil }
            var sum = 0.0, count = 0
            for v in voxels where map[v] != 0 && map[v].isFinite { sum += Double(map[v]); count += 1 }
            return count > 0 ? sum / Double(count) : nil
        }

        // The atlas on the maps' grid, read and resampled once for every label region.
        let hasLabel = p.regions.contains { if case .label = $0.source { return true }; return false }
        let atlas = try hasLabel ? StageInputs.atlas(context).map { ($0, $0.resampled(to: shape, affine: affine)) } : nil
        let regions = try p.regions.enumerated().map { i, spec in
            try resolve(spec, index: i, p: p, context: context, table: table, subjects: subjects, shape: shape, affine: affine, atlas: atlas)
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
        try writeOutputs(values, p: p, subjects: subjects, table: table, context: context, prefix: "roi_\(StageInputs.outputEntity(seed: seed, maps: p.maps))",
                         excluded: excluded, noPre: noPre,
                         runs: selection.averagedRuns?.mapValues { Dictionary(uniqueKeysWithValues: $0.map { ("sub-" + $0.key, $0.value) }) })
    }
}

extension ROIKind.Parameters {
    /// The sessions the stage reads, each with its key: `pre` and `post` (`predict.session` must be
    /// one of them: checked in `check`).
    var sessions: [(String, String)] {
        [(pre, "pre")] + (post.isEmpty ? [] : [(post, "post")])
    }
}
