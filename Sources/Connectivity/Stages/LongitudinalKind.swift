import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `longitudinal`: voxelwise pre/post contrasts of one seed's Fisher z maps.
///
/// Each subject's maps at the `pre` and `post` sessions are paired and the change post − pre is
/// tested, with the same inference options and outputs as `group` (see `VoxelwiseInference`):
/// - `paired`: the mean change within each listed level of the `group` column (e.g.
///   `["responder"]`), or `["all"]` for every selected subject: a one-sample test on the
///   differences, so permutation is by sign flipping. Outputs `..._group-<level>_contrast-postMinuspre`.
/// - `contrasts`: group × time interactions, tested as group differences of the change (a
///   two-sample test on the differences), e.g. `"responder > nonresponder"`: responders' change
///   is larger (more positive) than non-responders'. Needs `group`.
/// - `covariates`: numeric columns added to every model (demeaned).
///
/// A subject with only one of the two sessions (see `cohort.missing_scans`) is listed in the
/// summary and excluded; with `"missing_session": "error"` it is an error instead.
///
/// The maps come from a `connectivity` stage (`from[0]`), or from a table of maps made elsewhere
/// (`maps`, see `MapsTable`: each subject's rows at `pre` and `post`, by its `session` column).
///
/// Other parameters: `seed` (required without `maps`), `pre`, `post` (required), `include`,
/// `participants`, and the inference parameters of `InferenceSettings`. Outputs are prefixed
/// `longitudinal_seed-<s>_ses-<post>Minus<pre>` (with `maps` and no `seed`,
/// `longitudinal_maps-<table name>_...`), plus `<prefix>_summary.json` (`LongitudinalSummary`).
public struct LongitudinalKind: TypedStageKind {
    public init() {}

    public var name: String { "longitudinal" }
    /// 10: the summary lists the runs each subject's maps average (`runs`).
    /// 9: a subject's runs at each session are averaged (before, the last run's map was read), and
    /// QC exclusions apply per run. 8: the TFCE null maxima are summed from each peak down rather
    /// than from the root up (they move in the last bits). 7: Float32 permutation products with fused multiply-adds (null values move in the last
    /// Float32 bit). 6: `desc-roi.tsv` adds each subject's pre and post mean in every significant cluster
    /// (`cluster<k>_<session>`). 5: statistical maps end in the BIDS suffix `_statmap`. 4: maps carry NIfTI intent codes
    /// and the input maps' coordinate-system code. 3: the cluster
    /// FWE map holds −log10 p (version 1–2 wrote p). 2: permutation F-tests, the
    /// rewritten exact TFCE.
    public var version: Int { 10 }
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
        var pre: String
        var post: String
        var participants: String
        var include: [String: [String]]
        /// "" for none.
        var group: String
        var covariates: [String]
        var paired: [String]
        var contrasts: [String]
        /// Fail instead of excluding a subject with one of the two sessions.
        var missingSessionIsError: Bool
        var inference: InferenceSettings
    }

    public func parameters(_ params: ParameterReader) -> Parameters {
        let selection = StageInputs.Selection.read(params)
        let pre = params.string("pre"), post = params.string("post")
        if !pre.isEmpty && pre == post { params.report("post", "must differ from pre") }
        let group = params.string("group", default: "")
        let covariates = params.strings("covariates", default: [])
        let paired = params.strings("paired", default: [])
        let contrasts = params.strings("contrasts", default: [])
        if paired.isEmpty && contrasts.isEmpty {
            params.report("paired", "expected paired tests (e.g. [\"all\"] or [\"responder\"]) or group x time contrasts")
        }
        if !contrasts.isEmpty && group.isEmpty { params.report("group", "group x time contrasts need a group column") }
        if paired.contains(where: { $0 != "all" }) && group.isEmpty {
            params.report("group", "paired tests within a level need the group column")
        }
        let missing = params.string("missing_session", default: "exclude")
        if !["exclude", "error"].contains(missing) { params.report("missing_session", "expected exclude or error") }
        return Parameters(seed: selection.seed, maps: selection.maps, pre: pre, post: post, participants: selection.participants,
                          include: selection.include, group: group,
                          covariates: covariates, paired: paired, contrasts: contrasts, missingSessionIsError: missing == "error",
                          inference: InferenceSettings.read(params))
    }

    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        p.inference.sources(participants: p.participants)
    }

    /// With `maps`, also one source per map at `pre` and `post` (see `MapsTable.sources`).
    public func sources(_ p: Parameters, scope: Scope, directory: URL) throws -> [String: String] {
        var out = try sources(p, scope: scope)
        if !p.maps.isEmpty { out.merge(try MapsTable.sources(p.maps, sessions: [p.pre, p.post], directory: directory)) { a, _ in a } }
        return out
    }

    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { 2 << 30 }
    public func workEstimate(_ p: Parameters, scope: Scope) -> Double { p.inference.work(tests: p.paired.count + p.contrasts.count) }

    public func methods(stage: StageSpec) -> MethodsText? {
        let p = typed(stage)
        var text = "The change from \(p.pre) to \(p.post) (\(p.post) − \(p.pre)) was tested voxelwise"
        if !p.paired.isEmpty { text += "; paired tests within " + p.paired.map { $0 == "all" ? "all subjects" : "\(p.group) = \($0)" }.joined(separator: ", ") + " (sign flipping)" }
        if !p.contrasts.isEmpty { text += "; group × time as differences of the change: " + p.contrasts.joined(separator: ", ") }
        return MethodsText(text + ". " + MethodsReferences.inference(p.inference, signFlipping: p.contrasts.isEmpty),
                           references: [MethodsReferences.winkler] + (p.inference.tfce ? [MethodsReferences.tfce] : []) + [MethodsReferences.fdr])
    }

    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        let names = GroupLevelCheck(stage: stage, study: study, participants: p.participants, include: p.include)
        names.mapsSource(maps: p.maps, seed: p.seed, sessions: [(p.pre, "pre"), (p.post, "post")])
        names.everySubjectInTable(read: [p.pre, p.post])
        AtlasNames.checkFiles(atlas: p.inference.atlas, table: p.inference.atlasLabels, stage: stage, study: study)
        // A subject with one of the two sessions is left out (or, with missing_session: error, named).
        if p.maps.isEmpty { names.sessions = [p.pre, p.post] }
        names.grids(resampling: p.inference.resampling, maps: p.maps)
        let group = p.group.isEmpty ? nil : p.group
        let none = names.noSubjects(at: p.include.isEmpty ? "pre" : "include")
        names.design(GroupDesign.Spec(group: group, covariates: p.covariates), contrasts: p.contrasts, what: "the group × time design", fit: !none)
        if let group { names.levels(p.paired.filter { $0 != "all" }, of: group, at: "paired") }
        // With missing_session: error, a subject the stage includes with a scan at only one of the
        // two sessions would stop it after every scan was processed: named now (a maps table's
        // subjects are left to run time).
        let cohortSessions = study.spec.cohort.sessions.compactMap { $0 }
        if p.missingSessionIsError, p.maps.isEmpty, let selected = names.selected, !names.includeProblem,
           cohortSessions.contains(p.pre), cohortSessions.contains(p.post) {
            let cohort = study.spec.cohort
            let included = Set(selected)
            var lacking: [String] = []
            for s in cohort.subjects where included.contains(s) {
                let held = Set(cohort.scans(of: s).compactMap(\.session))
                if held.contains(p.pre) != held.contains(p.post) { lacking.append("sub-\(s) has no \(held.contains(p.pre) ? p.post : p.pre) scan") }
            }
            if !lacking.isEmpty {
                study.report(stage, "missing_session", "is error, and " + lacking.listed()
                             + "; add the scans, or set \"missing_session\": \"exclude\" to leave such subjects out")
            }
        }
        // Each paired test: at least 3 subjects with both sessions, and its covariates estimable.
        // Without candidates (a mistake in a session or include, reported above) there is nothing to count.
        if let table = names.table, let candidates = names.candidates, !candidates.isEmpty {
            for (i, level) in p.paired.enumerated() {
                let inLevel = { (s: String) in level == "all" || (try? table.value(s, group ?? "")) == level }
                let n = candidates.filter(inLevel).count
                if n < 3 {
                    // A level no included subject holds is reported by `levels` above.
                    if level == "all" || group.flatMap({ names.levels(of: $0) })?.contains(level) == true {
                        study.report(stage, "paired[\(i)]", "\(level == "all" ? "the stage" : "level '\(level)'") has \(n) subject\(n == 1 ? "" : "s") with a scan at both "
                                     + "\(p.pre) and \(p.post); a paired test needs 3")
                    }
                } else if !p.covariates.isEmpty {
                    names.fits(GroupDesign.Spec(covariates: p.covariates), subset: inLevel, among: level == "all" ? "" : "of level '\(level)' ",
                               at: "covariates", what: "the paired test")
                }
            }
        }
        names.fTests(p.inference.fTests)
    }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
        let seed = p.seed, pre = p.pre, post = p.post
        let table = try StageInputs.participants(context, stage: "longitudinal")
        let preMaps = try StageInputs.maps(context, table: p.maps, seed: seed, session: pre)
        let postMaps = try StageInputs.maps(context, table: p.maps, seed: seed, session: post)
        let everyone = try StageInputs.filter(Set(preMaps.keys).union(postMaps.keys).sorted(), include: p.include, table: table)
        let incomplete = everyone.filter { preMaps[$0] == nil || postMaps[$0] == nil }
        if !incomplete.isEmpty && p.missingSessionIsError {
            throw InputError(path: "stage longitudinal", field: "missing_session",
                             "\(incomplete.map { "sub-\($0) has no \(preMaps[$0] == nil ? pre : post) \(p.maps.isEmpty ? "scan" : "map")" }.joined(separator: "; "))")
        }
        for s in incomplete { context.log("excluded sub-\(s): only one of sessions \(pre), \(post)") }
        // A run the qc stage excluded is dropped; so is a subject left with no run at either session.
        let selection = try QCExclusions.select(context, subjects: everyone.filter { preMaps[$0] != nil && postMaps[$0] != nil },
                                                sessions: [(pre, preMaps), (post, postMaps)])
        let subjects = selection.subjects, excluded = selection.excluded
        let settings = p.inference
        let maps = try GroupMaps.load(selection.runs, coverage: settings.coverage, resampling: settings.resampling)
        var change = maps.sets[1]
        for i in 0..<change.data.count { change.data[i] -= maps.sets[0].data[i] }
        let atlas = try StageInputs.atlas(context)
        let group = p.group.isEmpty ? nil : p.group
        let covariates = p.covariates
        let stem = "longitudinal_\(StageInputs.outputEntity(seed: seed, maps: p.maps))_ses-\(post)Minus\(pre)"

        // Every model is built before the first permutation: a level that QC left with too few
        // subjects, or a design that cannot be fitted, stops the stage now, not after the tests
        // before it.
        var pairedModels: [(level: String, rows: [Int], design: GroupDesign)] = []
        for level in p.paired {
            let rows = try subjects.indices.filter { try level == "all" || table.value(subjects[$0], group ?? "") == level }
            guard rows.count >= 3 else {
                throw QCExclusions.explain(InputError(path: table.path, field: group ?? "paired",
                                                      "level '\(level)' has \(rows.count) subjects with both sessions; a paired test needs 3"), excluded: excluded)
            }
            do { pairedModels.append((level, rows, try GroupDesign(.init(covariates: covariates), subjects: rows.map { subjects[$0] }, table: table))) }
            catch { throw QCExclusions.explain(error, excluded: excluded) }
        }
        let contrasts = p.contrasts
        var interactionDesign: GroupDesign?
        if !contrasts.isEmpty {
            do {
                let design = try GroupDesign(.init(group: group, covariates: covariates), subjects: subjects, table: table)
                for c in contrasts { _ = try design.contrast(c) }
                interactionDesign = design
            } catch { throw QCExclusions.explain(error, excluded: excluded) }
        }

        var paired: [ContrastSummary] = []
        for (level, rows, design) in pairedModels {
            try context.checkCancellation()
            var pairedSettings = settings
            pairedSettings.fTests = []  // F-tests name group x time contrasts; the paired model has none
            let inference = VoxelwiseInference(maps: maps, y: change.selectingRows(rows), design: design, table: table, settings: pairedSettings,
                                               atlas: atlas, context: context, prefix: "\(stem)_group-\(BIDSNames.label(level))",
                                               sessions: [(pre, maps.sets[0].selectingRows(rows)), (post, maps.sets[1].selectingRows(rows))])
            var result = try inference.run(contrasts: ["mean"]).contrasts[0]
            result.group = level
            result.test = "paired: mean of \(post) - \(pre) (sign flipping)"
            paired.append(result)
        }
        var interactions: [ContrastSummary] = []
        if let design = interactionDesign {
            let inference = VoxelwiseInference(maps: maps, y: change, design: design, table: table, settings: settings,
                                               atlas: atlas, context: context, prefix: stem, sessions: [(pre, maps.sets[0]), (post, maps.sets[1])])
            interactions = try inference.run(contrasts: contrasts).contrasts.map {
                var r = $0; r.test = "group x time: \($0.contrast) on \(post) - \(pre)"; return r
            }
        }
        let summary = LongitudinalSummary(
            seed: seed, pre: pre, post: post, subjects: subjects, filledValues: maps.filled,
            excludedOneSession: incomplete.map { .init(participantID: "sub-\($0)", missing: preMaps[$0] == nil ? pre : post) },
            paired: paired, groupByTime: interactions, maps: p.maps.isEmpty ? nil : (p.maps as NSString).lastPathComponent,
            excludedByQC: excluded, runs: selection.averagedRuns)
        let name = "\(stem)_summary.json"
        try context.writeOutput(name, try OutputJSON.encode(summary, name: name))
    }
}
