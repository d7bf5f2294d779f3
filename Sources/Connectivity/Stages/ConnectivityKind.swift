import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `connectivity`: seed-to-voxel Pearson r and Fisher z maps per seed per scan, the
/// seed series, and an ROI-to-ROI correlation matrix over the atlas.
///
/// Reads the output of a `clean` stage (`from[0]`, same scan) and optionally a `synth_cohort`
/// stage (`from[1]`) for its atlas. Parameters:
/// - `seeds`: objects `{"name": "LBAleft", "label": "LBA_left"}` (atlas label by name or value),
///   `{"name": "PCC", "sphere": [0, -52, 26], "radius": 6}` (MNI mm in -1000...1000, radius in
///   (0, 500] mm; nilearn's sphere rule), or
///   `{"name": "amy", "mask": "path.nii.gz"}`;
/// - `atlas`, `atlas_labels`: label image and table (relative to the spec), unless from synth;
/// - `summary`: `mean` (default) or `pca` (SPM eigenvariate);
/// - `partial`: correlate each seed after regressing out the other seeds (default false);
/// - `roi_matrix`: also write the ROI-to-ROI matrix of every atlas label (default true).
///
/// r is the exact Pearson correlation (not nilearn's tutorial r·(T−1)/T); z = atanh(r) with |r|
/// clamped at 1 − 1e−7 (so the seed's own voxels give a finite z); a constant voxel gives r = 0.
/// Outputs use BIDS-derivatives names:
/// `sub-01_ses-baseline_task-rest_space-<space>_seed-<name>_stat-{r,z}_connectivity.nii.gz`,
/// `..._desc-seeds_timeseries.tsv`, `..._desc-roi_connectivity.tsv` and, beside the matrix,
/// `..._desc-roi_centroids.tsv` (each ROI's centre in mm: the mean position of its voxels on the
/// run's grid), from which the `qc` stage takes QC-FC's distances.
public struct ConnectivityKind: TypedStageKind {
    public init() {}

    /// The stage's parameters, read once (see `parameters(_:)`).
    public struct Parameters: Sendable, Equatable {
        /// The seeds, with BIDS-safe names.
        public var seeds: [SeedDefinition]
        /// Atlas image and label table (relative to the spec), or "" for an upstream synth atlas.
        public var atlas: String
        public var atlasLabels: String
        /// The seed summary: SPM's eigenvariate instead of the mean.
        public var eigenvariate: Bool
        public var partial: Bool
        public var roiMatrix: Bool

        /// The names of the seeds' maps (`seed-<name>`), which group-level stages select by.
        public var seedNames: [String] { seeds.map(\.name) }
    }

    public var name: String { "connectivity" }
    /// 2: seeds are averaged from the unstandardised cleaned voxels and then standardised, as
    /// nilearn's seed maskers do (clean version 2 stores the voxels unstandardised); maps carry
    /// the input's coordinate-system code, r the correlation intent with the run's residual
    /// degrees of freedom, and names the input's space entity (none for an input in none).
    /// 3: maps compressed with zlib's run-length strategy (`NIfTIWriteOptions.scanMapOutput`).
    /// 4: the ROI centroids beside the ROI matrix.
    public var version: Int { 4 }
    public var fanOut: FanOut { .perScan }
    public var upstreamCount: ClosedRange<Int> { 1...2 }

    public func parameters(_ params: ParameterReader) -> Parameters {
        let seeds = params.value("seeds")
        if let problem = Self.seedProblem(seeds) { params.report("seeds", problem) }
        for (i, seed) in (seeds?.arrayValue ?? []).enumerated() { Self.checkRanges(seed, at: "seeds[\(i)]", params) }
        let atlas = params.string("atlas", default: "")
        let atlasLabels = params.string("atlas_labels", default: "")
        let summary = params.string("summary", default: "mean")
        if summary != "mean" && summary != "pca" { params.report("summary", "expected \"mean\" or \"pca\", got \"\(summary)\"") }
        return Parameters(seeds: Self.seeds(seeds), atlas: atlas, atlasLabels: atlasLabels, eigenvariate: summary == "pca",
                          partial: params.bool("partial", default: false), roiMatrix: params.bool("roi_matrix", default: true))
    }

    static func seedProblem(_ value: JSONValue?) -> String? {
        guard let list = value?.arrayValue, !list.isEmpty else { return "expected a non-empty list of seeds" }
        var names = Set<String>()
        for (i, seed) in list.enumerated() {
            guard let name = seed["name"]?.stringValue, !BIDSNames.label(name).isEmpty else {
                return "seed \(i + 1): expected a \"name\" of letters and digits"
            }
            if !names.insert(BIDSNames.label(name)).inserted { return "seed \(i + 1): the name \(name) is used twice" }
            let kinds = ["label", "sphere", "mask"].filter { seed[$0] != nil }
            guard kinds.count == 1 else { return "seed \(name): give exactly one of \"label\", \"sphere\" (with \"radius\") or \"mask\"" }
            if let sphere = seed["sphere"] {
                guard let xyz = sphere.arrayValue?.compactMap(\.numberValue), xyz.count == 3 else {
                    return "seed \(name): \"sphere\" expects three MNI coordinates in mm"
                }
                guard let r = seed["radius"]?.numberValue, r > 0 else { return "seed \(name): a sphere needs a positive \"radius\" in mm" }
            }
        }
        return nil
    }

    /// MNI coordinates in mm: far beyond any head, close enough to a grid that voxel indices fit an Int.
    static let coordinateRange: ClosedRange<Double> = -1000...1000
    /// A sphere's radius in mm (0 excluded).
    static let radiusRange: ClosedRange<Double> = 0...500
    /// An atlas label given as a number (`AtlasLabels` holds 0...Int32.max).
    static let labelRange: ClosedRange<Double> = 0...Double(Int32.max)

    /// Reports the numbers of a seed or region object (`sphere`, `radius`, a numeric `label`)
    /// that lie outside their ranges, at `key` (`seeds[2]`, `regions[0]`) plus the field. Shared
    /// with the `roi` kind's regions.
    static func checkRanges(_ object: JSONValue, at key: String, _ params: ParameterReader) {
        for (j, c) in (object["sphere"]?.arrayValue ?? []).enumerated() {
            if let x = c.numberValue { params.check("\(key).sphere[\(j)]", x, in: coordinateRange) }
        }
        if let r = object["radius"]?.numberValue, r > 0 { params.check("\(key).radius", r, in: radiusRange) }
        if let label = object["label"]?.numberValue, !(label.rounded() == label && labelRange.contains(label)) {
            params.report("\(key).label", "expected a label name or a whole number in 0...\(Int32.max), got \(JSONValue.format(number: label))")
        }
    }

    static func seeds(_ list: JSONValue?) -> [SeedDefinition] {
        (list?.arrayValue ?? []).map { seed in
            let name = BIDSNames.label(seed["name"]?.stringValue ?? "")
            if let label = seed["label"] {
                return SeedDefinition(name: name, source: .atlasLabel(label.stringValue ?? label.intValue.map(String.init) ?? ""))
            }
            if let xyz = seed["sphere"]?.arrayValue?.compactMap(\.numberValue) {
                return SeedDefinition(name: name, source: .sphere(centre: xyz, radius: seed["radius"]?.numberValue ?? 0))
            }
            return SeedDefinition(name: name, source: .maskFile(seed["mask"]?.stringValue ?? ""))
        }
    }

    public func sourceParameter(_ name: String) -> String? {
        name.hasPrefix("seed_mask_") ? "seeds[\(name.dropFirst("seed_mask_".count))].mask" : name
    }

    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        var out: [String: String] = [:]
        if !p.atlas.isEmpty { out["atlas"] = p.atlas }
        if !p.atlasLabels.isEmpty { out["atlas_labels"] = p.atlasLabels }
        for (i, seed) in p.seeds.enumerated() {
            if case .maskFile(let mask) = seed.source { out["seed_mask_\(i)"] = mask }
        }
        return out
    }

    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { 512 << 20 }

    public func methods(stage: StageSpec) -> MethodsText? {
        let p = typed(stage)
        let seeds = p.seeds.map { "\($0.name) (\($0.describe))" }.joined(separator: ", ")
        return MethodsText("Seed time series were the \(p.eigenvariate ? "first eigenvariate" : "mean") of each seed's cleaned voxels: \(seeds). "
                           + "Seed-to-voxel maps are the \(p.partial ? "partial " : "")Pearson correlation r and its Fisher z = atanh(r).")
    }

    /// Each seed's voxels on the data grid, those inside the run's mask, and their fraction: the
    /// `qc` stage's seed coverage.
    public static let coverageFile = "_desc-seeds_coverage.tsv"
    /// The only output for a run `clean` refused: its `CleanedScan.Refusal`, instead of maps.
    public static let refusedFile = "_desc-refused_connectivity.json"

    /// A seed series standardised as the clean stage's `standardize` says (unchanged for none).
    /// Correlations do not depend on it; the seed time-series file does.
    static func standardized(_ series: [Double], cleaned: CleanedScan, positions: [Int]) -> [Double] {
        guard let name = cleaned.info.standardize, let kind = SignalCleanOptions.Standardization(rawValue: name) else {
            return series
        }
        var originalMean = 0.0
        if let means = cleaned.originalMeans, !positions.isEmpty {
            for i in positions { originalMean += means[i] }
            originalMean /= Double(positions.count)
        }
        return SignalClean.standardize(series, kind, originalMean: originalMean)
    }

    /// Seed labels against the atlas's label table (or the synthetic atlas), and every seed against
    /// every run's grid, at spec time.
    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        AtlasNames.checkFiles(atlas: p.atlas, table: p.atlasLabels, stage: stage, study: study)
        checkSeedsOnGrids(p, stage: stage, study: study)
        let labels = p.seeds.enumerated().compactMap { i, seed -> (String, String)? in
            if case .atlasLabel(let label) = seed.source { return (label, "seeds[\(i)].label") }
            return nil
        }
        guard !labels.isEmpty else { return }
        if p.atlas.isEmpty && GroupLevelCheck.synthCohort(of: stage, in: study) == nil {
            study.report(stage, "seeds", "seeds name atlas labels but the stage has no atlas: set atlas and atlas_labels, or read a synth_cohort stage")
            return
        }
        if let names = AtlasNames.names(table: p.atlasLabels, atlas: p.atlas, stage: stage, study: study, key: "atlas_labels") {
            for (label, key) in labels { AtlasNames.check(label, at: key, names: names, stage: stage, study: study) }
        }
    }

    /// Every seed against every run's grid and mask (`RegionGridCheck`): the runs of the `clean`
    /// stage read first in `from`; nothing when they come from an upstream stage's files.
    private func checkSeedsOnGrids(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        guard !p.seeds.isEmpty, let name = stage.from.first, let up = study.stage(name), let clean = up.kind as? CleanKind else { return }
        let seeds = p.seeds.enumerated().map { i, seed -> (key: String, source: RegionGridCheck.Source) in
            switch seed.source {
            case .sphere(let centre, let radius): ("seeds[\(i)].sphere", .sphere(centre: centre, radius: radius))
            case .atlasLabel(let label): ("seeds[\(i)].label", .label(label))
            case .maskFile(let path): ("seeds[\(i)].mask", .mask(path, positive: true))
            }
        }
        let cleaning = clean.typed(up)
        let check = RegionGridCheck(runs: clean.survey(cleaning, stage: up, study: study).runs)
        let drawn = check.check(seeds, atlas: p.atlas, atlasLabels: p.atlasLabels, stage: stage, study: study)
        check.checkInsideMasks(seeds, drawn: drawn, mask: { cleaning.maskFile(in: $0.files) }, noun: cleaning.maskNoun, threshold: cleaning.maskThreshold,
                               stage: stage, maskStage: up, study: study)
    }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
        let info = try context.inputs[0].files.first { $0.key.hasSuffix(CleanedScan.infoFile) }.map { try CleanedScan.readInfo($0.value) }
        if let info, let refusal = info.refusal {
            // No maps from a run clean refused: the refusal is passed on to the group-level stages.
            let name = CleanedScan.stem(prefix: info.prefix, space: info.space) + Self.refusedFile
            context.log("\(info.prefix): refused by clean, no maps: \(refusal.reason)")
            try context.writeOutput(name, try OutputJSON.encode(refusal, name: name))
            return
        }
        let cleaned = try CleanedScan.read(files: context.inputs[0].files, info: info)
        let scan = cleaned.asLoadedScan
        var atlasImage = context.sources["atlas"], atlasTable = context.sources["atlas_labels"]
        if context.inputs.count > 1 {
            atlasImage = atlasImage ?? context.inputs[1].files["atlas.nii.gz"]
            atlasTable = atlasTable ?? context.inputs[1].files["atlas.tsv"]
        }
        // Resampled to the data grid once, for every seed and the ROI matrix.
        let atlas = try atlasImage.map {
            try AtlasLabels.read(image: $0.path, table: atlasTable?.path).onGrid(scan.gridShape, affine: scan.affine)
        }
        var seeds = p.seeds
        for (i, _) in seeds.enumerated() {
            if case .maskFile = seeds[i].source, let url = context.sources["seed_mask_\(i)"] { seeds[i].source = .maskFile(url.path) }
        }
        let T = cleaned.info.keptVolumes
        let usePCA = p.eigenvariate
        var seedSeries: [[Double]] = []
        var seedPositions: [[Int]] = []
        var coverage = "seed\tvoxels_on_grid\tvoxels_in_mask\tfraction_in_mask\n"
        let rMaps: [[Double]] = try cleaned.series.withUnsafeBufferPointer { data in
            for seed in seeds {
                var onGrid = 0
                let positions = try seed.voxelPositions(in: scan, atlas: atlas, scanName: cleaned.info.prefix, gridVoxelCount: &onGrid)
                seedPositions.append(positions)
                coverage += "\(seed.name)\t\(onGrid)\t\(positions.count)\t\(String(format: "%.6f", Double(positions.count) / Double(max(1, onGrid))))\n"
                let block = try SeedSummary.gather(data, timePoints: T, columns: positions)
                seedSeries.append(usePCA ? SeedSummary.eigenvariate(block) : SeedSummary.mean(block))
            }
            try context.checkCancellation()
            if p.partial && seeds.count > 1 {
                return try SeedCorrelation.partialCorrelation(seeds: Matrix(columns: seedSeries), data: data, timePoints: T)
            }
            return try SeedCorrelation.pearson(seeds: seedSeries, data: data, timePoints: T)
        }
        let stem = cleaned.stem
        // The r and z maps, made and written in parallel (each file's bytes depend only on its
        // map). r carries the correlation intent with the run's residual degrees of freedom.
        let dof = Double(cleaned.info.residualDegreesOfFreedom)
        let maps = seeds.indices.flatMap { k in
            let base = context.outputDirectory.appendingPathComponent("\(stem)_seed-\(seeds[k].name)").path
            return [(base + "_stat-r_connectivity.nii.gz", k, MapIntent.correlation(df: dof)),
                    (base + "_stat-z_connectivity.nii.gz", k, MapIntent.fisherZ)]
        }
        let failures = Locked<[Int: any Error]>([:])
        Parallel.forEach(maps.count) { i in
            let (path, k, intent) = maps[i]
            let values = intent == .fisherZ ? rMaps[k].map { Float(SeedCorrelation.fisherZ($0)) } : rMaps[k].map { Float($0) }
            do { try NIfTIFile.write(scan.map(values, intent: intent), to: path, options: .scanMapOutput) } catch { failures.withLock { $0[i] = error } }
        }
        if let first = failures.withLock({ $0.min { $0.key < $1.key }?.value }) { throw first }
        // The seed series as nilearn's seed maskers give them: the cleaned mean, standardised.
        let written = zip(seedSeries, seedPositions).map { series, positions in
            Self.standardized(series, cleaned: cleaned, positions: positions)
        }
        var tsv = seeds.map(\.name).joined(separator: "\t") + "\n"
        for t in 0..<T { tsv += written.map { String(format: "%.8g", $0[t]) }.joined(separator: "\t") + "\n" }
        try context.writeOutput("\(stem)_desc-seeds_timeseries.tsv", Array(tsv.utf8))
        try context.writeOutput("\(stem)\(Self.coverageFile)", Array(coverage.utf8))

        if let atlas, p.roiMatrix {
            let labels = atlas.labels
            var members: [Int: [Int]] = [:]
            for (n, v) in scan.voxels.enumerated() where labels[v] != 0 { members[labels[v], default: []].append(n) }
            let present = members.keys.sorted()
            var columns: [[Double]] = []
            try cleaned.series.withUnsafeBufferPointer { data in
                for label in present { columns.append(SeedSummary.mean(try SeedSummary.gather(data, timePoints: T, columns: members[label]!))) }
            }
            let matrix = SeedCorrelation.correlationMatrix(Matrix(columns: columns))
            let names = present.map { atlas.names[$0] ?? String($0) }
            var out = "roi\t" + names.joined(separator: "\t") + "\n"
            for (i, name) in names.enumerated() {
                out += name + "\t" + (0..<names.count).map { String(format: "%.6f", matrix[i, $0]) }.joined(separator: "\t") + "\n"
            }
            try context.writeOutput("\(stem)_desc-roi_connectivity.tsv", Array(out.utf8))
            try context.writeOutput("\(stem)\(Self.centroidsFile)", Array(Self.centroids(atlas, of: present).utf8))
        }
    }

    /// The name ending of the ROI centroids file.
    static let centroidsFile = "_desc-roi_centroids.tsv"

    /// The centre in mm of each label among `present` (the mean grid position of its voxels,
    /// through the grid's affine), as a table `roi x y z`, in the ROI matrix's names.
    static func centroids(_ atlas: AtlasLabels, of present: [Int]) -> String {
        var sums: [Int: (x: Double, y: Double, z: Double, n: Int)] = Dictionary(uniqueKeysWithValues: present.map { ($0, (0, 0, 0, 0)) })
        let nx = atlas.shape[0], ny = atlas.shape[1]
        for (i, label) in atlas.labels.enumerated() where label > 0 {
            guard var s = sums[label] else { continue }
            s.x += Double(i % nx); s.y += Double((i / nx) % ny); s.z += Double(i / (nx * ny)); s.n += 1
            sums[label] = s
        }
        var out = "roi\tx\ty\tz\n"
        for label in present {
            let s = sums[label]!
            let mm = atlas.affine.apply([s.x, s.y, s.z].map { $0 / Double(s.n) })
            out += (atlas.names[label] ?? String(label)) + "\t" + mm.map { String(format: "%.3f", $0) }.joined(separator: "\t") + "\n"
        }
        return out
    }
}
