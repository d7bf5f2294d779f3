import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Voxelwise GLM inference on one subjects × voxels matrix, written as a stage's outputs: the
/// part the `group` and `longitudinal` stage kinds share.
///
/// Per contrast, with `stem` = `<prefix>_contrast-<label>`:
/// - `stat-{effect,t,z,logp}`: contrast estimate, t, z (t → p → z without underflow), −log10 p;
/// - `stat-logpFWE_desc-{maxT,cluster,tfce}`: −log10 permutation FWE p;
/// - `stat-z_desc-thresholded`: z where the primary FWE p (TFCE, else max-T) < alpha;
/// - `stat-logqFDR`: −log10 Benjamini–Hochberg q;
/// - `desc-clusters.tsv`: the cluster table (nilearn `get_clusters_table` conventions) with
///   cluster-mass FWE p and atlas labels;
/// - `desc-clusters_dseg.nii.gz`: the significant clusters (cluster-mass FWE p < alpha), numbered
///   1…K by decreasing mass — the regions an `roi` stage can follow up;
/// - `desc-roi.tsv`: per-subject mean of the data in each significant cluster, joined with
///   participants.tsv; with `sessions`, also each session's mean in the cluster
///   (`cluster<k>_<session>`: the pre → post values of a longitudinal test).
/// Per F-test `<prefix>_ftest-<k>`: parametric `stat-{F,logp,z}`; permutation
/// `stat-logpFWE_desc-{maxF,cluster,tfce}` and `stat-F_desc-thresholded` (primary FWE < alpha). With GRF: `stat-z_desc-grfThresholded`
/// and `desc-grfClusters.tsv`. The summaries (`ContrastSummary`, `FTestSummary`, `GRFSummary`)
/// describe all of it.
struct VoxelwiseInference {
    var maps: GroupMaps
    /// subjects × voxels: the data tested (z maps, or post − pre differences).
    var y: Matrix
    var design: GroupDesign
    var table: ParticipantsTable
    var settings: InferenceSettings
    var atlas: AtlasLabels?
    var context: TaskContext
    var prefix: String
    /// Subjects × voxels per session, rows as `y`'s (a longitudinal test's pre and post maps),
    /// whose cluster means `desc-roi.tsv` adds; empty for a one-session test.
    var sessions: [(name: String, data: Matrix)] = []

    func run(contrasts: [String]) throws -> (contrasts: [ContrastSummary], fTests: [FTestSummary], grf: [GRFSummary]) {
        let grid = maps.grid
        let atlasOnGrid = atlas?.resampled(to: maps.shape, affine: maps.affine)
        func atlasLabel(_ v: Int) -> String {
            atlasOnGrid.map { $0[v] }.flatMap { $0 > 0 ? atlas?.names[$0] ?? String($0) : nil } ?? ""
        }
        func write(_ values: [Double], _ name: String, _ intent: MapIntent) throws {
            try maps.write(values, to: context.outputDirectory.appendingPathComponent("\(name).nii.gz").path, intent: intent)
        }
        let fit = try GLMFit(design: design.matrix, data: y)
        // Every contrast and F-test row is read before the first permutation: one naming a level
        // that QC left without subjects stops the stage now, not after the tests before it.
        let allWeights = try contrasts.map { try design.contrast($0) }
        let fRows = try settings.fTests.map { try $0.map { try design.contrast($0) } }
        var summaries: [ContrastSummary] = []
        for (expression, weights) in zip(contrasts, allWeights) {
            try context.checkCancellation()
            let tMaps = try fit.tContrast(weights)
            let options = try settings.permutationOptions(df: tMaps.df)
            let partition = try ContrastPartition(design: design.matrix, contrast: weights)
            let result = try PermutationTest.run(tested: partition.tested, confounds: partition.confounds, data: y, grid: grid,
                                                 options: partition.options(from: options))
            let stem = "\(prefix)_contrast-\(Self.label(expression))"
            let z = tMaps.z
            try write(tMaps.estimate, "\(stem)_stat-effect_statmap", .estimate)
            try write(tMaps.t, "\(stem)_stat-t_statmap", .t(df: Double(tMaps.df)))
            try write(z, "\(stem)_stat-z_statmap", .z)
            try write(tMaps.negLog10P, "\(stem)_stat-logp_statmap", .negativeLog10P)
            try write(logp(result.maxTFWEP), "\(stem)_stat-logpFWE_desc-maxT_statmap", .negativeLog10P)
            let threshold = options.clusterThreshold!
            let labeling = ClusterAnalysis.label(map: result.t, graph: grid.neighborGraph(options.clusterConnectivity),
                                                 threshold: threshold, twoSided: options.twoSided)
            var clusterFWE: [Double] = []
            if let null = result.nullMaxClusterMass {
                clusterFWE = ClusterAnalysis.fweP(labeling.masses, null: null, exhaustive: result.exhaustive)
                try write(logp((0..<maps.voxels.count).map { labeling.labels[$0] > 0 ? clusterFWE[Int(labeling.labels[$0]) - 1] : 1 }),
                          "\(stem)_stat-logpFWE_desc-cluster_statmap", .negativeLog10P)
            }
            if let tfceP = result.tfceFWEP { try write(logp(tfceP), "\(stem)_stat-logpFWE_desc-tfce_statmap", .negativeLog10P) }
            let primary = result.tfceFWEP ?? result.maxTFWEP
            try write(zip(z, primary).map { $1 < settings.alpha ? $0 : 0 }, "\(stem)_stat-z_desc-thresholded_statmap", .z)
            try write(logp(BenjaminiHochberg.qValues(tMaps.negLog10P.map { pow(10, -$0) })), "\(stem)_stat-logqFDR_statmap", .negativeLog10P)

            // Significant clusters by decreasing mass; their map and per-subject means.
            let order = (0..<labeling.count).filter { !clusterFWE.isEmpty && clusterFWE[$0] < settings.alpha }
                .sorted { labeling.masses[$0] > labeling.masses[$1] || (labeling.masses[$0] == labeling.masses[$1] && $0 < $1) }
            var newID = [Int32](repeating: 0, count: labeling.count + 1)
            for (rank, k) in order.enumerated() { newID[k + 1] = Int32(rank + 1) }
            let clusterOf = labeling.labels.map { newID[Int($0)] }
            try write(clusterOf.map(Double.init), "\(stem)_desc-clusters_dseg", .label)
            let clusters = order.enumerated().map { rank, k in
                let v = maps.voxels[labeling.peaks[k]]
                let ijk = [v % maps.shape[0], (v / maps.shape[0]) % maps.shape[1], v / (maps.shape[0] * maps.shape[1])]
                return ClusterSummary(id: rank + 1, sign: labeling.signs[k], sizeVoxels: labeling.sizes[k], mass: labeling.masses[k],
                                      pFWE: clusterFWE[k], peakMNI: maps.affine.apply(ijk.map(Double.init)), peakLabel: atlasLabel(v))
            }
            let table = clusterTable(result.t, df: tMaps.df, threshold: threshold, labeling: labeling, clusterFWE: clusterFWE, label: atlasLabel)
            try context.writeOutput("\(stem)_desc-clusters.tsv", Array(ClusterTableEntry.tsv(table).utf8))
            try context.writeOutput("\(stem)_desc-roi.tsv", Array(roiTable(clusterOf, count: clusters.count).utf8))

            summaries.append(ContrastSummary(
                contrast: expression, weights: weights, columns: design.columnNames, subjects: design.subjects.count,
                df: tMaps.df, voxels: maps.voxels.count, permutations: result.nullCount, exhaustive: result.exhaustive,
                clusterThresholdT: threshold, maxAbsT: result.t.map(abs).max() ?? 0, minPFWEMaxT: result.maxTFWEP.min() ?? 1,
                minPFWETFCE: result.tfceFWEP?.min(), minPFWECluster: clusterFWE.min(),
                significantVoxelsTFCE: result.tfceFWEP.map { $0.filter { $0 < settings.alpha }.count },
                significantVoxelsMaxT: result.maxTFWEP.filter { $0 < settings.alpha }.count, clusters: labeling.count,
                significantClusters: clusters))
            context.log("\(expression): max |t| \(fmt(result.t.map(abs).max() ?? 0)), \(clusters.count) significant clusters")
        }
        return (summaries, try fTests(fit, rows: fRows), try grf(fit, contrasts: contrasts))
    }

    /// The cluster table (nilearn conventions) with cluster-mass FWE p and atlas labels.
    private func clusterTable(_ t: [Double], df: Int, threshold: Double, labeling: ClusterLabeling, clusterFWE: [Double],
                              label: (Int) -> String) -> [ClusterTableEntry] {
        let rows = ClusterTable.make(map: t, grid: maps.grid, affine: maps.affine.m, threshold: threshold, twoSided: settings.twoSided)
        let position = Dictionary(uniqueKeysWithValues: maps.voxels.enumerated().map { ($1, $0) })
        return rows.map { row in
            let ijk = maps.affine.inverse!.apply([row.x, row.y, row.z]).map { Int($0.rounded()) }
            let v = ijk[0] + maps.shape[0] * (ijk[1] + maps.shape[1] * ijk[2])
            let k = position[v].map { Int(labeling.labels[$0]) } ?? 0
            return ClusterTableEntry(row: row, peakZ: ZScore.fromT(row.peakStat, df: Double(df)),
                                     pFWEClusterMass: k > 0 && !clusterFWE.isEmpty ? clusterFWE[k - 1] : nil, label: label(v))
        }
    }

    /// Per-subject mean of `y` in each significant cluster, joined with participants.tsv.
    private func roiTable(_ clusterOf: [Int32], count: Int) -> String {
        let columns = table.columns.filter { $0 != "participant_id" }
        var members = [[Int]](repeating: [], count: count)
        for (n, c) in clusterOf.enumerated() where c > 0 { members[Int(c) - 1].append(n) }
        let perSession = (0..<count).flatMap { k in sessions.map { "cluster\(k + 1)_\($0.name)" } }
        var tsv = (["participant_id"] + columns + (0..<count).map { "cluster\($0 + 1)" } + perSession).joined(separator: "\t") + "\n"
        for (i, subject) in design.subjects.enumerated() {
            func mean(_ m: [Int], _ data: Matrix) -> String { fmt(m.reduce(0.0) { $0 + data[i, $1] } / Double(m.count)) }
            let cells = ["sub-\(subject)"] + columns.map { ((try? table.value(subject, $0)) ?? nil) ?? "n/a" }
                + members.map { mean($0, y) } + members.flatMap { m in sessions.map { mean(m, $0.data) } }
            tsv += cells.joined(separator: "\t") + "\n"
        }
        return tsv
    }

    /// F-tests over several contrasts: parametric maps, and permutation inference (Freedman–Lane,
    /// max-F, cluster mass at the F threshold of `cluster_p`, TFCE on F as FSL does).
    /// - Parameter fRows: each F-test's contrast rows, read from `settings.fTests` (in order).
    private func fTests(_ fit: GLMFit, rows fRows: [[[Double]]]) throws -> [FTestSummary] {
        let grid = maps.grid
        return try zip(settings.fTests, fRows).enumerated().map { index, test in
            try context.checkCancellation()
            let (expressions, rows) = test
            let f = try fit.fContrast(Matrix(rows))
            let dfn = Double(rows.count), dfd = Double(fit.residualDF)
            let distribution = FDistribution(dfn: dfn, dfd: dfd)
            let stem = context.outputDirectory.appendingPathComponent("\(prefix)_ftest-\(index + 1)").path
            try maps.write(f, to: "\(stem)_stat-F_statmap.nii.gz", intent: .f(df1: dfn, df2: dfd))
            try maps.write(f.map { -distribution.logSF($0) / M_LN10 }, to: "\(stem)_stat-logp_statmap.nii.gz", intent: .negativeLog10P)
            try maps.write(f.map { ZScore.fromF($0, dfn: dfn, dfd: dfd) }, to: "\(stem)_stat-z_statmap.nii.gz", intent: .z)

            var options = try settings.permutationOptions(df: fit.residualDF)
            options.clusterThreshold = try ClusterAnalysis.fThreshold(p: settings.clusterP, dfn: dfn, dfd: dfd)
            options.modelIntercept = false  // the design holds any intercept
            var summary = FTestSummary(contrasts: expressions, dfn: rows.count, dfd: fit.residualDF, maxF: f.max() ?? 0)
            let result: PermutationFResult
            do {
                result = try PermutationTest.runF(design: design.matrix, contrast: Matrix(rows), data: y, grid: grid, options: options)
            } catch let error as GLMError where error.code == .invalidContrast {
                // e.g. [["anxious", "nonanxious"]]: both group means, which no relabeling changes.
                summary.notPermuted = "not done: \(error.message); parametric maps only"
                return summary
            }
            try maps.write(logp(result.maxFFWEP), to: "\(stem)_stat-logpFWE_desc-maxF_statmap.nii.gz", intent: .negativeLog10P)
            var clusterP: Double? = nil
            if let null = result.nullMaxClusterMass {
                let labeling = ClusterAnalysis.label(map: result.f, graph: grid.neighborGraph(settings.connectivity),
                                                     threshold: options.clusterThreshold!, twoSided: false)
                let fwe = ClusterAnalysis.fweP(labeling.masses, null: null, exhaustive: result.exhaustive)
                clusterP = fwe.min()
                try maps.write(logp((0..<maps.voxels.count).map { labeling.labels[$0] > 0 ? fwe[Int(labeling.labels[$0]) - 1] : 1 }),
                               to: "\(stem)_stat-logpFWE_desc-cluster_statmap.nii.gz", intent: .negativeLog10P)
            }
            if let tfceP = result.tfceFWEP { try maps.write(logp(tfceP), to: "\(stem)_stat-logpFWE_desc-tfce_statmap.nii.gz", intent: .negativeLog10P) }
            let primary = result.tfceFWEP ?? result.maxFFWEP
            try maps.write(zip(f, primary).map { $1 < settings.alpha ? $0 : 0 }, to: "\(stem)_stat-F_desc-thresholded_statmap.nii.gz",
                           intent: .f(df1: dfn, df2: dfd))
            summary.permutation = FTestSummary.Permutation(
                permutations: result.nullCount, exhaustive: result.exhaustive, clusterThresholdF: options.clusterThreshold!,
                minPFWEMaxF: result.maxFFWEP.min() ?? 1, minPFWECluster: clusterP, minPFWETFCE: result.tfceFWEP?.min(),
                significantVoxels: primary.filter { $0 < settings.alpha }.count)
            return summary
        }
    }

    /// Parametric GRF cluster inference "as published", smoothness from the model residuals.
    private func grf(_ fit: GLMFit, contrasts: [String]) throws -> [GRFSummary] {
        let u = settings.grfZ
        guard u > 0 else { return [] }
        let fitted = design.matrix * fit.betas
        var residuals = y
        for i in 0..<residuals.data.count { residuals.data[i] -= fitted.data[i] }
        let grid = maps.grid
        let smoothness = try SmoothnessEstimate(residuals: residuals, grid: grid, dof: fit.residualDF)
        return try contrasts.map { expression in
            let z = try fit.tContrast(try design.contrast(expression)).z
            let labeling = ClusterAnalysis.label(map: z, graph: grid.neighborGraph(.faces), threshold: u, twoSided: true)
            let pValues = labeling.sizes.map {
                GaussianRandomFieldClusters.clusterP(size: Double($0), zThreshold: u, searchVolume: Double(maps.voxels.count), dlh: smoothness.dlh)
            }
            let kept = (0..<maps.voxels.count).map { labeling.labels[$0] > 0 && pValues[Int(labeling.labels[$0]) - 1] < settings.grfAlpha ? z[$0] : 0 }
            let stem = "\(prefix)_contrast-\(Self.label(expression))"
            try maps.write(kept, to: context.outputDirectory.appendingPathComponent("\(stem)_stat-z_desc-grfThresholded_statmap.nii.gz").path, intent: .z)
            var tsv = "cluster\tsign\tsize_voxels\tp_grf\n"
            for k in 0..<labeling.count { tsv += "\(k + 1)\t\(labeling.signs[k])\t\(labeling.sizes[k])\t\(fmt(pValues[k]))\n" }
            try context.writeOutput("\(stem)_desc-grfClusters.tsv", Array(tsv.utf8))
            let f = smoothness.fwhmVoxels
            return GRFSummary(contrast: expression, zThreshold: u, alpha: settings.grfAlpha, fwhmVoxels: [f.x, f.y, f.z],
                              reselSize: smoothness.reselSize, significantClusters: pValues.filter { $0 < settings.grfAlpha }.count)
        }
    }

    /// A contrast expression as a BIDS label: `responder > nonresponder` → `responderGtnonresponder`.
    static func label(_ expression: String) -> String {
        BIDSNames.label(expression.replacingOccurrences(of: ">", with: "Gt").replacingOccurrences(of: "-", with: "Minus"))
    }
}

/// −log10 of each p-value (floored at 1e-300), as every `stat-logp…` map stores them.
private func logp(_ ps: [Double]) -> [Double] { ps.map { -log10(max($0, 1e-300)) } }

private func fmt(_ v: Double) -> String { String(format: "%.6g", v) }
