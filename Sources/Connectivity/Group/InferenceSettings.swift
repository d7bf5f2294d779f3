import Foundation
import Numerics
import PipelineEngine

/// The inference parameters shared by the `group` and `longitudinal` stage kinds.
///
/// - `permutations` (5000), `random_seed` (0), `two_sided` (true);
/// - `cluster_p` (0.001): cluster-forming threshold, converted to t with the model's df;
/// - `connectivity` (6, 18 or 26) for clusters; `tfce` (true): exact TFCE (E 0.5, H 2, 6-connected);
/// - `alpha` (0.05): thresholded maps, FDR, significant clusters;
/// - `mask`: `intersection` (default) or a coverage fraction; `resample`: `none` (default: maps on
///   different grids are an error), `linear` or `nearest` (see `GroupMaps`);
/// - `atlas`, `atlas_labels`: labels for cluster peaks;
/// - `f_tests`: lists of contrasts tested jointly (parametric F, and permutation max-F, cluster
///   mass and TFCE on F);
/// - `grf_z`, `grf_alpha`: parametric GRF cluster inference "as published" (off when `grf_z` is 0).
struct InferenceSettings: Sendable, Equatable {
    var permutations: Int
    var randomSeed: UInt64
    var twoSided: Bool
    var clusterP: Double
    var connectivity: VoxelConnectivity
    var tfce: Bool
    var alpha: Double
    var coverage: Double
    var resampling: GroupMaps.Resampling
    var fTests: [[String]]
    var grfZ: Double
    var grfAlpha: Double

    /// Atlas image and label table naming cluster peaks ("" for none, or an upstream synth atlas).
    var atlas: String
    var atlasLabels: String

    /// Reads and checks the parameters; each default is written here once.
    static func read(_ params: ParameterReader) -> InferenceSettings {
        let mask = params.string("mask", default: "intersection")
        if mask != "intersection", Double(mask).map({ !(0...1).contains($0) }) ?? true {
            params.report("mask", "expected \"intersection\" or a coverage fraction between 0 and 1")
        }
        let resampling = GroupMaps.Resampling.read(params)
        let permutations = params.integer("permutations", default: 5000, range: 0...1_000_000)
        let seed = params.integer("random_seed", default: 0, range: 0...Int(Int32.max))
        let twoSided = params.bool("two_sided", default: true)
        let clusterP = params.number("cluster_p", default: 0.001, range: 1e-12...0.5)
        let connectivity = params.integer("connectivity", default: 6)
        if ![6, 18, 26].contains(connectivity) { params.report("connectivity", "expected 6, 18 or 26") }
        let tfce = params.bool("tfce", default: true)
        let alpha = params.number("alpha", default: 0.05, range: 1e-6...0.5)
        let atlas = params.string("atlas", default: "")
        let atlasLabels = params.string("atlas_labels", default: "")
        let tests = params.value("f_tests")
        if let tests, tests.arrayValue?.allSatisfy({ ($0.arrayValue?.compactMap(\.stringValue).count ?? 0) >= 1 }) != true {
            params.report("f_tests", "expected a list of contrast lists, e.g. [[\"anxious - nonanxious\", \"age\"]]")
        }
        return InferenceSettings(
            permutations: permutations, randomSeed: UInt64(max(0, seed)), twoSided: twoSided, clusterP: clusterP,
            connectivity: VoxelConnectivity(rawValue: connectivity) ?? .faces, tfce: tfce, alpha: alpha,
            coverage: Double(mask) ?? 1, resampling: resampling,
            fTests: (tests?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] },
            grfZ: params.number("grf_z", default: 0, range: 0...20), grfAlpha: params.number("grf_alpha", default: 0.05, range: 1e-6...0.5),
            atlas: atlas, atlasLabels: atlasLabels)
    }

    /// Permutation options for a model with `df` residual degrees of freedom.
    func permutationOptions(df: Int) throws -> PermutationOptions {
        var options = PermutationOptions()
        options.permutations = permutations
        options.seed = randomSeed
        options.twoSided = twoSided
        options.clusterConnectivity = connectivity
        options.clusterThreshold = try ClusterAnalysis.tThreshold(p: clusterP, df: Double(df), twoSided: twoSided)
        if tfce { options.tfce = .exact }
        return options
    }

    /// The scheduler's work estimate (``StageKind/workEstimate(stage:scope:)``, in scans' cleaning)
    /// of a task running `tests` contrasts and F-tests: at full scale, a 5,000-permutation TFCE test
    /// took about 17 times a scan's cleaning (33 against 1.9 CPU s), a max-T test about a seventh of
    /// that (`benchmarks/README.md`).
    func work(tests: Int) -> Double {
        Double(tests + fTests.count) * max(1, Double(permutations) / (tfce ? 300 : 2_000))
    }

    /// The source files these parameters name, with the stage's participants table.
    func sources(participants: String) -> [String: String] {
        var out: [String: String] = [:]
        for (key, path) in [("participants", participants), ("atlas", atlas), ("atlas_labels", atlasLabels)] where !path.isEmpty {
            out[key] = path
        }
        return out
    }
}
