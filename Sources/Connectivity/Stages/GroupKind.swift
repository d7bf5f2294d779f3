import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `group`: voxelwise group statistics on one seed's Fisher z maps at one session, with
/// permutation inference (max-T, cluster mass and TFCE family-wise error), FDR, a cluster table,
/// the significant clusters as a label map, and per-subject values in each of them.
///
/// Reads a `connectivity` stage (`from[0]`, every scan) and the participants table (`participants`,
/// or the `participants.tsv` of a `synth_cohort` stage in `from`). Parameters:
/// - `seed` (required), `session` (required when the cohort has sessions);
/// - `include`: participants filters, e.g. `{"group": ["anxious"]}`;
/// - `group`, `covariates`, `interactions`: the design (see `GroupDesign`); covariates demeaned;
/// - `contrasts`: readable expressions, e.g. `["responder > nonresponder"]`;
/// - the inference parameters of `InferenceSettings` (permutations, TFCE, cluster threshold,
///   mask, resampling, atlas, F-tests, GRF).
///
/// Outputs (see `VoxelwiseInference`) are prefixed `group_seed-<s>_ses-<s>`, plus
/// `<prefix>_summary.json`, which also records the design and subjects so that an `roi` stage can
/// redefine a cluster without a held-out subject.
public struct GroupKind: StageKind {
    public init() {}

    public var name: String { "group" }
    /// 5: the cluster FWE map holds −log10 p again (version 3–4 wrote p). 4: permutation F-tests;
    /// the rewritten exact TFCE. 3: significant clusters as a label map; the summary records the design.
    public var version: Int { 5 }
    public var fanOut: FanOut { .group }
    public var upstreamCount: ClosedRange<Int> { 1...2 }

    public func readParameters(_ params: ParameterReader) {
        params.string("seed")
        params.string("session", default: "")
        params.string("participants", default: "")
        StageInputs.declareInclude(params)
        params.string("group", default: "")
        params.strings("covariates", default: [])
        params.strings("interactions", default: [])
        let contrasts = params.strings("contrasts")
        if contrasts.isEmpty { params.report("contrasts", "expected at least one contrast") }
        InferenceSettings.declare(params)
    }

    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] {
        InferenceSettings.sources(params)
    }

    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { 2 << 30 }

    public func run(_ context: TaskContext) throws {
        let p = context.params
        let seed = p["seed"]?.stringValue ?? "", session = p["session"]?.stringValue ?? ""
        let table = try StageInputs.participants(context, stage: "group")
        let urls = try StageInputs.zMaps(context, seed: seed, session: session)
        let subjects = try StageInputs.filter(urls.keys.sorted(), include: p["include"], table: table)
        guard subjects.count >= 3 else {
            throw InputError(path: table.path, "only \(subjects.count) subjects left for seed \(seed)\(session.isEmpty ? "" : " session \(session)") after filtering")
        }
        try context.checkCancellation()
        let settings = InferenceSettings(p)
        let maps = try GroupMaps.load([subjects.map { urls[$0]! }], coverage: settings.coverage, resampling: settings.resampling)
        let spec = Self.designSpec(p)
        let design = try GroupDesign(spec, subjects: subjects, table: table)
        let prefix = "group_seed-\(seed)\(session.isEmpty ? "" : "_ses-\(session)")"
        let inference = VoxelwiseInference(maps: maps, y: maps.sets[0], design: design, table: table, settings: settings,
                                           atlas: try StageInputs.atlas(context), context: context, prefix: prefix)
        let result = try inference.run(contrasts: p["contrasts"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        try context.writeOutput("\(prefix)_summary.json", try summaryJSON([
            "seed": seed, "session": session, "subjects": subjects, "filled_values": maps.filled,
            "design": ["group": spec.group ?? NSNull(), "covariates": spec.covariates, "interactions": spec.interactions] as [String: Any],
            "cluster_p": settings.clusterP, "mask_coverage": settings.coverage, "resample": settings.resampling.rawValue, "two_sided": settings.twoSided, "connectivity": settings.connectivity.rawValue,
            "contrasts": result.contrasts, "f_tests": result.fTests, "grf": result.grf,
        ]))
    }

    /// The design parameters `group`, `covariates` and `interactions`.
    static func designSpec(_ p: JSONValue) -> GroupDesign.Spec {
        GroupDesign.Spec(group: (p["group"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 },
                         covariates: p["covariates"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                         interactions: p["interactions"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
