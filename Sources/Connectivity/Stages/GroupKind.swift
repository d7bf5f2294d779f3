import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `group`: voxelwise group statistics on one seed's Fisher z maps, with permutation
/// inference (max-T, cluster mass and TFCE family-wise error), FDR, a cluster table and
/// per-subject values in each significant cluster.
///
/// Reads a `connectivity` stage (`from[0]`, every scan) and optionally a `synth_cohort` stage
/// (`from[1]`) for `participants.tsv` (else `participants`, a file). Parameters:
/// - `seed` (required), `session` (required when the cohort has sessions);
/// - `include`: participants filters, e.g. `{"group": ["anxious"]}`;
/// - `group`, `covariates`, `interactions`: the design (see `GroupDesign`); covariates demeaned;
/// - `contrasts`: readable expressions, e.g. `["responder > nonresponder"]`;
/// - `mask`: `intersection` (default: voxels every map covers) or a coverage fraction (0.9);
/// - `permutations` (5000), `random_seed` (0), `two_sided` (true), `cluster_p` (0.001),
///   `connectivity` (6, 18 or 26), `tfce` (true), `alpha` (0.05, for thresholded maps and FDR);
/// - `atlas`, `atlas_labels`: label the cluster peaks (from `synth_cohort` when not given);
/// - `f_tests`: lists of contrasts tested jointly, parametric F (permutation F is not offered);
/// - `grf_z`, `grf_alpha`: parametric Gaussian-random-field cluster inference "as published"
///   (DPABI/SPM/FSL style), at a cluster-forming z and cluster alpha; off when `grf_z` is 0.
///   Smoothness is estimated from the GLM residuals (FSL smoothest-style). Labelled as such:
///   it is known to give inflated false positives (Eklund et al. 2016), so it is never the default.
///
/// Outputs per contrast `group_seed-<s>_ses-<s>_contrast-<name>_...`: `stat-{effect,t,z,logp}`,
/// `stat-logpFWE_desc-{maxT,tfce,cluster}` (−log10 FWE p), `stat-z_desc-thresholded` (TFCE FWE <
/// alpha, or max-T without TFCE), `stat-logqFDR`, `desc-clusters.tsv` and `desc-roi.tsv`.
public struct GroupKind: StageKind {
    public init() {}

    public var name: String { "group" }
    /// 2: F-tests and the GRF option; the summary lists them.
    public var version: Int { 2 }
    public var fanOut: FanOut { .group }
    public var upstreamCount: ClosedRange<Int> { 1...2 }

    public func readParameters(_ params: ParameterReader) {
        params.string("seed")
        params.string("session", default: "")
        params.string("participants", default: "")
        if let include = params.value("include"), include.objectValue == nil {
            params.report("include", "expected an object of column: [values]")
        }
        params.string("group", default: "")
        params.strings("covariates", default: [])
        params.strings("interactions", default: [])
        let contrasts = params.strings("contrasts")
        if contrasts.isEmpty { params.report("contrasts", "expected at least one contrast") }
        let mask = params.string("mask", default: "intersection")
        if mask != "intersection", Double(mask).map({ !(0...1).contains($0) }) ?? true {
            params.report("mask", "expected \"intersection\" or a coverage fraction between 0 and 1")
        }
        params.integer("permutations", default: 5000, range: 0...1_000_000)
        params.integer("random_seed", default: 0, range: 0...Int(Int32.max))
        params.bool("two_sided", default: true)
        params.number("cluster_p", default: 0.001, range: 1e-12...0.5)
        let connectivity = params.integer("connectivity", default: 6)
        if ![6, 18, 26].contains(connectivity) { params.report("connectivity", "expected 6, 18 or 26") }
        params.bool("tfce", default: true)
        params.number("alpha", default: 0.05, range: 1e-6...0.5)
        params.string("atlas", default: "")
        params.string("atlas_labels", default: "")
        if let tests = params.value("f_tests"),
           tests.arrayValue?.allSatisfy({ ($0.arrayValue?.compactMap(\.stringValue).count ?? 0) >= 1 }) != true {
            params.report("f_tests", "expected a list of contrast lists, e.g. [[\"anxious - nonanxious\", \"age\"]]")
        }
        params.number("grf_z", default: 0, range: 0...20)
        params.number("grf_alpha", default: 0.05, range: 1e-6...0.5)
    }

    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] {
        var out: [String: String] = [:]
        for key in ["participants", "atlas", "atlas_labels"] {
            if let path = params[key]?.stringValue, !path.isEmpty { out[key] = path }
        }
        return out
    }

    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { 2 << 30 }

    public func run(_ context: TaskContext) throws {
        let p = context.params
        let seed = p["seed"]?.stringValue ?? ""
        let session = p["session"]?.stringValue ?? ""
        let cohortFiles = context.inputs.first { $0.fromIndex == 1 }?.files ?? [:]
        guard let participantsURL = context.sources["participants"] ?? cohortFiles["participants.tsv"] else {
            throw InputError(path: "stage group", field: "participants", "no participants table: set participants, or read a synth_cohort stage")
        }
        let table = try ParticipantsTable.read(participantsURL.path)

        // The maps of this seed and session, one per subject, in subject order.
        var maps: [(subject: String, url: URL)] = []
        for input in context.inputs where input.fromIndex == 0 {
            guard let subject = input.scope.subject else { continue }
            if !session.isEmpty && input.scope.session != session { continue }
            guard let map = input.files.first(where: { $0.key.hasSuffix("_seed-\(seed)_stat-z_connectivity.nii.gz") }) else {
                throw InputError(path: input.scope.label, field: "seed", "no z map for seed '\(seed)' (is it one of the connectivity stage's seeds?)")
            }
            maps.append((subject, map.value))
        }
        // Participants filters.
        if let include = p["include"]?.objectValue {
            maps = try maps.filter { entry in
                try include.allSatisfy { column, allowed in
                    let values = allowed.arrayValue?.compactMap(\.stringValue) ?? [allowed.stringValue ?? ""]
                    return values.contains(try table.value(entry.subject, column) ?? "")
                }
            }
        }
        maps.sort { $0.subject < $1.subject }
        guard maps.count >= 3 else {
            throw InputError(path: participantsURL.path, "only \(maps.count) subjects left for seed \(seed)\(session.isEmpty ? "" : " session \(session)") after filtering")
        }
        try context.checkCancellation()

        // Load maps and build the group mask.
        var images: [[Float]] = []
        var reference: NIfTIImage<Float>?
        for (subject, url) in maps {
            let image = try NIfTIFile.read(url.path)
            if let reference, reference.shape != image.shape || !reference.affine.isClose(to: image.affine, tolerance: 1e-4) {
                throw InputError(path: url.path, "grid \(image.shape) differs from sub-\(maps[0].subject)'s \(reference.shape); resample the maps first")
            }
            if reference == nil { reference = image }
            images.append(image.data)
            _ = subject
        }
        let ref = reference!
        let grid3 = Array(ref.shape.prefix(3)), total = grid3.reduce(1, *)
        let coverage = (p["mask"]?.stringValue).flatMap(Double.init) ?? 1
        var mask = [Bool](repeating: false, count: total)
        for v in 0..<total {
            let covered = images.reduce(0) { $0 + ($1[v] != 0 && $1[v].isFinite ? 1 : 0) }
            mask[v] = Double(covered) >= coverage * Double(images.count) - 1e-9 && covered == images.count
        }
        let voxels = (0..<total).filter { mask[$0] }
        guard !voxels.isEmpty else { throw InputError(path: "stage group", field: "mask", "the maps share no voxel") }
        var y = Matrix(rows: images.count, columns: voxels.count)
        for (i, image) in images.enumerated() { for (n, v) in voxels.enumerated() { y[i, n] = Double(image[v]) } }
        images = []

        let spec = GroupDesign.Spec(group: (p["group"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 },
                                    covariates: p["covariates"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                    interactions: p["interactions"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let design = try GroupDesign(spec, subjects: maps.map(\.subject), table: table)
        let grid = MaskGrid(nx: grid3[0], ny: grid3[1], nz: grid3[2], mask: mask)
        let alpha = p["alpha"]?.numberValue ?? 0.05
        let affine16 = ref.affine.m
        let atlas = try (context.sources["atlas"] ?? cohortFiles["atlas.nii.gz"]).map {
            try AtlasLabels.read(image: $0.path, table: (context.sources["atlas_labels"] ?? cohortFiles["atlas.tsv"])?.path)
        }
        let atlasOnGrid = atlas?.resampled(to: grid3, affine: ref.affine)
        var summary: [[String: Any]] = []
        /// Writes one value per in-mask voxel as a float32 map on the data grid.
        func writeMap(_ values: [Double], _ name: String) throws {
            var full = [Float](repeating: 0, count: total)
            for (n, v) in voxels.enumerated() { full[v] = Float(values[n]) }
            try NIfTIFile.write(NIfTIImage(shape: grid3, affine: ref.affine, data: full),
                                to: context.outputDirectory.appendingPathComponent("\(name).nii.gz").path)
        }

        // One fit serves every contrast, F-test and the GRF residuals.
        let fit = try GLMFit(design: design.matrix, data: y)
        for expression in p["contrasts"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            try context.checkCancellation()
            let weights = try design.contrast(expression)
            let maps = try fit.tContrast(weights)
            var options = PermutationOptions()
            options.permutations = p["permutations"]?.intValue ?? 5000
            options.seed = UInt64(p["random_seed"]?.intValue ?? 0)
            options.twoSided = p["two_sided"]?.boolValue ?? true
            options.clusterConnectivity = VoxelConnectivity(rawValue: p["connectivity"]?.intValue ?? 6) ?? .faces
            options.clusterThreshold = try ClusterAnalysis.tThreshold(p: p["cluster_p"]?.numberValue ?? 0.001, df: Double(maps.df),
                                                                      twoSided: options.twoSided)
            if p["tfce"]?.boolValue ?? true { options.tfce = .exact }
            let partition = try ContrastPartition(design: design.matrix, contrast: weights)
            let result = try PermutationTest.run(tested: partition.tested, confounds: partition.confounds, data: y, grid: grid,
                                                 options: partition.options(from: options))
            let stem = "group_seed-\(seed)\(session.isEmpty ? "" : "_ses-\(session)")_contrast-\(Self.label(expression))"
            func write(_ values: [Double], _ suffix: String) throws { try writeMap(values, "\(stem)_\(suffix)") }
            let z = maps.z
            try write(maps.estimate, "stat-effect")
            try write(maps.t, "stat-t")
            try write(z, "stat-z")
            try write(maps.negLog10P, "stat-logp")
            let logp = { (ps: [Double]) in ps.map { -log10(max($0, 1e-300)) } }
            try write(logp(result.maxTFWEP), "stat-logpFWE_desc-maxT")
            var clusterP = [Double](repeating: 1, count: voxels.count)
            let labeling = ClusterAnalysis.label(map: result.t, graph: grid.neighborGraph(options.clusterConnectivity),
                                                 threshold: options.clusterThreshold!, twoSided: options.twoSided)
            var clusterFWE: [Double] = []
            if let null = result.nullMaxClusterMass {
                clusterFWE = ClusterAnalysis.fweP(labeling.masses, null: null, exhaustive: result.exhaustive)
                for n in 0..<voxels.count where labeling.labels[n] > 0 { clusterP[n] = clusterFWE[Int(labeling.labels[n]) - 1] }
                try write(logp(clusterP), "stat-logpFWE_desc-cluster")
            }
            let primary = result.tfceFWEP ?? result.maxTFWEP
            if let tfceP = result.tfceFWEP { try write(logp(tfceP), "stat-logpFWE_desc-tfce") }
            try write(zip(z, primary).map { $1 < alpha ? $0 : 0 }, "stat-z_desc-thresholded")
            try write(BenjaminiHochberg.qValues(maps.negLog10P.map { pow(10, -$0) }).map { -log10(max($0, 1e-300)) }, "stat-logqFDR")

            // Cluster table (nilearn conventions) with cluster-mass FWE p and atlas labels.
            let rows = ClusterTable.make(map: result.t, grid: grid, affine: affine16, threshold: options.clusterThreshold!,
                                         twoSided: options.twoSided)
            var tsv = "cluster_id\tx\ty\tz\tpeak_t\tpeak_z\tsize_voxels\tsize_mm3\tcenter_x\tcenter_y\tcenter_z\tp_fwe_cluster_mass\tlabel\n"
            for row in rows {
                let world = [row.x, row.y, row.z]
                let ijk = ref.affine.inverse!.apply(world).map { Int($0.rounded()) }
                let v = ijk[0] + grid3[0] * (ijk[1] + grid3[1] * ijk[2])
                let n = voxels.firstIndex(of: v)
                let clusterIndex = n.map { Int(labeling.labels[$0]) } ?? 0
                let pFWE = clusterIndex > 0 && !clusterFWE.isEmpty ? clusterFWE[clusterIndex - 1] : .nan
                let label = atlasOnGrid.map { $0[v] }.flatMap { $0 > 0 ? atlas?.names[$0] ?? String($0) : nil } ?? ""
                let com = row.centerOfMass
                tsv += [row.id, fmt(row.x), fmt(row.y), fmt(row.z), fmt(row.peakStat), fmt(ZScore.fromT(row.peakStat, df: Double(maps.df))),
                        row.clusterSizeVoxels.map(String.init) ?? "", row.clusterSizeMM3.map(String.init) ?? "",
                        com.map { fmt($0.x) } ?? "", com.map { fmt($0.y) } ?? "", com.map { fmt($0.z) } ?? "",
                        pFWE.isNaN ? "" : fmt(pFWE), label].joined(separator: "\t") + "\n"
            }
            try context.writeOutput("\(stem)_desc-clusters.tsv", Array(tsv.utf8))

            // Per-subject mean z in each significant cluster (cluster-mass FWE < alpha), joined with participants.
            let significant = (0..<labeling.count).filter { !clusterFWE.isEmpty && clusterFWE[$0] < alpha }
            var roi = (["participant_id"] + table.columns.filter { $0 != "participant_id" } + significant.map { "cluster\($0 + 1)" }).joined(separator: "\t") + "\n"
            for (i, subject) in design.subjects.enumerated() {
                var cells = ["sub-\(subject)"] + table.columns.filter { $0 != "participant_id" }.map { (try? table.value(subject, $0)) ?? nil ?? "n/a" }
                for k in significant {
                    let members = (0..<voxels.count).filter { labeling.labels[$0] == Int32(k + 1) }
                    cells.append(fmt(members.reduce(0.0) { $0 + y[i, $1] } / Double(members.count)))
                }
                roi += cells.joined(separator: "\t") + "\n"
            }
            try context.writeOutput("\(stem)_desc-roi.tsv", Array(roi.utf8))

            summary.append([
                "contrast": expression, "weights": weights, "columns": design.columnNames, "subjects": design.subjects.count,
                "df": maps.df, "voxels": voxels.count, "permutations": result.nullCount, "exhaustive": result.exhaustive,
                "max_abs_t": result.t.map(abs).max() ?? 0, "min_p_fwe_maxT": result.maxTFWEP.min() ?? 1,
                "min_p_fwe_tfce": result.tfceFWEP?.min() ?? NSNull(), "min_p_fwe_cluster": clusterFWE.min() ?? NSNull(),
                "significant_voxels_tfce": result.tfceFWEP.map { $0.filter { $0 < alpha }.count } ?? NSNull(),
                "significant_voxels_maxT": result.maxTFWEP.filter { $0 < alpha }.count, "clusters": labeling.count,
                "significant_clusters": significant.count,
            ])
            context.log("\(expression): max |t| \(fmt(result.t.map(abs).max() ?? 0)), \(significant.count) significant clusters")
        }
        var fSummary: [[String: Any]] = []
        for (index, expressions) in (p["f_tests"]?.arrayValue ?? []).enumerated() {
            let rows = try (expressions.arrayValue ?? []).compactMap(\.stringValue).map { try design.contrast($0) }
            let f = try fit.fContrast(Matrix(rows))
            let distribution = FDistribution(dfn: Double(rows.count), dfd: Double(fit.residualDF))
            let stem = "group_seed-\(seed)\(session.isEmpty ? "" : "_ses-\(session)")_ftest-\(index + 1)"
            try writeMap(f, "\(stem)_stat-F")
            try writeMap(f.map { -distribution.logSF($0) / M_LN10 }, "\(stem)_stat-logp")
            try writeMap(f.map { ZScore.fromF($0, dfn: Double(rows.count), dfd: Double(fit.residualDF)) }, "\(stem)_stat-z")
            fSummary.append(["contrasts": expressions.arrayValue?.compactMap(\.stringValue) ?? [], "dfn": rows.count,
                             "dfd": fit.residualDF, "max_F": f.max() ?? 0])
        }
        var grfSummary: [[String: Any]] = []
        if let u = p["grf_z"]?.numberValue, u > 0 {
            // Residuals of the full model, for the smoothness estimate.
            let fitted = design.matrix * fit.betas
            var residuals = y
            for i in 0..<residuals.data.count { residuals.data[i] -= fitted.data[i] }
            let smoothness = try SmoothnessEstimate(residuals: residuals, grid: grid, dof: fit.residualDF)
            let grfAlpha = p["grf_alpha"]?.numberValue ?? 0.05
            for expression in p["contrasts"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                let z = try fit.tContrast(try design.contrast(expression)).z
                let labeling = ClusterAnalysis.label(map: z, graph: grid.neighborGraph(.faces), threshold: u, twoSided: true)
                let pValues = labeling.sizes.map {
                    GaussianRandomFieldClusters.clusterP(size: Double($0), zThreshold: u, searchVolume: Double(voxels.count), dlh: smoothness.dlh)
                }
                let kept = (0..<voxels.count).map { labeling.labels[$0] > 0 && pValues[Int(labeling.labels[$0]) - 1] < grfAlpha ? z[$0] : 0 }
                let stem = "group_seed-\(seed)\(session.isEmpty ? "" : "_ses-\(session)")_contrast-\(Self.label(expression))"
                try writeMap(kept, "\(stem)_stat-z_desc-grfThresholded")
                var tsv = "cluster\tsign\tsize_voxels\tp_grf\n"
                for k in 0..<labeling.count { tsv += "\(k + 1)\t\(labeling.signs[k])\t\(labeling.sizes[k])\t\(fmt(pValues[k]))\n" }
                try context.writeOutput("\(stem)_desc-grfClusters.tsv", Array(tsv.utf8))
                let f = smoothness.fwhmVoxels
                grfSummary.append(["contrast": expression, "z_threshold": u, "alpha": grfAlpha, "fwhm_voxels": [f.x, f.y, f.z],
                                   "resel_size": smoothness.reselSize, "significant_clusters": pValues.filter { $0 < grfAlpha }.count,
                                   "note": "parametric GRF cluster inference, as published (DPABI/SPM style); not FWE-calibrated"])
            }
        }
        let data = try JSONSerialization.data(withJSONObject: ["seed": seed, "session": session, "contrasts": summary,
                                                              "f_tests": fSummary, "grf": grfSummary],
                                              options: [.prettyPrinted, .sortedKeys])
        try context.writeOutput("group_seed-\(seed)\(session.isEmpty ? "" : "_ses-\(session)")_summary.json", Array(data))
    }
}

extension GroupKind {
    /// A contrast expression as a BIDS label: `responder > nonresponder` → `responderGtnonresponder`.
    static func label(_ expression: String) -> String {
        BIDSNames.label(expression.replacingOccurrences(of: ">", with: "Gt").replacingOccurrences(of: "-", with: "Minus"))
    }
}

private func fmt(_ v: Double) -> String { String(format: "%.6g", v) }
