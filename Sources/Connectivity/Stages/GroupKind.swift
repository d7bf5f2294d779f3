import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `group`: voxelwise group statistics on one seed's Fisher z maps at one session, with
/// permutation inference (max-T, cluster mass and TFCE family-wise error), FDR, a cluster table,
/// the significant clusters as a label map, and per-subject values in each of them.
///
/// Reads a `connectivity` stage (`from[0]`, every scan), or maps made elsewhere listed in a table
/// (`maps`, see `MapsTable`; then no upstream stage is needed), and the participants table
/// (`participants`, or the `participants.tsv` of a `synth_cohort` stage in `from`). Parameters:
/// - `seed` (required without `maps`), `session` (required when the cohort, or the maps table,
///   has sessions);
/// - `include`: participants filters, e.g. `{"group": ["anxious"]}`;
/// - `group`, `covariates`, `interactions`: the design (see `GroupDesign`); covariates demeaned;
/// - `contrasts`: readable expressions, e.g. `["responder > nonresponder"]`;
/// - the inference parameters of `InferenceSettings` (permutations, TFCE, cluster threshold,
///   mask, resampling, atlas, F-tests, GRF).
///
/// Outputs (see `VoxelwiseInference`) are prefixed `group_seed-<s>_ses-<s>` (with `maps` and no
/// `seed`, `group_maps-<table name>_ses-<s>`), plus
/// `<prefix>_summary.json` (`GroupSummary`), which also records the design and subjects so that an
/// `roi` stage can redefine a cluster without a held-out subject.
public struct GroupKind: TypedStageKind {
    public init() {}

    public var name: String { "group" }
    /// 12: the summary lists the included subjects with no map at the session (`no_map_at_session`).
    /// 11: the summary lists the runs each subject's map averages (`runs`).
    /// 10: a subject's runs at the session are averaged (before, the last run's map was read), and
    /// QC exclusions apply per run. 9: the TFCE null maxima are summed from each peak down rather
    /// than from the root up (they move in the last bits). 8: Float32 permutation products with fused multiply-adds (null values move in the last
    /// Float32 bit). 7: statistical maps end in the BIDS suffix `_statmap`, so BIDS readers find their
    /// sidecars. 6: maps carry NIfTI intent codes (t with df, F with df1/df2, z, estimate, label, named
    /// −log10 p) and the input maps' coordinate-system code. 5: the cluster FWE map holds −log10 p
    /// again (version 3–4 wrote p). 4: permutation F-tests;
    /// the rewritten exact TFCE. 3: significant clusters as a label map; the summary records the design.
    public var version: Int { 12 }
    public var fanOut: FanOut { .group }
    /// Permutation inference parallelises over voxel blocks and permuted maps.
    public var defaultThreads: Int { 4 }
    /// 0 with `maps` (checked at plan time: `GroupLevelCheck.mapsSource`).
    public var upstreamCount: ClosedRange<Int> { 0...3 }

    /// The stage's parameters, read once (see `parameters(_:)`).
    public struct Parameters: Sendable, Equatable {
        /// "" with `maps` and no seed.
        var seed: String
        /// The maps table, "" for the connectivity stage's maps.
        var maps: String
        /// "" when the cohort has no sessions.
        var session: String
        var participants: String
        var include: [String: [String]]
        var design: GroupDesign.Spec
        var contrasts: [String]
        var inference: InferenceSettings
    }

    public func parameters(_ params: ParameterReader) -> Parameters {
        let selection = StageInputs.Selection.read(params)
        let session = params.string("session", default: "")
        let group = params.string("group", default: "")
        let covariates = params.strings("covariates", default: [])
        let interactions = params.strings("interactions", default: [])
        let contrasts = params.strings("contrasts")
        if contrasts.isEmpty { params.report("contrasts", "expected at least one contrast") }
        return Parameters(seed: selection.seed, maps: selection.maps, session: session, participants: selection.participants,
                          include: selection.include,
                          design: GroupDesign.Spec(group: group.isEmpty ? nil : group, covariates: covariates, interactions: interactions),
                          contrasts: contrasts, inference: InferenceSettings.read(params))
    }

    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        p.inference.sources(participants: p.participants)
    }

    /// With `maps`, also one source per map at `session` (see `MapsTable.sources`).
    public func sources(_ p: Parameters, scope: Scope, directory: URL) throws -> [String: String] {
        var out = try sources(p, scope: scope)
        if !p.maps.isEmpty { out.merge(try MapsTable.sources(p.maps, sessions: [p.session], directory: directory)) { a, _ in a } }
        return out
    }

    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { 2 << 30 }
    public func workEstimate(_ p: Parameters, scope: Scope) -> Double { p.inference.work(tests: p.contrasts.count) }

    public func methods(stage: StageSpec) -> MethodsText? {
        let p = typed(stage)
        var design = p.design.group.map { "a cell-means model of \($0)" } ?? "a one-sample model"
        if !p.design.covariates.isEmpty { design += " with the demeaned covariates \(p.design.covariates.joined(separator: ", "))" }
        let what = p.maps.isEmpty ? "Fisher z maps of seed \(p.seed)" : "the maps listed in \(p.maps)"
        return MethodsText("Voxelwise, \(what)\(p.session.isEmpty ? "" : " at session \(p.session)") were fitted with \(design); contrasts: "
                           + p.contrasts.joined(separator: ", ") + ". " + MethodsReferences.inference(p.inference, signFlipping: p.design.group == nil && p.design.covariates.isEmpty),
                           references: [MethodsReferences.freedmanLane, MethodsReferences.winkler] + (p.inference.tfce ? [MethodsReferences.tfce] : []) + [MethodsReferences.fdr])
    }

    /// The stage's subjects as its check sees them: its table, include filters, source of maps
    /// and session, each problem of them reported once however many stages ask (an roi stage's
    /// refit builds this stage's design on them).
    static func subjectCheck(_ p: Parameters, stage: StageSpec, study: StudyCheck) -> GroupLevelCheck {
        study.memo("group subjects: \(stage.name)") {
            let names = GroupLevelCheck(stage: stage, study: study, participants: p.participants, include: p.include)
            names.mapsSource(maps: p.maps, seed: p.seed, sessions: [(p.session, "session")])
            if p.maps.isEmpty && !p.session.isEmpty { names.sessions = [p.session] }
            return names
        }
    }

    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        let names = Self.subjectCheck(p, stage: stage, study: study)
        names.everySubjectInTable(read: [p.session])
        AtlasNames.checkFiles(atlas: p.inference.atlas, table: p.inference.atlasLabels, stage: stage, study: study)
        names.grids(resampling: p.inference.resampling, maps: p.maps)
        // A group test needs 3 subjects; the stage reads at most these (none at all: `noSubjects`,
        // unless a mistake in a session or include, reported above, explains it).
        let key = p.include.isEmpty ? (p.session.isEmpty ? "from" : "session") : "include"
        let none = names.noSubjects(at: key)
        let tooFew = !none && !names.includeProblem && (names.candidates.map { (1...2).contains($0.count) } ?? false)
        if tooFew, let candidates = names.candidates {
            study.report(stage, key,
                         "the stage can read only \(candidates.count) subject\(candidates.count == 1 ? "" : "s") (\(candidates.map { "sub-\($0)" }.joined(separator: ", ")): "
                         + "included\(p.session.isEmpty ? "" : ", with a scan at \(p.session)")); a group test needs 3")
        }
        // Too few subjects is the one problem of their design, not a second.
        names.design(p.design, contrasts: p.contrasts, fit: !tooFew && !none)
        names.fTests(p.inference.fTests)
    }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
        let seed = p.seed, session = p.session
        let table = try StageInputs.participants(context, stage: "group")
        let urls = try StageInputs.maps(context, table: p.maps, seed: seed, session: session)
        let selection = try QCExclusions.select(context, subjects: StageInputs.filter(urls.keys.sorted(), include: p.include, table: table),
                                                sessions: [(session.isEmpty ? nil : session, urls)])
        let subjects = selection.subjects, excluded = selection.excluded
        // Included subjects with a map at another session but none at this one leave the test
        // with a line in the summary and the report, not silently. (A maps table's task holds
        // only its session's rows: the table itself lists who has a map there.)
        var noMap: [String]?
        if !session.isEmpty && p.maps.isEmpty {
            let missing = try StageInputs.includedWithoutMap(context, table: p.maps, seed: seed, read: urls, include: p.include, participants: table)
                .map { "sub-\($0)" }
            if !missing.isEmpty { context.log("no map at session \(session), so not tested: \(missing.joined(separator: ", "))") }
            noMap = missing
        }
        guard subjects.count >= 3 else {
            throw QCExclusions.explain(InputError(path: table.path, "only \(subjects.count) subjects left for \(p.maps.isEmpty ? "seed \(seed)" : "maps \(p.maps)")\(session.isEmpty ? "" : " session \(session)") after filtering"), excluded: excluded)
        }
        try context.checkCancellation()
        let settings = p.inference
        let maps = try GroupMaps.load(selection.runs, coverage: settings.coverage, resampling: settings.resampling)
        let spec = p.design
        let design: GroupDesign
        do { design = try GroupDesign(spec, subjects: subjects, table: table) } catch { throw QCExclusions.explain(error, excluded: excluded) }
        let prefix = "group_\(StageInputs.outputEntity(seed: seed, maps: p.maps))\(session.isEmpty ? "" : "_ses-\(session)")"
        let inference = VoxelwiseInference(maps: maps, y: maps.sets[0], design: design, table: table, settings: settings,
                                           atlas: try StageInputs.atlas(context), context: context, prefix: prefix)
        let result = try inference.run(contrasts: p.contrasts)
        let summary = GroupSummary(
            seed: seed, session: session, subjects: subjects, filledValues: maps.filled, design: GroupSummary.Design(spec),
            clusterP: settings.clusterP, maskCoverage: settings.coverage, resample: settings.resampling, twoSided: settings.twoSided,
            connectivity: settings.connectivity, contrasts: result.contrasts, fTests: result.fTests, grf: result.grf,
            maps: p.maps.isEmpty ? nil : (p.maps as NSString).lastPathComponent, excludedByQC: excluded, noMapAtSession: noMap,
            runs: selection.averagedRuns)
        let name = "\(prefix)_summary.json"
        try context.writeOutput(name, try OutputJSON.encode(summary, name: name))
    }
}
